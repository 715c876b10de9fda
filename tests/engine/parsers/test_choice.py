"""CHOICE answers: one option, however the prospect names it."""

from __future__ import annotations

import pytest

from bot.engine.parsers import ChoiceOption, QuestionType
from tests.engine.parsers.support import options, parse

CHOICE = QuestionType.CHOICE
ROLES = (
    ChoiceOption(id="decision_maker", label="Decision maker", synonyms=("I sign off", "the boss")),
    ChoiceOption(id="influencer", label="Influencer"),
    ChoiceOption(id="cto", label="CTO"),
    ChoiceOption(id="other", label="Other"),
)
ROLES_ERROR = "Please pick one of: Decision maker, Influencer, CTO or Other."


@pytest.mark.parametrize(
    ("text", "option"),
    [
        ("Decision maker", "decision_maker"),
        ("decision maker", "decision_maker"),
        ("DECISION MAKER!", "decision_maker"),
        ("decision_maker", "decision_maker"),
        ("decision-maker", "decision_maker"),
        ("  cto. ", "cto"),
        ("I sign off", "decision_maker"),
        ("the boss", "decision_maker"),
        ("2", "influencer"),
        ("#2", "influencer"),
        ("option 2", "influencer"),
        ("Option #3", "cto"),
        ("number 4", "other"),
        ("the second one", "influencer"),
        ("second", "influencer"),
        ("the 2nd", "influencer"),
        ("first", "decision_maker"),
        ("the first one please", "decision_maker"),
        ("the last one", "other"),
        ("last", "other"),
        ("second to last", "cto"),
        ("I'll take the third", "cto"),
        ("i'd pick 1", "decision_maker"),
        ("one", "decision_maker"),
    ],
)
def test_exact_names_numbers_and_ordinals(text: str, option: str) -> None:
    parsed = parse(CHOICE, text, options=ROLES)
    assert (parsed.ok, parsed.value, parsed.confidence) == (True, option, 1.0)


@pytest.mark.parametrize(
    ("text", "option"),
    [
        ("I'm the CTO", "cto"),
        ("i am the cto of a small shop", "cto"),
        ("im the decision maker here", "decision_maker"),
        ("well, I'm more of an influencer", "influencer"),
        ("something other", "other"),
    ],
)
def test_an_option_mentioned_in_a_sentence(text: str, option: str) -> None:
    parsed = parse(CHOICE, text, options=ROLES)
    assert (parsed.ok, parsed.value, parsed.confidence) == (True, option, 0.9)


@pytest.mark.parametrize(
    ("text", "option"),
    [
        ("decison maker", "decision_maker"),
        ("desicion maker", "decision_maker"),
        ("decisionmaker", "decision_maker"),
        ("influncer", "influencer"),
        ("infleuncer", "influencer"),
        ("i am the decison maker", "decision_maker"),
    ],
)
def test_typos_match_with_their_similarity_as_confidence(text: str, option: str) -> None:
    parsed = parse(CHOICE, text, options=ROLES)
    assert (parsed.ok, parsed.value) == (True, option)
    assert 0.8 <= parsed.confidence < 1.0


@pytest.mark.parametrize(
    "text",
    [
        "",
        "?",
        "5",
        "option 0",
        "the tenth one",
        "director",
        "cfo",
        "not the CTO",
        "none of these",
        "I don't know",
        "what do you mean?",
        "CTO or influencer",
        "<script>alert(1)</script>",
        "🙂",
    ],
)
def test_no_or_several_options_is_refused_listing_them(text: str) -> None:
    parsed = parse(CHOICE, text, options=ROLES)
    assert (parsed.ok, parsed.error) == (False, ROLES_ERROR)


def test_accents_and_case_do_not_matter() -> None:
    places = (ChoiceOption(id="zurich", label="Zürich"), ChoiceOption(id="sao_paulo", label="São Paulo"))
    assert parse(CHOICE, "zurich", options=places).value == "zurich"
    assert parse(CHOICE, "SAO PAULO", options=places).value == "sao_paulo"


def test_a_close_runner_up_makes_a_typo_ambiguous() -> None:
    near = (ChoiceOption(id="a", label="Marketing lead"), ChoiceOption(id="b", label="Marketing head"))
    assert not parse(CHOICE, "marketing ead", options=near).ok
    assert parse(CHOICE, "marketing lea", options=near).value == "a"


SIZES = options("1-10", "11-50", "51-200", "201-1000", "1000+")


@pytest.mark.parametrize(
    ("text", "option"),
    [
        ("25", "11-50"),
        ("2", "1-10"),
        ("we are 40 people", "11-50"),
        ("about 150", "51-200"),
        ("5000", "1000+"),
        ("just me", "1-10"),
        ("11-50", "11-50"),
        ("#2", "11-50"),
        ("option 3", "51-200"),
        ("the last one", "1000+"),
    ],
)
def test_numeric_labels_take_the_number_said(text: str, option: str) -> None:
    parsed = parse(CHOICE, text, options=SIZES)
    assert (parsed.ok, parsed.value) == (True, option)


BUDGETS = (
    ChoiceOption(id="small", label="Under $10k"),
    ChoiceOption(id="medium", label="$10k-$50k"),
    ChoiceOption(id="large", label="$50k+"),
)


@pytest.mark.parametrize(
    ("text", "option"),
    [("20k", "medium"), ("$5,000", "small"), ("100k", "large"), ("2", "medium"), ("3", "large")],
)
def test_amount_labels_take_amounts_but_keep_small_numbers_as_positions(text: str, option: str) -> None:
    assert parse(CHOICE, text, options=BUDGETS).value == option


@pytest.mark.parametrize(("text", "option"), [("yep", "yes"), ("sure!", "yes"), ("nah", "no"), ("not really", "no")])
def test_yes_no_answers_pick_yes_and_no_labels(text: str, option: str) -> None:
    yes_no = (ChoiceOption(id="yes", label="Yes, let's talk"), ChoiceOption(id="no", label="No thanks"))
    assert parse(CHOICE, text, options=yes_no).value == option


@pytest.mark.parametrize(
    ("labels", "error"),
    [
        (("Only",), "Please pick: Only."),
        (("A", "B"), "Please pick one of: A or B."),
        (tuple(f"O{i}" for i in range(11)), "Please pick one of the options."),
        ((), "Please pick one of the options."),
    ],
)
def test_error_lists_the_options(labels: tuple[str, ...], error: str) -> None:
    assert parse(CHOICE, "nothing like that", options=options(*labels)).error == error
