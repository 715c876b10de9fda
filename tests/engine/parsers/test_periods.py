"""Calendar arithmetic behind DATE answers: month steps and the horizon a period falls in."""

from __future__ import annotations

from datetime import date

import pytest

from bot.engine.parsers.periods import (
    Grain,
    Horizon,
    Period,
    add_months,
    day_period,
    horizon_of,
    month_period,
    quarter_period,
    week_period,
    year_period,
)

TODAY = date(2026, 11, 26)


@pytest.mark.parametrize(
    ("day", "months", "expected"),
    [
        (date(2026, 1, 31), 1, date(2026, 2, 28)),
        (date(2028, 1, 31), 1, date(2028, 2, 29)),
        (date(2026, 11, 26), 3, date(2027, 2, 26)),
        (date(2026, 3, 31), -1, date(2026, 2, 28)),
        (date(9999, 12, 1), 1, date.max),
        (date(1, 1, 1), -1, date.min),
    ],
)
def test_add_months_clamps_the_day(day: date, months: int, expected: date) -> None:
    assert add_months(day, months) == expected


@pytest.mark.parametrize(
    ("period", "horizon"),
    [
        (day_period(TODAY), Horizon.ASAP),
        (day_period(date(2026, 12, 10)), Horizon.ASAP),
        (day_period(date(2026, 12, 11)), Horizon.NEXT_MONTH),
        (week_period(date(2026, 12, 7)), Horizon.ASAP),
        (month_period(2026, 11), Horizon.THIS_MONTH),
        (month_period(2026, 12), Horizon.NEXT_MONTH),
        (month_period(2027, 1), Horizon.NEXT_QUARTER),
        (month_period(2027, 4), Horizon.NEXT_YEAR),
        (quarter_period(2026, 4), Horizon.THIS_QUARTER),
        (quarter_period(2027, 1), Horizon.NEXT_QUARTER),
        (quarter_period(2027, 2), Horizon.NEXT_YEAR),
        (year_period(2026), Horizon.THIS_YEAR),
        (year_period(2027), Horizon.NEXT_YEAR),
        (year_period(2028), Horizon.LATER),
        (day_period(date(2028, 1, 1)), Horizon.LATER),
    ],
)
def test_horizon_of_a_period(period: Period, horizon: Horizon) -> None:
    assert horizon_of(period, TODAY) is horizon


def test_a_past_period_has_no_horizon() -> None:
    assert horizon_of(month_period(2026, 10), TODAY) is None


def test_a_coarse_period_is_not_put_in_a_finer_horizon() -> None:
    # January 2027 is next quarter at month grain; the year 2027 is next year even though it starts then too.
    assert month_period(2027, 1).grain is Grain.MONTH
    assert horizon_of(year_period(2027), TODAY) is Horizon.NEXT_YEAR
