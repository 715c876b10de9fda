"""Input hygiene shared by the parsers."""

from __future__ import annotations

import pytest

from bot.engine.parsers.cleaning import clean, fold, too_long, word_key


@pytest.mark.parametrize(
    ("text", "cleaned"),
    [
        ("  hi  ", "hi"),
        ("a\r\nb\rc", "a\nb\nc"),
        ("a\x00\x07\x1bb", "ab"),
        ("a\u200bb\ufeff", "ab"),
        ("\u202eevil\u202c", "evil"),
        ("e\u0301", "é"),
        ("lone \ud800 surrogate", "lone  surrogate"),
        ("👩‍💻", "👩‍💻"),
    ],
)
def test_clean_drops_invisible_characters(text: str, cleaned: str) -> None:
    assert clean(text) == cleaned


@pytest.mark.parametrize(
    ("text", "folded"),
    [
        ("Ana  María\tLÓPEZ", "ana maria lopez"),
        ("Don’t", "don't"),
        ("50–100", "50-100"),
        ("５０", "50"),
        ("Straße", "strasse"),
        ("1\u00a0000", "1 000"),
    ],
)
def test_fold_makes_a_matching_form(text: str, folded: str) -> None:
    assert fold(text) == folded


@pytest.mark.parametrize(
    ("text", "key"),
    [("I'm the CTO!", "im the cto"), ("decision_maker", "decision maker"), ("e-mail / CRM", "e mail crm"), ("", "")],
)
def test_word_key_keeps_only_words(text: str, key: str) -> None:
    assert word_key(text) == key


def test_too_long() -> None:
    assert not too_long("x" * 500)
    assert too_long("x" * 501)
