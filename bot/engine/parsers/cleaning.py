"""Input hygiene shared by the parsers: strip invisible characters, fold case and accents, make word keys."""

from __future__ import annotations

import re
import unicodedata
from types import MappingProxyType
from typing import Final

# Structured answers are short; anything longer is a paragraph, not an answer, and is refused cheaply.
MAX_STRUCTURED_CHARS: Final = 500

# C0/C1 controls (except tab and newline), soft hyphen, zero-width space, bidi embeddings/overrides/isolates
# (they can make stored text display differently from what it says), BOM, non-characters and lone
# surrogates (they cannot be encoded as UTF-8, so storage would fail on them).
_INVISIBLE: Final = re.compile(
    "[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\u00ad\u200b\u202a-\u202e\u2066-\u2069\ufeff\ufffe\uffff\ud800-\udfff]"
)
_NEWLINES: Final = re.compile("\r\n?|[\u2028\u2029]")
_NON_WORD: Final = re.compile(r"[^\w]+|_+")
_TYPOGRAPHY: Final = MappingProxyType(
    str.maketrans(
        {
            "\u2018": "'", "\u2019": "'", "\u02bc": "'", "\u2032": "'", "\u00b4": "'",
            "\u201c": '"', "\u201d": '"', "\u201e": '"',
            "\u2010": "-", "\u2011": "-", "\u2012": "-", "\u2013": "-", "\u2014": "-", "\u2212": "-",
        }
    )
)  # fmt: skip


def clean(text: str) -> str:
    """Return `text` in NFC with invisible characters removed, newlines unified and outer space stripped."""
    if text.isascii() and text.isprintable():  # the common case; nothing to remove or compose
        return text.strip()
    text = _INVISIBLE.sub("", _NEWLINES.sub("\n", text))
    return unicodedata.normalize("NFC", text).strip()


def fold(text: str) -> str:
    """Return a matching form of `text`: cleaned, accents removed, case-folded, one space between words.

    Typographic quotes and dashes become their ASCII forms, so `don’t` and `50–100` match like typed ones.
    """
    text = clean(text)
    if not text.isascii():
        decomposed = unicodedata.normalize("NFKD", text.translate(_TYPOGRAPHY))
        text = "".join(char for char in decomposed if not unicodedata.combining(char))
    return " ".join(text.replace("`", "'").casefold().split())


def word_key(text: str) -> str:
    """Return the folded words of `text` joined by single spaces, apostrophes dropped (`I'm` -> `im`)."""
    return key_of_folded(fold(text))


def key_of_folded(folded: str) -> str:
    """word_key for a text that is already folded."""
    return " ".join(_NON_WORD.sub(" ", folded.replace("'", "")).split())


def too_long(text: str) -> bool:
    """Is `text` longer than any structured answer could reasonably be?"""
    return len(text) > MAX_STRUCTURED_CHARS
