"""Reading the periods a timeline answer names: "next month", "Q3", "in 6 weeks", "March 2027", "2027-03-01"."""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date
from functools import partial
from types import MappingProxyType
from typing import Final

from bot.engine.parsers.periods import (
    MONTHS,
    Period,
    add_days,
    add_months,
    day_period,
    half_period,
    month_period,
    quarter_of,
    quarter_period,
    season_period,
    upcoming,
    week_period,
    year_period,
)

_MONTH_NAMES: Final = "|".join(sorted(MONTHS, key=len, reverse=True))
_YEAR_WORDS: Final = r"(?P<year>(?:19|20|21)\d{2}|next year|this year)"
_SMALL: Final = MappingProxyType(
    {
        "a": 1.0, "an": 1.0, "one": 1.0, "two": 2.0, "three": 3.0, "four": 4.0, "five": 5.0, "six": 6.0,
        "seven": 7.0, "eight": 8.0, "nine": 9.0, "ten": 10.0, "eleven": 11.0, "twelve": 12.0,
        "eighteen": 18.0, "few": 3.0, "a few": 3.0, "couple": 2.0, "couple of": 2.0, "a couple": 2.0,
        "a couple of": 2.0, "several": 4.0, "half a": 0.5, "half an": 0.5,
    }
)  # fmt: skip
_AMOUNT: Final = r"\d{1,3}(?:[.,]\d+)?|" + "|".join(sorted(_SMALL, key=len, reverse=True))
_WEEKDAYS: Final = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")
_ORDINAL_PARTS: Final = MappingProxyType(
    {"first": 1, "1st": 1, "second": 2, "2nd": 2, "third": 3, "3rd": 3, "fourth": 4, "4th": 4, "last": 4, "final": 4}
)
_SEASONS: Final = MappingProxyType({"spring": 3, "summer": 6, "fall": 9, "autumn": 9, "winter": 12})
# "may" is a month only with a year, a day or a preposition ("we may buy" is not May).
_MAY_CONTEXT: Final = re.compile(
    r"(?:^|\b(?:in|by|early|mid|late|end of|beginning of|start of|until|till|before|after|from|around|during|of))\s*$"
)


@dataclass(frozen=True, kw_only=True)
class Reader:
    """A pattern and how to turn its match into a period, seen from a day."""

    pattern: re.Pattern[str]
    read: Callable[[re.Match[str], date], Period | None]
    digits: bool = False  # the pattern matches only text with a digit (\d), so other text need not be searched


def _year_of(match: re.Match[str], today: date) -> int | None:
    """The year a match names ("2027", "next year", "this year"), or None when it names none."""
    said = match.groupdict().get("year")
    if said is None:
        return None
    if said == "next year":
        return today.year + 1
    if said == "this year":
        return today.year
    return int(said)


def _dated(make: Callable[[int], Period], match: re.Match[str], today: date) -> Period:
    year = _year_of(match, today)
    return upcoming(today, make) if year is None else make(year)


def _asap(match: re.Match[str], today: date) -> Period:
    return day_period(add_days(today, 1) if match.group().startswith("tomorrow") else today)


def _weekday(match: re.Match[str], today: date) -> Period:
    """Read a weekday: "friday" is the coming Friday (or today); "next friday" the Friday of next week."""
    weekday = _WEEKDAYS.index(match.group("day"))
    if match.group("next"):
        return day_period(add_days(week_period(add_days(today, 7)).start, weekday))
    return day_period(add_days(today, (weekday - today.weekday()) % 7))


def _relative(match: re.Match[str], today: date) -> Period:
    unit, which = match.group("unit"), match.group("which")
    step = 0 if which in ("this", "current", "the") else 1
    if unit == "week":
        return week_period(add_days(today, 7 * step))
    if unit == "month":
        first = add_months(date(today.year, today.month, 1), step)
        return month_period(first.year, first.month)
    if unit == "quarter":
        first = add_months(quarter_period(today.year, quarter_of(today)).start, 3 * step)
        return quarter_period(first.year, quarter_of(first))
    return year_period(today.year + step)


def _period_end(match: re.Match[str], today: date) -> Period:
    """The last day of the current year, quarter, month or week ("eoy", "end of year", "month-end")."""
    said = match.group()
    if "year" in said or said == "eoy":
        current = year_period(today.year)
    elif "quarter" in said or said == "eoq":
        current = quarter_period(today.year, quarter_of(today))
    elif "week" in said:
        current = week_period(today)
    else:
        current = month_period(today.year, today.month)
    return Period(start=current.end, end=current.end, grain=current.grain)


def _duration(match: re.Match[str], today: date) -> Period | None:
    """The day a duration from today ends: "in 3 months", "within 6 weeks", "6-12 months" (the shorter)."""
    said = match.group("n").replace(",", ".")
    amount = _SMALL[said] if said in _SMALL else float(said)
    unit = match.group("unit")
    if unit.startswith(("d", "w")):
        days = amount * (7 if unit.startswith("w") else 1)
        return day_period(add_days(today, round(days)))
    months = amount * (12 if unit.startswith("y") else 3 if unit.startswith("q") else 1)
    return day_period(add_months(today, round(months)))


def _holiday(match: re.Match[str], today: date) -> Period:
    """The coming Christmas Day or New Year's Day."""
    month, day = (12, 25) if match.group().startswith(("christmas", "xmas")) else (1, 1)
    return upcoming(today, lambda year: day_period(date(year, month, day)))


def _iso(match: re.Match[str], _today: date) -> Period | None:
    return _day(int(match.group(1)), int(match.group(2)), int(match.group(3)))


def _numeric(match: re.Match[str], _today: date, *, month_first: bool) -> Period | None:
    """03/04/2027 or 4.3.2027: dots are day-first; slashes follow the region unless a part is over 12."""
    first, second, year = int(match.group(1)), int(match.group(3)), int(match.group(4))
    year = year + 2000 if year < 100 else year
    dots = match.group(2) == "."
    if first > 12 or (dots and second <= 12) or (not month_first and second <= 12):
        return _day(year, second, first)
    return _day(year, first, second)


def _day(year: int, month: int, day: int) -> Period | None:
    try:
        return day_period(date(year, month, day))
    except ValueError:
        return None


def _month_day(match: re.Match[str], today: date) -> Period | None:
    month, day = MONTHS[match.group("month")], int(match.group("day"))
    year = _year_of(match, today)
    if year is not None:
        return _day(year, month, day)
    found = _day(today.year, month, day)
    if found is not None and found.start < today:
        found = _day(today.year + 1, month, day)
    return found


def _month(match: re.Match[str], today: date) -> Period | None:
    name = match.group("month")
    before = match.string[: match.start()]
    if name == "may" and match.group("year") is None and not _MAY_CONTEXT.search(before):
        return None
    return _dated(partial(month_period, month=MONTHS[name]), match, today)


def _quarter(match: re.Match[str], today: date) -> Period:
    which = match.group("q") or str(_ORDINAL_PARTS[match.group("qword")])
    if match.group("yy"):
        return quarter_period(2000 + int(match.group("yy")), int(which))
    return _dated(partial(quarter_period, quarter=int(which)), match, today)


def _half(match: re.Match[str], today: date) -> Period:
    which = int(match.group("h") or _ORDINAL_PARTS[match.group("hword")])
    return _dated(partial(half_period, half=min(which, 2)), match, today)


def _season(match: re.Match[str], today: date) -> Period:
    return _dated(partial(season_period, first_month=_SEASONS[match.group("season")]), match, today)


def _year(match: re.Match[str], _today: date) -> Period:
    return year_period(int(match.group("year")))


def _fiscal_year(match: re.Match[str], _today: date) -> Period:
    """Read "FY27" as the calendar year 2027: fiscal years vary by company, and this is close enough."""
    return year_period(2000 + int(match.group("yy")))


def readers(*, month_first: bool) -> tuple[Reader, ...]:
    """Every pattern a timeline answer is read with. `month_first` reads 03/04/2027 as March 4th."""
    return (
        Reader(pattern=_ASAP, read=_asap),
        Reader(pattern=_WEEKDAY, read=_weekday),
        Reader(pattern=_RELATIVE, read=_relative),
        Reader(pattern=_PERIOD_END, read=_period_end),
        Reader(pattern=_DURATION, read=_duration),
        Reader(pattern=_HOLIDAY, read=_holiday),
        Reader(pattern=_ISO, read=_iso, digits=True),
        Reader(pattern=_NUMERIC, read=partial(_numeric, month_first=month_first), digits=True),
        Reader(pattern=_MONTH_DAY, read=_month_day, digits=True),
        Reader(pattern=_DAY_MONTH, read=_month_day, digits=True),
        Reader(pattern=_MONTH, read=_month),
        Reader(pattern=_QUARTER, read=_quarter),
        Reader(pattern=_HALF, read=_half),
        Reader(pattern=_SEASON, read=_season),
        Reader(pattern=_YEAR, read=_year, digits=True),
        Reader(pattern=_FISCAL_YEAR, read=_fiscal_year, digits=True),
    )


_ASAP: Final = re.compile(
    r"\b(?:asap|a\.s\.a\.p|as soon as possible|right away|straight away|right now|immediately|immediate|"
    r"urgent(?:ly)?|at once|yesterday|today|tonight|tomorrow|(?<!not )(?<!right )now)\b"
)
_WEEKDAY: Final = re.compile(r"\b(?:(?P<next>next)\s+|(?:this|on|coming)\s+)?(?P<day>" + "|".join(_WEEKDAYS) + r")\b")
_RELATIVE: Final = re.compile(
    r"\b(?P<which>this|next|current|the following|following|this coming|the coming|coming|the)\s+"
    r"(?:(?:fiscal|financial|calendar|business)\s+)?(?P<unit>week|month|quarter|year)\b"
)
_PERIOD_END: Final = re.compile(
    r"\b(?:eoy|eoq|eom|(?:year|quarter|month)[ -]?end|(?:end|close) of (?:the |this )?(?:year|quarter|month|week))\b"
)
_DURATION: Final = re.compile(
    r"\b(?:(?:in|within|inside|over|after)\s+(?:the\s+)?(?:next\s+)?|(?:the\s+)?next\s+)?"
    rf"(?P<n>{_AMOUNT})\s*(?:(?:-|to|or)\s*(?:{_AMOUNT})\s*)?"
    r"(?P<unit>days?|weeks?|wks?|months?|mos?|mths?|quarters?|qtrs?|years?|yrs?)\b"
)
_HOLIDAY: Final = re.compile(r"\b(?:christmas|xmas|new years?(?! eve))\b")
_ISO: Final = re.compile(r"\b((?:19|20|21)\d{2})-(\d{1,2})-(\d{1,2})\b")
_NUMERIC: Final = re.compile(r"\b(\d{1,2})([/.])(\d{1,2})\2(\d{4}|\d{2})\b")
_MONTH_DAY: Final = re.compile(
    rf"\b(?P<month>{_MONTH_NAMES})\.?\s+(?P<day>\d{{1,2}})(?:st|nd|rd|th)?\b(?:,?\s*{_YEAR_WORDS})?"
)
_DAY_MONTH: Final = re.compile(
    rf"\b(?P<day>\d{{1,2}})(?:st|nd|rd|th)?\s+(?:of\s+)?(?P<month>{_MONTH_NAMES})\b(?:,?\s*{_YEAR_WORDS})?"
)
_MONTH: Final = re.compile(rf"\b(?P<month>{_MONTH_NAMES})\b\.?(?:,?\s+(?:of\s+)?{_YEAR_WORDS})?")
_QUARTER: Final = re.compile(
    r"\b(?:q(?P<q>[1-4])|(?P<qword>first|second|third|fourth|1st|2nd|3rd|4th|last|final)\s+quarter)\b"
    rf"(?:\s*(?:of\s+)?(?:the\s+)?(?:{_YEAR_WORDS}|(?P<yy>\d{{2}})\b))?"
)
_HALF: Final = re.compile(
    r"\b(?:h(?P<h>[12])|(?P<hword>first|second|1st|2nd)\s+half)\b"
    rf"(?:\s*(?:of\s+)?(?:the\s+)?(?:year\s+)?{_YEAR_WORDS})?"
)
_SEASON: Final = re.compile(rf"\b(?P<season>spring|summer|fall|autumn|winter)\b(?:\s+(?:of\s+)?{_YEAR_WORDS})?")
_YEAR: Final = re.compile(r"\b(?:fy ?)?(?P<year>(?:19|20|21)\d{2})\b")
_FISCAL_YEAR: Final = re.compile(r"\bfy ?(?P<yy>\d{2})\b")
