"""Calendar arithmetic for timeframes: periods (a day, week, month, quarter, half or year) and horizons."""

from __future__ import annotations

import calendar
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, timedelta
from enum import IntEnum, StrEnum
from types import MappingProxyType
from typing import Final

# A point this close is "as soon as possible" whatever words were used.
ASAP_DAYS: Final = 14

MONTHS: Final = MappingProxyType(
    {
        "january": 1, "jan": 1, "february": 2, "feb": 2, "march": 3, "mar": 3, "april": 4, "apr": 4,
        "may": 5, "june": 6, "jun": 6, "july": 7, "jul": 7, "august": 8, "aug": 8, "september": 9,
        "sept": 9, "sep": 9, "october": 10, "oct": 10, "november": 11, "nov": 11, "december": 12, "dec": 12,
    }
)  # fmt: skip


class Grain(IntEnum):
    """How coarse a period is. A horizon only holds periods at most as coarse as itself."""

    DAY = 0
    WEEK = 1
    MONTH = 2
    QUARTER = 3
    HALF = 4
    YEAR = 5


class Horizon(StrEnum):
    """The timeline categories a DATE answer is stored as."""

    ASAP = "asap"
    THIS_MONTH = "this_month"
    NEXT_MONTH = "next_month"
    THIS_QUARTER = "this_quarter"
    NEXT_QUARTER = "next_quarter"
    THIS_YEAR = "this_year"
    NEXT_YEAR = "next_year"
    LATER = "later"
    UNSURE = "unsure"


@dataclass(frozen=True, kw_only=True)
class Period:
    """A stretch of calendar days, both ends included."""

    start: date
    end: date
    grain: Grain


_CURRENT: Final = MappingProxyType(
    {
        Grain.DAY: Horizon.ASAP,
        Grain.WEEK: Horizon.ASAP,
        Grain.MONTH: Horizon.THIS_MONTH,
        Grain.QUARTER: Horizon.THIS_QUARTER,
        Grain.HALF: Horizon.THIS_YEAR,
        Grain.YEAR: Horizon.THIS_YEAR,
    }
)


def add_months(day: date, months: int) -> date:
    """Return `day` moved by whole months, clamping the day of month (Jan 31 + 1 month = Feb 28/29)."""
    index = day.year * 12 + day.month - 1 + months
    year, month = divmod(index, 12)
    if not 1 <= year <= 9999:
        return date.max if months > 0 else date.min
    last = calendar.monthrange(year, month + 1)[1]
    return date(year, month + 1, min(day.day, last))


def add_days(day: date, days: int) -> date:
    """Return `day` moved by `days`, saturating at the ends of the calendar instead of raising."""
    try:
        return day + timedelta(days=days)
    except OverflowError:
        return date.max if days > 0 else date.min


def day_period(day: date) -> Period:
    """The single day `day`."""
    return Period(start=day, end=day, grain=Grain.DAY)


def week_period(day: date) -> Period:
    """The Monday-to-Sunday week holding `day`."""
    monday = add_days(day, -day.weekday())
    return Period(start=monday, end=add_days(monday, 6), grain=Grain.WEEK)


def month_period(year: int, month: int) -> Period:
    """A calendar month."""
    start = date(year, month, 1)
    return Period(start=start, end=add_days(add_months(start, 1), -1), grain=Grain.MONTH)


def quarter_period(year: int, quarter: int) -> Period:
    """A calendar quarter, 1 to 4."""
    start = date(year, 3 * quarter - 2, 1)
    return Period(start=start, end=add_days(add_months(start, 3), -1), grain=Grain.QUARTER)


def half_period(year: int, half: int) -> Period:
    """A half year, 1 (January-June) or 2 (July-December)."""
    start = date(year, 6 * half - 5, 1)
    return Period(start=start, end=add_days(add_months(start, 6), -1), grain=Grain.HALF)


def season_period(year: int, first_month: int) -> Period:
    """A three-month season starting on the first of `first_month` (northern hemisphere)."""
    start = date(year, first_month, 1)
    return Period(start=start, end=add_days(add_months(start, 3), -1), grain=Grain.QUARTER)


def year_period(year: int) -> Period:
    """A calendar year."""
    return Period(start=date(year, 1, 1), end=date(year, 12, 31), grain=Grain.YEAR)


def quarter_of(day: date) -> int:
    """The calendar quarter (1-4) `day` falls in."""
    return (day.month - 1) // 3 + 1


def upcoming(today: date, make: Callable[[int], Period]) -> Period:
    """The period `make(year)` of this year if it has not ended yet, else next year's."""
    this_year = make(today.year)
    return this_year if this_year.end >= today else make(today.year + 1)


def horizon_of(period: Period, today: date) -> Horizon | None:
    """Which horizon a period falls in, seen from `today`; None when it lies wholly in the past.

    A period that has begun is "this <grain>". A later one goes to the first horizon that is at least as
    coarse and holds its start: "December" said in November is next_month, "Q1" is next_quarter and
    "2027" is next_year, though all three start within weeks. Days and weeks that start within
    ASAP_DAYS are asap.
    """
    if period.end < today:
        return None
    if period.start <= today:
        return _CURRENT[period.grain]
    start, grain = period.start, period.grain
    if grain <= Grain.WEEK and (start - today).days <= ASAP_DAYS:
        return Horizon.ASAP
    months = (start.year - today.year) * 12 + start.month - today.month
    quarters = (start.year - today.year) * 4 + quarter_of(start) - quarter_of(today)
    ahead = {Grain.MONTH: months, Grain.QUARTER: quarters, Grain.YEAR: start.year - today.year}
    for horizon, coarseness, steps in _BUCKETS:
        if grain <= coarseness and ahead[coarseness] == steps:
            return horizon
    return Horizon.LATER


# (horizon, the coarsest grain it holds, how many of those grains ahead of today), tried in order.
_BUCKETS: Final = (
    (Horizon.THIS_MONTH, Grain.MONTH, 0),
    (Horizon.NEXT_MONTH, Grain.MONTH, 1),
    (Horizon.THIS_QUARTER, Grain.QUARTER, 0),
    (Horizon.NEXT_QUARTER, Grain.QUARTER, 1),
    (Horizon.THIS_YEAR, Grain.YEAR, 0),
    (Horizon.NEXT_YEAR, Grain.YEAR, 1),
)
