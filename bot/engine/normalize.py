"""Text normalisation for matching prospect messages: one canonical spelling, word tokens and clauses."""

from __future__ import annotations

import re
import unicodedata
from types import MappingProxyType
from typing import Final

from bot.engine.lexicon import BARE_CONTRACTIONS, CONTRACTION_ENDINGS, IRREGULAR_CONTRACTIONS, IS_CONTRACTIONS

_QUOTES: Final = str.maketrans(
    {
        "\u2018": "'", "\u2019": "'", "\u201a": "'", "\u201b": "'", "\u2032": "'", "\u02bc": "'",
        "`": "'", "\u00b4": "'",
        "\u201c": '"', "\u201d": '"', "\u201e": '"', "\u201f": '"', "\u2033": '"',
    }
)  # fmt: skip
# Combining accents left by NFD ("é" -> "e" + U+0301): Latin, extended and symbol diacritics.
_ACCENTS: Final = re.compile("[\u0300-\u036f\u1ab0-\u1aff\u1dc0-\u1dff\u20d0-\u20ff\ufe20-\ufe2f]")
# Control and invisible format characters vanish without leaving a word break.
_INVISIBLE: Final = re.compile(
    "[\x00-\x08\x0e-\x1f\x7f-\x84\x86-\x9f\u00ad\u200b-\u200f\u202a-\u202e\u2060-\u2064\ufeff]"
)
# A token is a run of clause marks, or a word: letters and digits plus the characters of amounts,
# e-mail addresses and domains ("$20k", "€5,000", "50%", "+1", "jo@acme.com", "2.5"), and apostrophes
# for the contractions. Every other character (punctuation, emoji, symbols) only separates tokens.
_TOKEN: Final = re.compile(r"[.,;:!?]+|[$€£¥%@+']*\w[\w$€£¥%@+']*(?:(?:\.|(?<=\d),(?=\d))[\w$€£¥%@+']+)*")
_MARKS: Final = frozenset(".,;:!?")
_EXPANSIONS: Final = MappingProxyType(
    {word: tuple(expanded.split()) for word, expanded in {**IRREGULAR_CONTRACTIONS, **BARE_CONTRACTIONS}.items()}
)
_ENDINGS_LONGEST_FIRST: Final = tuple(sorted(CONTRACTION_ENDINGS.items(), key=lambda item: -len(item[0])))


def normalize(text: str) -> str:
    """Return one canonical spelling of `text` for matching.

    NFKC, curly quotes to straight ones, casefold, accents stripped, control characters dropped, emoji
    and symbols turned into word breaks, contractions expanded ("isn't" -> "is not", "cant" ->
    "can not", "we're" -> "we are"), punctuation removed except clause marks (`.,;:!?`) and the
    characters of amounts, addresses and domains (`$€£¥%@+`, dots inside a word), a run of marks
    collapsed to one (a question mark wins) and whitespace collapsed. Idempotent.

    >>> normalize("  We’re NOT   interested!!! 🙅 ")
    'we are not interested!'
    """
    return " ".join(" ".join(words) + mark for words, mark in _segments(text))


def clauses(text: str) -> tuple[tuple[str, ...], ...]:
    """Normalise `text` and split it into clauses of word tokens at clause marks.

    >>> clauses("No thanks, we're good.")
    (('no', 'thanks'), ('we', 'are', 'good'))
    """
    return tuple(tuple(words) for words, _ in _segments(text))


def tokens(text: str) -> tuple[str, ...]:
    """Return the word tokens of normalised `text`, without punctuation.

    >>> tokens("Can't afford it, sorry!")
    ('can', 'not', 'afford', 'it', 'sorry')
    """
    return tuple(word for words, _ in _segments(text) for word in words)


def _segments(text: str) -> list[tuple[list[str], str]]:
    """Normalised clauses: each one's words (contractions expanded) and the mark that ends it, or ""."""
    segments: list[tuple[list[str], str]] = []
    words: list[str] = []
    for token in _TOKEN.findall(_fold(text)):
        if token[0] in _MARKS:
            mark = "?" if "?" in token else token[0]
            if words:
                segments.append((words, mark))
                words = []
            elif segments and mark == "?":  # "?!", "! ?" -> one mark, and a question stays a question
                segments[-1] = (segments[-1][0], mark)
            continue
        expanded = _EXPANSIONS.get(token) if "'" not in token else None  # the common case, inlined
        if expanded is None and "'" not in token:
            words.append(token)
        else:
            words.extend(expanded or _expand(token))
    if words:
        segments.append((words, ""))
    return segments


def _fold(text: str) -> str:
    """Case, compatibility forms, quotes, accents and invisible characters."""
    if text.isascii():
        text = text.lower().replace("`", "'").replace("_", " ")
    else:
        text = unicodedata.normalize("NFKC", text).translate(_QUOTES).casefold().replace("_", " ")
        text = unicodedata.normalize("NFC", _ACCENTS.sub("", unicodedata.normalize("NFD", text)))
    return text if text.isprintable() else _INVISIBLE.sub("", text)


def _expand(token: str) -> tuple[str, ...]:
    """The words a token stands for: "don't" -> ("do", "not"), "dont" -> ("do", "not"), "'" -> ()."""
    word = _expand_apostrophe(token) if "'" in token else token
    return _EXPANSIONS.get(word) or tuple(word.split())


def _expand_apostrophe(word: str) -> str:
    """Expand one token's contraction: "don't" -> "do not", "it's" -> "it is", "o'brien" -> "obrien"."""
    irregular = IRREGULAR_CONTRACTIONS.get(word)
    if irregular is not None:
        return irregular
    for ending, expansion in _ENDINGS_LONGEST_FIRST:
        if word.endswith(ending) and len(word) > len(ending):
            return word[: -len(ending)].replace("'", "") + expansion
    if word.endswith("'s"):  # "it's" -> "it is"; any other "'s" is a possessive ("company's")
        stem = word[:-2].replace("'", "")
        return f"{stem} is" if stem in IS_CONTRACTIONS else stem
    return word.replace("'", "")
