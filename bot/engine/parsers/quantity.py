"""Finding quantities in a sentence: "about 50", "10-20k", "between 5 and 10", "200+", "under 1,000"."""

from __future__ import annotations

import math
import re
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from enum import StrEnum
from itertools import takewhile
from types import MappingProxyType
from typing import Final, NamedTuple

from bot.engine.parsers.numerals import (
    SCALE_SUFFIXES,
    SCALE_WORDS,
    TENS,
    UNITS,
    is_number_word,
    numeral_value,
    words_value,
)
from bot.engine.parsers.periods import MONTHS


class Kind(StrEnum):
    """What a token is."""

    NUMBER = "number"
    WORD = "word"
    SYMBOL = "symbol"


class Bound(StrEnum):
    """What a quantity says about the true value."""

    EXACT = "exact"  # "50", "about 50"
    RANGE = "range"  # "50-100", "between 50 and 100"
    AT_LEAST = "at_least"  # "50+", "over 50"
    AT_MOST = "at_most"  # "under 50", "up to 50"


class Token(NamedTuple):
    """One word, number or symbol of a folded text, with its character offsets.

    A NamedTuple rather than a frozen dataclass: a text makes dozens and construction cost adds up.
    """

    kind: Kind
    text: str
    start: int
    end: int
    value: float = 0.0
    factor: float = 1.0  # the k/m/million multiplier already applied to `value`


class Quantity(NamedTuple):
    """A number or range found in a text. `first`/`last` index its tokens (with qualifiers), `last` excluded."""

    low: float
    high: float
    bound: Bound
    first: int
    last: int
    start: int
    end: int
    scaled: bool


@dataclass(frozen=True, kw_only=True, slots=True)
class Scan:
    """A tokenized text and the quantities found in it, in text order."""

    tokens: tuple[Token, ...]
    quantities: tuple[Quantity, ...]

    def alone(self, quantity: Quantity, allowed: frozenset[str] = frozenset()) -> bool:
        """Is `quantity` all the text says, apart from punctuation and the `allowed` words?"""
        outside = self.tokens[: quantity.first] + self.tokens[quantity.last :]
        return all(token.text in _PUNCTUATION or token.text in allowed for token in outside)


# No answer names more numbers than this; a text of hundreds of numbers is not read to the end.
MAX_QUANTITIES: Final = 8
_PUNCTUATION: Final = frozenset(".,!?;:()[]\"'*-")
_CURRENCY_SYMBOLS: Final = frozenset("$€£¥₹")
_RAW: Final = re.compile(
    r"(?P<num>\d{1,3}(?: \d{3})+(?:[.,]\d+)?(?![\d.,'])|\d+(?:[.,']\d+)*)"
    r"|(?P<word>[^\W\d_]+(?:['-][^\W\d_]+)*)"
    r"|(?P<sym>\S)"
)
# Digit runs that are phone numbers, dates or times rather than amounts. Thousands grouping
# ("1 000 000", "1.000.000") is told apart afterwards.
# Quantifiers are bounded or possessive, and runs start only where digits start, to keep this linear.
_NOT_AMOUNTS: Final = re.compile(
    r"\+ ?\d[\d ().-]{5,20}\d|\(\d{2,5}\) ?\d[\d .-]{0,20}\d|(?<!\d)\d++(?:[-./ ]\d++){2,}"
    r"|(?<!\d)\d++/\d|(?<!\d)\d{1,2}:\d{2}"
)
# What every _NOT_AMOUNTS run needs: a "+" or "(" before its digits, or a separator between two digits.
_MAYBE_NOT_AMOUNTS: Final = re.compile(r"[+(]|\d[-./ :]\d")
_DECIMAL: Final = re.compile(r"\d+(?:[.,]\d+)?")
_NON_DIGIT: Final = re.compile(r"\D")
_GLUED_WORDS: Final = frozenset({*SCALE_SUFFIXES, "ish"})
_GLUED_NOT_AMOUNT: Final = frozenset({"st", "nd", "rd", "th", "am", "pm"})
_YEAR_CONTEXT: Final = frozenset({"in", "since", "until", "till", "by", "from", "before", "after", "of", "year"})
# Team sizes said without digits ("how many people?" - "just me").
_HEADCOUNTS: Final = MappingProxyType(
    {
        ("just", "me"): 1.0, ("only", "me"): 1.0, ("just", "myself"): 1.0, ("only", "myself"): 1.0,
        ("me", "alone"): 1.0, ("myself", "alone"): 1.0, ("solo",): 1.0, ("me", "myself", "and", "i"): 1.0,
        ("just", "us", "two"): 2.0, ("just", "the", "two", "of", "us"): 2.0,
    }
)  # fmt: skip

_HEADCOUNT_STARTS: Final = frozenset(phrase[0] for phrase in _HEADCOUNTS)
_NUMBER_STARTS: Final = frozenset({*UNITS, *TENS, "a", "an", "half", *_HEADCOUNT_STARTS})


class _Qualifier(StrEnum):
    """What a phrase next to a number says about it ("about", "over", "under", "between")."""

    APPROX = "approx"
    LOWER = "lower"
    UPPER = "upper"
    BETWEEN = "between"


_Phrases = Mapping[str, tuple[tuple[tuple[str, ...], _Qualifier], ...]]


def _index(entries: dict[str, _Qualifier], *, by_last: bool) -> _Phrases:
    """Index qualifier phrases by the word a lookup starts from: the last word before a number, or the first
    after it. Longest phrases come first, so "no more than" wins over "more than"."""
    rows = sorted(
        ((tuple(phrase.split()), qualifier) for phrase, qualifier in entries.items()), key=lambda r: -len(r[0])
    )
    keyed: dict[str, list[tuple[tuple[str, ...], _Qualifier]]] = {}
    for words, qualifier in rows:
        keyed.setdefault(words[-1] if by_last else words[0], []).append((words, qualifier))
    return MappingProxyType({word: tuple(found) for word, found in keyed.items()})


_A, _L, _U, _B = _Qualifier.APPROX, _Qualifier.LOWER, _Qualifier.UPPER, _Qualifier.BETWEEN
_BEFORE: Final = _index(
    {
        "about": _A, "around": _A, "approximately": _A, "approx": _A, "roughly": _A, "circa": _A, "ca": _A,
        "~": _A, "nearly": _A, "almost": _A, "close to": _A, "like": _A, "some": _A, "maybe": _A,
        "probably": _A, "perhaps": _A, "estimated": _A, "est": _A, "give or take": _A, "somewhere around": _A,
        "something like": _A, "just over": _A, "just under": _A, "a bit over": _A, "a little over": _A,
        "more than": _L, "greater than": _L, "at least": _L, "over": _L, "above": _L, "upwards of": _L,
        "minimum": _L, "min": _L, "north of": _L, "in excess of": _L, ">": _L,
        "no more than": _U, "not more than": _U, "less than": _U, "fewer than": _U, "under": _U, "below": _U,
        "up to": _U, "at most": _U, "maximum": _U, "max": _U, "not over": _U, "<": _U,
        "between": _B, "from": _B,
    },
    by_last=True,
)  # fmt: skip
_AFTER: Final = _index(
    {
        "ish": _A, "- ish": _A, "or so": _A, "give or take": _A, "approx": _A, "approximately": _A,
        "+": _L, "plus": _L, "or more": _L, "and up": _L, "and upwards": _L, "or above": _L, "and above": _L,
        "or over": _L, "and over": _L, "at least": _L, "minimum": _L, "min": _L,
        "or less": _U, "or fewer": _U, "or under": _U, "and under": _U, "or below": _U, "and below": _U,
        "at most": _U, "at the most": _U, "tops": _U, "max": _U, "maximum": _U,
    },
    by_last=False,
)  # fmt: skip
_RANGE_SEPARATORS: Final = frozenset({"-", "to", "or", "~", "through", "thru"})


def scan(folded: str) -> Scan:
    """Tokenize a folded text (see cleaning.fold) and find its quantities."""
    tokens = tuple(_merge(_raw_tokens(folded)))
    return Scan(tokens=tokens, quantities=tuple(_quantities(tokens)))


def _raw_tokens(folded: str) -> list[Token]:
    blocked = []
    if _MAYBE_NOT_AMOUNTS.search(folded):
        blocked = [match.span() for match in _NOT_AMOUNTS.finditer(folded) if not _is_amounts(match.group())]
    tokens: list[Token] = []
    for match in _RAW.finditer(folded):
        text, group = match.group(), match.lastgroup
        start, end = match.span()
        if group == "word":
            if "-" in text:
                tokens.extend(_split_number_words(text, start))
            else:
                tokens.append(Token(Kind.WORD, text, start, end))
        elif group == "num":
            amount = not (blocked and any(a < end and start < b for a, b in blocked))
            tokens.append(Token(Kind.NUMBER if amount else Kind.SYMBOL, text, start, end))
        elif text not in _CURRENCY_SYMBOLS:
            tokens.append(Token(Kind.SYMBOL, text, start, end))
    return tokens


def _is_amounts(run: str) -> bool:
    """Is a digit run an amount ("1 000 000", "1.000.000") or a range ("1.5-2.5") rather than a phone/date?"""
    parts = run.split("-")
    if len(parts) == 2:
        return all(_DECIMAL.fullmatch(part) or _is_grouping(part) for part in parts)
    return _is_grouping(run)


def _is_grouping(run: str) -> bool:
    separators = set(_NON_DIGIT.findall(run))
    groups = _NON_DIGIT.split(run)
    return (
        len(separators) == 1
        and separators <= {" ", "."}
        and 1 <= len(groups[0]) <= 3
        and all(len(group) == 3 for group in groups[1:])
    )


def _split_number_words(text: str, start: int) -> Iterator[Token]:
    """Yield "twenty-five" as "twenty" and "five" ("30k-ish" as "k" and "ish"); any other word as it is."""
    parts = text.split("-")
    if len(parts) > 1 and all(is_number_word(part) or part in _GLUED_WORDS for part in parts):
        offset = start
        for part in parts:
            yield Token(kind=Kind.WORD, text=part, start=offset, end=offset + len(part))
            offset += len(part) + 1
    else:
        yield Token(kind=Kind.WORD, text=text, start=start, end=start + len(text))


def _merge(raw: Sequence[Token]) -> Iterator[Token]:
    """Turn digits (with their k/million suffix), number words and "just me" into NUMBER tokens."""
    index = 0
    while index < len(raw):
        token, used = _number_at(raw, index)
        yield token
        index += used


def _number_at(raw: Sequence[Token], index: int) -> tuple[Token, int]:
    token = raw[index]
    if token.kind is Kind.NUMBER:
        return _digits_at(raw, index)
    if token.kind is Kind.WORD and token.text in _NUMBER_STARTS:
        words = tuple(t.text for t in takewhile(lambda t: t.kind is Kind.WORD, raw[index : index + 8]))
        said = _said_number(words)
        if said is not None:
            value, used = said
            last = raw[index + used - 1]
            return Token(kind=Kind.NUMBER, text=token.text, start=token.start, end=last.end, value=value), used
    return token, 1


def _said_number(words: Sequence[str]) -> tuple[float, int] | None:
    if words[0] in _HEADCOUNT_STARTS:
        for phrase, value in _HEADCOUNTS.items():
            if tuple(words[: len(phrase)]) == phrase:
                return value, len(phrase)
    return words_value(words)


def _digits_at(raw: Sequence[Token], index: int) -> tuple[Token, int]:
    """Read digits plus an optional glued suffix ("1.2k") or scale words ("2 million", "5 hundred thousand")."""
    token = raw[index]
    following = raw[index + 1 : index + 3]
    glued = following[0] if following and following[0].start == token.end else None
    if glued is not None and glued.text in _GLUED_NOT_AMOUNT:
        return Token(kind=Kind.SYMBOL, text=token.text, start=token.start, end=token.end), 1
    factor, used = 1.0, 1
    if glued is not None and glued.text in SCALE_SUFFIXES:
        factor, used = float(SCALE_SUFFIXES[glued.text]), 2
    else:
        for word in following:
            if word.text not in SCALE_WORDS:
                break
            factor, used = factor * SCALE_WORDS[word.text], used + 1
    value = numeral_value(token.text.replace(" ", ""), scaled=factor != 1.0)
    if value is None or _is_date_part(raw, index, value, factor):
        return Token(kind=Kind.SYMBOL, text=token.text, start=token.start, end=token.end), 1
    end = raw[index + used - 1].end
    return Token(
        kind=Kind.NUMBER, text=token.text, start=token.start, end=end, value=value * factor, factor=factor
    ), used


def _is_date_part(raw: Sequence[Token], index: int, value: float, factor: float) -> bool:
    """Is this number a day or a year ("march 3", "3 march", "in 2027") rather than an amount?"""
    before = raw[index - 1].text if index > 0 else ""
    after = raw[index + 1].text if index + 1 < len(raw) else ""
    if before in MONTHS or after in MONTHS:
        return True
    is_year = factor == 1.0 and len(raw[index].text) == 4 and 1900 <= value <= 2100
    return is_year and before in _YEAR_CONTEXT


def _quantities(tokens: Sequence[Token]) -> Iterator[Quantity]:
    index = floor = found = 0
    while index < len(tokens) and found < MAX_QUANTITIES:
        if tokens[index].kind is Kind.NUMBER:
            quantity = _quantity_at(tokens, index, floor)
            yield quantity
            index = floor = quantity.last
            found += 1
        else:
            index += 1


def _quantity_at(tokens: Sequence[Token], index: int, floor: int) -> Quantity:
    """The quantity whose number is tokens[index]; its qualifiers may reach back to `floor`, not before."""
    first, qualifiers = _qualifiers_before(tokens, index, floor)
    low_token = tokens[index]
    low = high = low_token.value
    last = index + 1
    bound = Bound.EXACT
    high_token = _range_end(tokens, index, between=_B in qualifiers)
    if high_token is not None:
        low, high = _scaled_range(low_token, high_token)
        bound, last = Bound.RANGE, index + 3
    last, after = _qualifiers_after(tokens, last)
    if bound is Bound.EXACT:
        bound = _bound_of(qualifiers | after)
    scaled = any(token.factor != 1.0 for token in tokens[index:last])
    start, end = tokens[first].start, tokens[last - 1].end
    return Quantity(low=low, high=high, bound=bound, first=first, last=last, start=start, end=end, scaled=scaled)


def _range_end(tokens: Sequence[Token], index: int, *, between: bool) -> Token | None:
    if index + 2 >= len(tokens) or tokens[index + 2].kind is not Kind.NUMBER:
        return None
    separator = tokens[index + 1].text
    if separator in _RANGE_SEPARATORS or (between and separator == "and"):
        low, high = _scaled_range(tokens[index], tokens[index + 2])
        return tokens[index + 2] if low <= high else None
    return None


def _scaled_range(low: Token, high: Token) -> tuple[float, float]:
    """Apply a suffix to both ends ("10-20k" is 10k-20k) unless that breaks low <= high ("500-2k")."""
    if low.factor == 1.0 and high.factor != 1.0 and low.value * high.factor <= high.value:
        return low.value * high.factor, high.value
    return low.value, high.value


def _qualifiers_before(tokens: Sequence[Token], index: int, floor: int) -> tuple[int, frozenset[_Qualifier]]:
    found: set[_Qualifier] = set()
    first = index
    for _ in range(3):
        hit = _phrase_ending_at(tokens, first)
        if hit is None or first - hit[0] < floor:
            break
        length, qualifier = hit
        first -= length
        found.add(qualifier)
    return first, frozenset(found)


def _phrase_ending_at(tokens: Sequence[Token], end: int) -> tuple[int, _Qualifier] | None:
    if end == 0:
        return None
    for phrase, qualifier in _BEFORE.get(tokens[end - 1].text, ()):
        begin = end - len(phrase)
        if begin >= 0 and tuple(token.text for token in tokens[begin:end]) == phrase:
            return len(phrase), qualifier
    return None


def _qualifiers_after(tokens: Sequence[Token], last: int) -> tuple[int, frozenset[_Qualifier]]:
    found: set[_Qualifier] = set()
    for _ in range(2):
        first_word = tokens[last].text if last < len(tokens) else ""
        for phrase, qualifier in _AFTER.get(first_word, ()):
            if tuple(token.text for token in tokens[last : last + len(phrase)]) == phrase:
                found.add(qualifier)
                last += len(phrase)
                break
        else:
            break
    return last, frozenset(found)


def _bound_of(qualifiers: frozenset[_Qualifier]) -> Bound:
    if _L in qualifiers and _U not in qualifiers:
        return Bound.AT_LEAST
    if _U in qualifiers and _L not in qualifiers:
        return Bound.AT_MOST
    return Bound.EXACT


def representative(quantity: Quantity) -> float:
    """The single value a quantity stands for: the number itself, or a range's midpoint.

    A midpoint of whole ends is rounded half up to a whole number ("10-15" is 13); others keep two decimals.
    """
    if quantity.bound is not Bound.RANGE:
        return quantity.low
    middle = (quantity.low + quantity.high) / 2
    if quantity.low.is_integer() and quantity.high.is_integer():
        return float(math.floor(middle + 0.5))
    return round(middle, 2)


def as_value(number: float) -> int | float:
    """An int when `number` is whole (after trimming float noise like 1100.0000000000002), else a float."""
    rounded = round(float(number), 6)
    return int(rounded) if rounded.is_integer() else rounded
