"""MULTI_CHOICE answers: several options in one text, returned in option order."""

from __future__ import annotations

import pytest

from bot.engine.parsers import ChoiceOption, QuestionType
from tests.engine.parsers.support import options, parse

MULTI = QuestionType.MULTI_CHOICE
TOOLS = (
    ChoiceOption(id="crm", label="CRM"),
    ChoiceOption(id="email", label="Email marketing", synonyms=("email", "newsletters")),
    ChoiceOption(id="ads", label="Paid ads"),
    ChoiceOption(id="sm", label="Sales and marketing"),
)
TOOLS_ERROR = "Please pick one or more of: CRM, Email marketing, Paid ads or Sales and marketing."


@pytest.mark.parametrize(
    ("text", "picked"),
    [
        ("CRM", ["crm"]),
        ("crm and email", ["crm", "email"]),
        ("email and crm", ["crm", "email"]),
        ("CRM, email", ["crm", "email"]),
        ("CRM & paid ads", ["crm", "ads"]),
        ("crm/email/paid ads", ["crm", "email", "ads"]),
        ("CRM + newsletters", ["crm", "email"]),
        ("we use CRM and email", ["crm", "email"]),
        ("crm, crm and CRM", ["crm"]),
        ("Sales and marketing", ["sm"]),
        ("sales and marketing plus crm", ["crm", "sm"]),
        ("1, 3", ["crm", "ads"]),
        ("1 and 3", ["crm", "ads"]),
        ("1 3", ["crm", "ads"]),
        ("options 1 and 3", ["crm", "ads"]),
        ("#2, #4", ["email", "sm"]),
        ("the first and the last", ["crm", "sm"]),
        ("all of them", ["crm", "email", "ads", "sm"]),
        ("All", ["crm", "email", "ads", "sm"]),
        ("everything", ["crm", "email", "ads", "sm"]),
        ("all of the above", ["crm", "email", "ads", "sm"]),
        ("all except email", ["crm", "ads", "sm"]),
        ("everything but paid ads", ["crm", "email", "sm"]),
        ("paid ads but not crm", ["ads"]),
    ],
)
def test_several_options_in_one_answer(text: str, picked: list[str]) -> None:
    parsed = parse(MULTI, text, options=TOOLS)
    assert (parsed.ok, parsed.value, parsed.confidence) == (True, picked, 1.0)


@pytest.mark.parametrize(
    ("text", "picked", "confidence"),
    [
        ("emial and crm", ["crm", "email"], 0.8),  # the typo's similarity
        ("we use CRM, email and carrier pigeons", ["crm", "email"], 0.8),  # part of it named nothing
        ("crm and excel", ["crm"], 0.8),
    ],
)
def test_typos_and_unknown_parts_lower_the_confidence(text: str, picked: list[str], confidence: float) -> None:
    parsed = parse(MULTI, text, options=TOOLS)
    assert (parsed.ok, parsed.value, parsed.confidence) == (True, picked, confidence)


@pytest.mark.parametrize("text", ["both", "both of them", "all", "yes both"])
def test_both_means_all_of_two_options(text: str) -> None:
    parsed = parse(MULTI, text, options=options("Phone", "Email"))
    assert parsed.value == ["phone", "email"]


@pytest.mark.parametrize(
    "text",
    ["", "none", "neither", "none of them", "nothing", "no", "both", "excel and word", "7", "??", "🤷"],
)
def test_no_option_is_refused_listing_them(text: str) -> None:
    parsed = parse(MULTI, text, options=TOOLS)
    assert (parsed.ok, parsed.error) == (False, TOOLS_ERROR)


def test_an_option_called_none_is_still_an_option() -> None:
    choices = options("Slack", "Teams", "None of the above")
    assert parse(MULTI, "none of the above", options=choices).value == ["none_of_the_above"]


def test_no_options_configured_is_refused() -> None:
    assert parse(MULTI, "crm", options=()).error == "Please pick one or more of the options."
