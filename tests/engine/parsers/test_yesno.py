"""YES_NO answers: the many ways to say yes and no, and the ways to say neither."""

from __future__ import annotations

import pytest

from bot.engine.parsers import QuestionType
from bot.engine.parsers.yesno import YES_NO_ERROR
from tests.engine.parsers.support import parse

YES_NO = QuestionType.YES_NO


@pytest.mark.parametrize(
    "text",
    [
        "yes", "Yes.", "YES!!!", "y", "Y", "yep", "yup", "yeah", "ya", "yesss", "yeaaah", "sure", "sure thing",
        "of course", "ofc", "definitely", "absolutely", "certainly", "correct", "that's right", "ok", "okay",
        "sounds good", "go ahead", "yes please", "I think so", "we do", "why not", "no problem", "you bet",
        "👍", "👍🏽", "✅", "Sí", "oui", "ja",
    ],
)  # fmt: skip
def test_yes(text: str) -> None:
    parsed = parse(YES_NO, text)
    assert (parsed.ok, parsed.value, parsed.confidence) == (True, True, 1.0)


@pytest.mark.parametrize(
    "text",
    [
        "no", "No.", "NO!", "n", "N", "nope", "nah", "naw", "noooo", "not really", "no thanks", "no thank you",
        "not at all", "never", "absolutely not", "definitely not", "of course not", "not yet", "not now",
        "I don't think so", "we don't", "i do not", "not interested", "nein", "👎", "❌", "🙅‍♂️",
    ],
)  # fmt: skip
def test_no(text: str) -> None:
    parsed = parse(YES_NO, text)
    assert (parsed.ok, parsed.value, parsed.confidence) == (True, False, 1.0)


@pytest.mark.parametrize(
    ("text", "value"),
    [
        ("yes, we use HubSpot", True),
        ("Yeah we have a CRM already", True),
        ("sure, send it over", True),
        ("absolutely, let's do it", True),
        ("nope, not this year", False),
        ("no, we use spreadsheets", False),
        ("nah I'm good", False),
        ("not really, we're too small", False),
    ],
)
def test_a_yes_or_no_opening_a_sentence(text: str, value: bool) -> None:
    parsed = parse(YES_NO, text)
    assert (parsed.ok, parsed.value, parsed.confidence) == (True, value, 0.9)


@pytest.mark.parametrize(
    "text",
    [
        "", "   ", "maybe", "perhaps", "not sure", "I'm not sure", "no idea", "don't know", "idk", "dunno",
        "it depends", "kind of", "sort of", "probably", "possibly", "yes and no", "yeah no", "yes no",
        "hmm", "what?", "tell me more", "how much is it?", "right now we don't", "we have no budget",
        "👍👎", "🤔", "<b>yes</b> <i>no</i>", "asdf",
    ],
)  # fmt: skip
def test_unsure_mixed_or_unknown_answers_are_refused(text: str) -> None:
    parsed = parse(YES_NO, text)
    assert (parsed.ok, parsed.error) == (False, YES_NO_ERROR)
