"""Cleaning prospect text before anything reads it."""

from __future__ import annotations

import unicodedata

_KEEP = {"\n", "\t"}


def clean_text(raw: str) -> str:
    """Drop control and format characters (keeping newlines and tabs), normalise to NFC and trim."""
    if raw.isprintable():
        return unicodedata.normalize("NFC", raw).strip()
    kept = "".join(ch for ch in raw if ch in _KEEP or unicodedata.category(ch) not in ("Cc", "Cs", "Co"))
    return unicodedata.normalize("NFC", kept).strip()
