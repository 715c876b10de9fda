"""TEXT answers: anything non-empty, cleaned of invisible characters and capped in length."""

from __future__ import annotations

from typing import Final

from bot.engine.parsers.base import Parsed
from bot.engine.parsers.cleaning import clean

TEXT_ERROR: Final = "Please type your answer."
MAX_TEXT_CHARS: Final = 2000
CONFIDENCE: Final = 0.3  # free text says little about whether it answers the question
# Cleaning is linear, so very long input is cut before it (generously: invisible characters are dropped).
_PRE_CUT: Final = MAX_TEXT_CHARS * 4


def parse_text(text: str) -> Parsed:
    """Accept any non-empty text; the value is the cleaned text, cut to MAX_TEXT_CHARS characters."""
    cleaned = clean(text[:_PRE_CUT])[:MAX_TEXT_CHARS].rstrip()
    if not cleaned:
        return Parsed(ok=False, error=TEXT_ERROR)
    return Parsed(ok=True, value=cleaned, confidence=CONFIDENCE)
