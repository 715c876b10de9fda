"""NUMBER answers: counts written every way prospects write them."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from bot.engine.parsers import QuestionType
from bot.engine.parsers.numbers import NUMBER_ERROR
from bot.engine.parsers.quantity import _MAYBE_NOT_AMOUNTS, _NOT_AMOUNTS
from bot.engine.types import Value
from tests.engine.parsers.support import parse

NUMBER = QuestionType.NUMBER


@pytest.mark.parametrize(
    ("text", "value"),
    [
        ("50", 50),
        ("  50  ", 50),
        ("50.", 50),
        ("about 50", 50),
        ("around 50", 50),
        ("approximately 50", 50),
        ("roughly 50", 50),
        ("~50", 50),
        ("50ish", 50),
        ("50-ish", 50),
        ("50 or so", 50),
        ("fifty", 50),
        ("Fifty", 50),
        ("twenty five", 25),
        ("twenty-five", 25),
        ("a hundred", 100),
        ("one hundred and twenty", 120),
        ("three thousand", 3000),
        ("a dozen", 12),
        ("half a dozen", 6),
        ("half a million", 500_000),
        ("1.2k", 1200),
        ("1,200", 1200),
        ("1 200", 1200),
        ("1'200", 1200),
        ("1.000.000", 1_000_000),
        ("2 million", 2_000_000),
        ("1.5 million", 1_500_000),
        ("3M", 3_000_000),
        ("5 hundred thousand", 500_000),
        ("50.5", 50.5),
        ("2,5", 2.5),
        ("1,2345", 1.2345),
        ("５０", 50),
        ("just me", 1),
        ("only me", 1),
        ("solo", 1),
        ("just the two of us", 2),
    ],
)
def test_plain_numbers_are_read_with_full_confidence(text: str, value: Value) -> None:
    parsed = parse(NUMBER, text)
    assert (parsed.ok, parsed.value, dict(parsed.extra), parsed.confidence) == (True, value, {}, 1.0)
    assert type(parsed.value) is type(value)


@pytest.mark.parametrize(
    ("text", "value"),
    [
        ("around 50 people", 50),
        ("we are 40 people", 40),
        ("We're about 40 employees.", 40),
        ("our team is twelve people", 12),
        ("I'd say roughly 300 users", 300),
        ("there are 7 of us", 7),
        ("we have 1,500 staff", 1500),
        ("currently 25 seats", 25),
        ("it's just me", 1),
    ],
)
def test_numbers_in_a_sentence_are_a_little_less_certain(text: str, value: Value) -> None:
    parsed = parse(NUMBER, text)
    assert (parsed.ok, parsed.value, parsed.confidence) == (True, value, 0.9)


@pytest.mark.parametrize(
    ("text", "value", "low", "high"),
    [
        ("50-100", 75, 50, 100),
        ("50 - 100", 75, 50, 100),
        ("50–100", 75, 50, 100),
        ("between 50 and 100", 75, 50, 100),
        ("from 50 to 100", 75, 50, 100),
        ("50 to 100", 75, 50, 100),
        ("50 or 60", 55, 50, 60),
        ("10-15", 13, 10, 15),
        ("one or two", 2, 1, 2),
        ("10-20k", 15_000, 10_000, 20_000),
        ("500-2k", 1250, 500, 2000),
        ("1.5-2.5k", 2000, 1500, 2500),
        ("1 000-2 000", 1500, 1000, 2000),
        ("somewhere between 5 and 10 people", 8, 5, 10),
    ],
)
def test_ranges_give_their_midpoint_and_ends(text: str, value: int, low: int, high: int) -> None:
    parsed = parse(NUMBER, text)
    assert parsed.ok
    assert parsed.value == value
    assert dict(parsed.extra) == {"min": low, "max": high}


@pytest.mark.parametrize(
    ("text", "value", "extra"),
    [
        ("50+", 50, {"min": 50}),
        ("over 200", 200, {"min": 200}),
        ("more than 200", 200, {"min": 200}),
        ("at least 10", 10, {"min": 10}),
        ("200 or more", 200, {"min": 200}),
        ("under 10", 10, {"max": 10}),
        ("less than 10", 10, {"max": 10}),
        ("up to 50", 50, {"max": 50}),
        ("no more than 50", 50, {"max": 50}),
        ("50 max", 50, {"max": 50}),
        ("just over 50", 50, {}),
    ],
)
def test_open_ended_answers_keep_their_one_bound(text: str, value: int, extra: dict[str, int]) -> None:
    parsed = parse(NUMBER, text)
    assert (parsed.ok, parsed.value, dict(parsed.extra)) == (True, value, extra)


def test_several_numbers_take_the_first_with_low_confidence() -> None:
    parsed = parse(NUMBER, "we have 3 offices and 40 people")
    assert (parsed.ok, parsed.value, parsed.confidence) == (True, 3, 0.7)


@pytest.mark.parametrize(
    "text",
    [
        "",
        "   ",
        "no idea",
        "hello",
        "lots",
        "a few",
        "hundreds",
        "call me at 415-555-2671",
        "+1 415 555 2671",
        "(415) 555-2671",
        "2026-03-01",
        "03/01/2026",
        "10:30",
        "march 3",
        "the 3rd",
        "at 5pm",
        "1.2.3",
        "99999999999999999999",
        "7 billion billion",
        "'; DROP TABLE leads; --",
        "<script>alert('x')</script>",
    ],
)
def test_text_without_a_usable_number_is_refused(text: str) -> None:
    parsed = parse(NUMBER, text)
    assert not parsed.ok
    assert parsed.error == NUMBER_ERROR


def test_a_year_after_a_preposition_is_not_the_number() -> None:
    parsed = parse(NUMBER, "since 2019 we have grown to 40")
    assert (parsed.ok, parsed.value) == (True, 40)


@pytest.mark.parametrize(
    ("bounds", "text", "error"),
    [
        ({"minimum": 1, "maximum": 1000}, "0", "Please enter a number between 1 and 1,000."),
        ({"minimum": 1, "maximum": 1000}, "5000", "Please enter a number between 1 and 1,000."),
        ({"minimum": 1}, "0", "Please enter a number of at least 1."),
        ({"maximum": 10.5}, "11", "Please enter a number no bigger than 10.5."),
    ],
)
def test_answers_outside_the_bounds_are_refused_naming_them(bounds: dict[str, float], text: str, error: str) -> None:
    parsed = parse(NUMBER, text, **bounds)
    assert (parsed.ok, parsed.error) == (False, error)


@pytest.mark.parametrize("text", ["1", "500", "1,000", "1k"])
def test_answers_inside_the_bounds_are_accepted(text: str) -> None:
    assert parse(NUMBER, text, minimum=1, maximum=1000).ok


def test_a_range_is_checked_by_its_midpoint() -> None:
    assert parse(NUMBER, "0-10", minimum=1).ok


@settings(max_examples=500, deadline=None)
@given(text=st.text(alphabet="0123456789 +-()./:,'k", max_size=24) | st.text(max_size=24))
def test_phone_date_and_time_runs_are_only_searched_for_where_they_can_be(text: str) -> None:
    if _MAYBE_NOT_AMOUNTS.search(text) is None:
        assert _NOT_AMOUNTS.search(text) is None
