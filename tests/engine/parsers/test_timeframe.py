"""DATE answers: a timeline, read relative to NOW = Thursday 2026-11-26 (Q4)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from bot.engine.parsers import AnswerSpec, QuestionType, parse_answer
from bot.engine.parsers.timeframe import DATE_ERROR, PAST_ERROR
from bot.engine.parsers.timewords import readers
from tests.engine.parsers.support import parse

DATE = QuestionType.DATE


@pytest.mark.parametrize(
    ("text", "horizon", "days", "day"),
    [
        ("ASAP", "asap", 0, "2026-11-26"),
        ("asap!", "asap", 0, "2026-11-26"),
        ("as soon as possible", "asap", 0, "2026-11-26"),
        ("right away", "asap", 0, "2026-11-26"),
        ("immediately", "asap", 0, "2026-11-26"),
        ("now", "asap", 0, "2026-11-26"),
        ("today", "asap", 0, "2026-11-26"),
        ("tomorrow", "asap", 1, "2026-11-27"),
        ("this week", "asap", 0, "2026-11-26"),
        ("end of the week", "asap", 3, "2026-11-29"),
        ("next week", "asap", 4, "2026-11-30"),
        ("next monday", "asap", 4, "2026-11-30"),
        ("friday", "asap", 1, "2026-11-27"),
        ("in two weeks", "asap", 14, "2026-12-10"),
        ("in 10 days", "asap", 10, "2026-12-06"),
        ("this month", "this_month", 0, "2026-11-26"),
        ("November", "this_month", 0, "2026-11-26"),
        ("end of the month", "this_month", 4, "2026-11-30"),
        ("next month", "next_month", 5, "2026-12-01"),
        ("December", "next_month", 5, "2026-12-01"),
        ("in a month", "next_month", 30, "2026-12-26"),
        ("a few weeks", "next_month", 21, "2026-12-17"),
        ("after Christmas", "next_month", 30, "2026-12-26"),
        ("in the new year", "next_quarter", 36, "2027-01-01"),
        ("this quarter", "this_quarter", 0, "2026-11-26"),
        ("Q4", "this_quarter", 0, "2026-11-26"),
        ("next quarter", "next_quarter", 36, "2027-01-01"),
        ("Q1 2027", "next_quarter", 36, "2027-01-01"),
        ("q1 '27", "next_quarter", 36, "2027-01-01"),
        ("Q1 next year", "next_quarter", 36, "2027-01-01"),
        ("in 3 months", "next_quarter", 92, "2027-02-26"),
        ("within 6 weeks", "next_quarter", 42, "2027-01-07"),
        ("by March", "next_quarter", 95, "2027-03-01"),
        ("March 2027", "next_quarter", 95, "2027-03-01"),
        ("2027-03-01", "next_quarter", 95, "2027-03-01"),
        ("03/04/2027", "next_quarter", 98, "2027-03-04"),
        ("4.3.2027", "next_quarter", 98, "2027-03-04"),
        ("march 4th", "next_quarter", 98, "2027-03-04"),
        ("4 march 2027", "next_quarter", 98, "2027-03-04"),
        ("early next year", "next_quarter", 36, "2027-01-01"),
        ("end of Q1", "next_quarter", 125, "2027-03-31"),
        ("this year", "this_year", 0, "2026-11-26"),
        ("by end of year", "this_year", 35, "2026-12-31"),
        ("end of the year", "this_year", 35, "2026-12-31"),
        ("EOY", "this_year", 35, "2026-12-31"),
        ("later this year", "this_year", 0, "2026-11-26"),
        ("next year", "next_year", 36, "2027-01-01"),
        ("next fiscal year", "next_year", 36, "2027-01-01"),
        ("FY27", "next_year", 36, "2027-01-01"),
        ("2027", "next_year", 36, "2027-01-01"),
        ("Q3", "next_year", 217, "2027-07-01"),
        ("mid 2027", "next_year", 217, "2027-07-01"),
        ("H2 2027", "next_year", 217, "2027-07-01"),
        ("after Q1", "next_year", 126, "2027-04-01"),
        ("in a year", "next_year", 365, "2027-11-26"),
        ("6-12 months", "next_year", 181, "2027-05-26"),
        ("half a year", "next_year", 181, "2027-05-26"),
        ("in 2 years", "later", 731, "2028-11-26"),
        ("18 months", "later", 547, "2028-05-26"),
        ("2029", "later", 767, "2029-01-01"),
    ],
)
def test_timeframes_become_horizons(text: str, horizon: str, days: int, day: str) -> None:
    parsed = parse(DATE, text)
    assert (parsed.ok, parsed.value, dict(parsed.extra)) == (True, horizon, {"days": days, "date": day})
    assert parsed.confidence == 1.0


@pytest.mark.parametrize(
    ("text", "horizon"),
    [
        ("we want to buy in Q1", "next_quarter"),
        ("probably next year, budget permitting", "next_year"),
        ("not now, maybe next year", "next_year"),
        ("we may buy next year", "next_year"),
        ("our contract ends in March", "next_quarter"),
    ],
)
def test_timeframes_in_a_sentence(text: str, horizon: str) -> None:
    parsed = parse(DATE, text)
    assert (parsed.ok, parsed.value, parsed.confidence) == (True, horizon, 0.9)


@pytest.mark.parametrize(
    ("text", "horizon"),
    [
        ("not sure", "unsure"),
        ("I'm not sure yet", "unsure"),
        ("don't know", "unsure"),
        ("no idea", "unsure"),
        ("TBD", "unsure"),
        ("it depends", "unsure"),
        ("no rush", "later"),
        ("just browsing", "later"),
        ("just looking around", "later"),
        ("later", "later"),
        ("eventually", "later"),
        ("not right now", "later"),
        ("some day", "later"),
        ("whenever", "later"),
    ],
)
def test_unsure_and_unspecified_later_are_answers_without_a_date(text: str, horizon: str) -> None:
    parsed = parse(DATE, text)
    assert (parsed.ok, parsed.value, dict(parsed.extra)) == (True, horizon, {"days": None, "date": None})
    assert parsed.confidence == 0.8


def test_soon_is_asap_with_low_confidence() -> None:
    parsed = parse(DATE, "soon")
    assert (parsed.ok, parsed.value, parsed.confidence) == (True, "asap", 0.7)


@pytest.mark.parametrize("text", ["", "blah blah", "purple", "42", "maybe", "we may", "<b>soonish</b>?"])
def test_gibberish_is_refused(text: str) -> None:
    parsed = parse(DATE, text)
    assert (parsed.ok, parsed.error) == (False, DATE_ERROR)


@pytest.mark.parametrize("text", ["2024-01-01", "Q1 2026", "March 2026", "last year in 2025"])
def test_the_past_is_refused(text: str) -> None:
    parsed = parse(DATE, text)
    assert (parsed.ok, parsed.error) == (False, PAST_ERROR)


def test_month_first_dates_follow_the_region() -> None:
    assert parse(DATE, "03/04/2027", region="US").extra["date"] == "2027-03-04"
    assert parse(DATE, "03/04/2027", region="GB").extra["date"] == "2027-04-03"
    assert parse(DATE, "13/04/2027", region="US").extra["date"] == "2027-04-13"


def test_today_is_the_date_where_now_is() -> None:
    late_in_tokyo = datetime(2026, 11, 30, 23, 30, tzinfo=timezone(timedelta(hours=9)))
    parsed = parse_answer(AnswerSpec(type=DATE), "next month", late_in_tokyo)
    assert (parsed.value, parsed.extra["days"]) == ("next_month", 1)
    new_year = datetime(2026, 12, 31, 12, tzinfo=UTC)
    assert parse_answer(AnswerSpec(type=DATE), "next quarter", new_year).extra["date"] == "2027-01-01"



@settings(max_examples=300, deadline=None)
@given(text=st.text(alphabet=st.characters(blacklist_categories=("Nd",)), max_size=40)
       | st.text(alphabet="acdefhmnoqrstuy -/.,'", max_size=30))
def test_readers_marked_digits_never_match_text_without_a_digit(text: str) -> None:
    for reader in (*readers(month_first=True), *readers(month_first=False)):
        if reader.digits:
            assert reader.pattern.search(text) is None, reader.pattern.pattern
