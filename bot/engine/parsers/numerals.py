"""Reading single numbers: digit groups with separators ("1,200.50") and English number words."""

from __future__ import annotations

import re
from collections.abc import Sequence
from types import MappingProxyType
from typing import Final

# Anything bigger is not an answer to a sales question (and would lose precision as a float).
MAX_MAGNITUDE: Final = 1e15
_MAX_DIGITS: Final = 16

_SEPARATOR: Final = re.compile(r"[.,']")

UNITS: Final = MappingProxyType(
    {
        "zero": 0, "one": 1, "two": 2, "three": 3, "four": 4, "five": 5, "six": 6, "seven": 7,
        "eight": 8, "nine": 9, "ten": 10, "eleven": 11, "twelve": 12, "thirteen": 13, "fourteen": 14,
        "fifteen": 15, "sixteen": 16, "seventeen": 17, "eighteen": 18, "nineteen": 19,
    }
)  # fmt: skip
TENS: Final = MappingProxyType(
    {"twenty": 20, "thirty": 30, "forty": 40, "fifty": 50, "sixty": 60, "seventy": 70, "eighty": 80, "ninety": 90}
)
# Multipliers written as words after a number ("2 million", "five hundred").
SCALE_WORDS: Final = MappingProxyType(
    {
        "hundred": 100, "thousand": 1_000, "grand": 1_000, "lakh": 100_000, "million": 1_000_000,
        "mil": 1_000_000, "mio": 1_000_000, "crore": 10_000_000, "billion": 1_000_000_000,
    }
)  # fmt: skip
# Multipliers written as a suffix glued to digits ("1.2k", "£1.5m", "3bn").
SCALE_SUFFIXES: Final = MappingProxyType(
    {"k": 1_000, "m": 1_000_000, "mm": 1_000_000, "mn": 1_000_000, "b": 1_000_000_000, "bn": 1_000_000_000}
)
_BIG: Final = frozenset({"thousand", "million", "billion"})


def numeral_value(token: str, *, scaled: bool = False) -> float | None:
    """Read a run of digits and separators, or None when it is no well-formed number.

    "1,200" and "1'200" are thousands; "1,5" and "1.5" are decimals; "1.200,50" and "1,200.50" both work.
    A single dot is always a decimal point (English usage); several dots are thousands ("1.000.000").

    Args:
        token: digits with `.`, `,` or `'` between them, as the tokenizer found them.
        scaled: a k/m suffix follows, so a lone `,ddd` is a decimal ("1,500k" is unusual, "1,5k" is not).
    """
    if len(token) > _MAX_DIGITS * 2:
        return None
    groups = _SEPARATOR.split(token)
    seps = _SEPARATOR.findall(token)
    if not seps:
        return float(token) if len(token) <= _MAX_DIGITS else None
    if len(set(seps)) > 1:
        return _mixed(groups, seps)
    sep = seps[0]
    if sep == "'":
        return _grouped(groups)
    if sep == "," and len(seps) == 1 and (len(groups[1]) != 3 or scaled):
        return _decimal(groups[0], groups[1])
    if sep == "." and len(seps) == 1:
        return _decimal(groups[0], groups[1])
    return _grouped(groups)


def _mixed(groups: Sequence[str], seps: Sequence[str]) -> float | None:
    """The last separator is the decimal mark; all earlier ones must be the other kind, grouping by 3."""
    if seps[-1] == "'" or any(sep == seps[-1] for sep in seps[:-1]):
        return None
    whole = _grouped(groups[:-1])
    return None if whole is None else _decimal(str(int(whole)), groups[-1])


def _grouped(groups: Sequence[str]) -> float | None:
    if not 1 <= len(groups[0]) <= 3 or any(len(group) != 3 for group in groups[1:]):
        return None
    digits = "".join(groups)
    return float(digits) if len(digits) <= _MAX_DIGITS else None


def _decimal(whole: str, fraction: str) -> float | None:
    if len(whole) + len(fraction) > _MAX_DIGITS:
        return None
    return float(f"{whole}.{fraction}")


def is_number_word(word: str) -> bool:
    """Is `word` one of the words that can start or continue a written-out number?"""
    return word in UNITS or word in TENS or word in ("hundred", "dozen") or word in _BIG


def words_value(words: Sequence[str]) -> tuple[float, int] | None:
    """Read the longest written-out number at the start of `words`.

    Handles "twenty five", "twenty-five" (pass the parts), "a hundred", "one hundred and twenty",
    "two million", "half a million", "a dozen" and "a couple". "five six" is read as just "five".

    Returns:
        The value and how many words it used, or None when `words` does not start with a number.
    """
    if not words:
        return None
    first = words[0]
    if first == "half" and len(words) > 2 and words[1] in ("a", "an"):  # "half a million", "half a dozen"
        whole = words_value(words[1:])
        return None if whole is None else (whole[0] / 2, whole[1] + 1)
    if first in ("a", "an"):
        if len(words) > 1 and words[1] == "couple":
            return 2.0, 2
        if len(words) > 1 and (words[1] in ("hundred", "dozen") or words[1] in _BIG):
            return _read_words(("one", *words[1:]))  # "a hundred" is "one hundred", word for word
        return None
    return _read_words(words)


def _read_words(words: Sequence[str]) -> tuple[float, int] | None:
    total = 0.0
    current = 0.0
    previous = ""
    used = 0
    for index, word in enumerate(words):
        kind = _word_kind(word)
        if kind is None or not _may_follow(previous, kind):
            break
        if kind in ("unit", "teen", "tens"):
            current += UNITS.get(word, TENS.get(word, 0))
        elif kind == "hundred":
            current = max(current, 1.0) * (12 if word == "dozen" else 100)
        elif kind == "big":
            total += max(current, 1.0) * SCALE_WORDS[word]
            current = 0.0
        previous = kind if kind != "and" else previous
        used = index + 1 if kind != "and" else used
    if used == 0:
        return None
    return total + current, used


def _word_kind(word: str) -> str | None:
    if word == "and":
        return "and"
    if word in UNITS:
        return "unit" if UNITS[word] < 10 else "teen"
    if word in TENS:
        return "tens"
    if word in ("hundred", "dozen"):
        return "hundred"
    if word in _BIG:
        return "big"
    return None


# Which kind of number word may follow which: "twenty" may take "five" but "five" may not take "six".
_FOLLOWS: Final = MappingProxyType(
    {
        "": frozenset({"unit", "teen", "tens"}),
        "unit": frozenset({"hundred", "big"}),
        "teen": frozenset({"hundred", "big"}),
        "tens": frozenset({"unit", "hundred", "big"}),
        "hundred": frozenset({"unit", "teen", "tens", "big", "and"}),
        "big": frozenset({"unit", "teen", "tens", "and"}),
    }
)


def _may_follow(previous: str, kind: str) -> bool:
    return kind in _FOLLOWS[previous]
