"""parse_answer as a whole: dispatch, the value conventions per type, and never raising on any input."""

from __future__ import annotations

import re

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from bot.engine.parsers import EXTRA_KEYS, AnswerSpec, ChoiceOption, Parsed, QuestionType, parse_answer
from bot.engine.parsers.periods import Horizon
from tests.engine.parsers.support import NOW, parse

CHOICES = (
    ChoiceOption(id="small", label="1-10"),
    ChoiceOption(id="decision_maker", label="Decision maker", synonyms=("the boss",)),
    ChoiceOption(id="big", label="$10k+"),
    ChoiceOption(id="yes", label="Yes please"),
)
# Fragments that reach the parsers' deeper paths more often than random text does.
FRAGMENTS = (
    "50", "1,200", "1.2.3", "2k", "-", "to", "between", "and", "or", "+", "~", "$", "€", "£", "usd", "a", "month",
    "per", "year", "q3", "2027", "2027-13-45", "31/02/2027", "may", "in", "weeks", "end of", "next", "the", "not",
    "sure", "yes", "no", "hundred", "twenty-five", "billion", "@", "acme.com", "+44", "(415)", "555-2671", "ext",
    "I'm", "call me", "my name is", "we're", "option", "#2", "second", "last", "all", "both", "decison", "👍",
    "\u202e", "\x00", "\ud800", "مرحبا", "<script>", "' OR 1=1 --", "\n", "9" * 30, "..", ",", "'",
)  # fmt: skip
TEXTS = st.one_of(
    st.text(),
    st.text(alphabet=st.characters(codec="utf-8"), max_size=50),
    st.lists(st.sampled_from(FRAGMENTS), max_size=12).map(" ".join),
    st.lists(st.sampled_from(FRAGMENTS), max_size=12).map("".join),
)
E164 = re.compile(r"\+[1-9]\d{6,14}")
ISO_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")


def spec_for(kind: QuestionType) -> AnswerSpec:
    return AnswerSpec(type=kind, options=CHOICES)


@pytest.mark.parametrize(
    ("kind", "text", "value"),
    [
        (QuestionType.TEXT, "hello", "hello"),
        (QuestionType.NUMBER, "about 50", 50),
        (QuestionType.MONEY, "$20k", 20_000),
        (QuestionType.CHOICE, "decision maker", "decision_maker"),
        (QuestionType.MULTI_CHOICE, "1 and 2", ["small", "decision_maker"]),
        (QuestionType.YES_NO, "yep", True),
        (QuestionType.EMAIL, "a@acme.io", "a@acme.io"),
        (QuestionType.PHONE, "+44 20 7946 0958", "+442079460958"),
        (QuestionType.DATE, "next quarter", "next_quarter"),
        (QuestionType.NAME, "I'm Sarah", "Sarah"),
        (QuestionType.COMPANY, "I work at Initech", "Initech"),
    ],
)
def test_parse_answer_dispatches_on_the_question_type(kind: QuestionType, text: str, value: object) -> None:
    parsed = parse(kind, text, options=CHOICES)
    assert (parsed.ok, parsed.value) == (True, value)


def test_every_question_type_is_covered() -> None:
    for kind in QuestionType:
        assert isinstance(parse_answer(spec_for(kind), "", NOW), Parsed)


@pytest.mark.parametrize("kind", [kind for kind in QuestionType if kind is not QuestionType.TEXT])
@pytest.mark.parametrize("text", ["50 " * 40_000, "a" * 100_000, "\x00" * 100_000, "x@y.com " * 100])
def test_long_input_is_refused_for_structured_types(kind: QuestionType, text: str) -> None:
    parsed = parse_answer(spec_for(kind), text, NOW)
    assert not parsed.ok
    assert parsed.error


@pytest.mark.parametrize("kind", list(QuestionType))
@settings(
    max_examples=200,
    deadline=None,
    database=None,
    # tests/conftest.py has an autouse network guard; it is harmless to share between examples
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)
@given(text=TEXTS)
def test_parse_answer_never_raises_and_keeps_the_conventions(kind: QuestionType, text: str) -> None:
    parsed = parse_answer(spec_for(kind), text, NOW)
    assert isinstance(parsed, Parsed)
    assert 0.0 < parsed.confidence <= 1.0
    if not parsed.ok:
        assert parsed.error
        assert parsed.value is None
        assert not parsed.extra
        return
    assert not parsed.error
    assert set(parsed.extra) <= set(EXTRA_KEYS.get(kind, ()))
    check_value(kind, parsed)


def check_value(kind: QuestionType, parsed: Parsed) -> None:
    """What the engine may rely on for each type's value and extras."""
    value, extra = parsed.value, parsed.extra
    ids = [option.id for option in CHOICES]
    match kind:
        case QuestionType.TEXT | QuestionType.NAME | QuestionType.COMPANY:
            assert isinstance(value, str)
            assert value
            assert value == value.strip()
            value.encode("utf-8")
        case QuestionType.NUMBER:
            assert isinstance(value, int | float)
            assert not isinstance(value, bool)
        case QuestionType.MONEY:
            assert isinstance(value, int | float)
            assert set(extra) == {"currency", "period", "annual"}
            assert isinstance(extra["currency"], str)
            assert re.fullmatch(r"[A-Z]{3}", extra["currency"])
            assert extra["period"] in ("month", "year", "one_off")
            assert isinstance(extra["annual"], int | float)
        case QuestionType.CHOICE:
            assert value in ids
        case QuestionType.MULTI_CHOICE:
            assert isinstance(value, list)
            assert value
            assert value == [i for i in ids if i in value]  # option order, no repeats
        case QuestionType.YES_NO:
            assert isinstance(value, bool)
        case QuestionType.EMAIL:
            assert isinstance(value, str)
            assert "@" in value
        case QuestionType.PHONE:
            assert isinstance(value, str)
            assert E164.fullmatch(value)
        case QuestionType.DATE:
            assert value in {horizon.value for horizon in Horizon}
            assert set(extra) == {"days", "date"}
            if value in ("unsure", "later") and extra["days"] is None:
                assert extra["date"] is None
            else:
                assert isinstance(extra["days"], int)
                assert extra["days"] >= 0
                assert isinstance(extra["date"], str)
                assert ISO_DATE.fullmatch(extra["date"])
