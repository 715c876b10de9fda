"""TEXT answers: anything non-empty, cleaned and capped."""

from __future__ import annotations

import pytest

from bot.engine.parsers import QuestionType
from bot.engine.parsers.text import MAX_TEXT_CHARS, TEXT_ERROR
from tests.engine.parsers.support import parse

TEXT = QuestionType.TEXT


@pytest.mark.parametrize(
    ("text", "value"),
    [
        ("We need a CRM", "We need a CRM"),
        ("  padded  ", "padded"),
        ("line one\r\nline two", "line one\nline two"),
        ("zero\u200bwidth", "zerowidth"),
        ("bidi \u202eevil", "bidi evil"),
        ("nul\x00byte", "nulbyte"),
        ("cafe\u0301", "café"),
        ("مرحبا بالعالم", "مرحبا بالعالم"),
        ("👋🏽 hi", "👋🏽 hi"),
        ("<b>bold</b>", "<b>bold</b>"),
        ("'; DROP TABLE leads; --", "'; DROP TABLE leads; --"),
    ],
)
def test_text_is_cleaned_but_kept(text: str, value: str) -> None:
    parsed = parse(TEXT, text)
    assert (parsed.ok, parsed.value, parsed.confidence) == (True, value, 0.3)


@pytest.mark.parametrize("text", ["", "   ", "\n\t", "\x00\x01\x02", "\u200b\ufeff"])
def test_empty_text_is_refused(text: str) -> None:
    parsed = parse(TEXT, text)
    assert (parsed.ok, parsed.error) == (False, TEXT_ERROR)


def test_long_text_is_cut() -> None:
    parsed = parse(TEXT, "word " * 20_000)
    assert parsed.ok
    assert isinstance(parsed.value, str)
    assert len(parsed.value) <= MAX_TEXT_CHARS
    assert parsed.value.startswith("word word")


def test_lone_surrogates_are_dropped_so_the_value_can_be_stored() -> None:
    parsed = parse(TEXT, "ok\ud800")
    assert parsed.value == "ok"
    assert isinstance(parsed.value, str)
    parsed.value.encode("utf-8")
