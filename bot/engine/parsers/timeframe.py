"""DATE answers: a buying timeline ("ASAP", "next quarter", "in 3 months", "by March", "not sure") as a horizon."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, datetime
from types import MappingProxyType
from typing import Final

from bot.engine.parsers.base import AnswerSpec, Parsed
from bot.engine.parsers.cleaning import fold, too_long
from bot.engine.parsers.periods import Grain, Horizon, Period, add_days, day_period, horizon_of, quarter_period
from bot.engine.parsers.timewords import readers
from bot.engine.types import Value

DATE_ERROR: Final = "Please tell me roughly when, like 'next month', 'Q3', 'in 6 weeks' or 'not sure'."
PAST_ERROR: Final = "That is in the past. Please tell me when from now on, like 'next month' or 'Q3'."
IN_SENTENCE: Final = 0.9
VAGUE: Final = 0.8  # "not sure", "no rush": a real answer, but weak evidence of a timeline
SOON: Final = 0.7  # "soon": probably asap, maybe not

# Regions that write 03/04/2027 for March 4th.
_MONTH_FIRST_REGIONS: Final = frozenset({"US", "PH", "FM", "MH", "PW", "AS", "GU", "MP", "PR", "VI", "UM"})
_UNSURE: Final = re.compile(
    r"\b(?:not sure|unsure|dont know|do not know|dunno|idk|no idea|no clue|not certain|uncertain|undecided|"
    r"not decided|tbd|tbc|to be determined|to be confirmed|no timeline|no timeframe|no time frame|"
    r"no set (?:timeline|date)|hard to say|depends|who knows|cant say|cannot say|no plans?|not planned)\b"
)
_LATER: Final = re.compile(
    r"\b(?:no rush|no hurry|not in a hurry|in no hurry|just browsing|just looking|browsing|looking around|"
    r"researching|exploring|later|someday|some day|one day|eventually|at some point|in the future|future|"
    r"not anytime soon|not any time soon|not soon|not now|not right now|not yet|long term|longer term|"
    r"down the road|in a while|not urgent|no urgency|sometime|whenever)\b"
)
_SOON: Final = re.compile(r"\b(?:soon|shortly|quickly|fast|imminently)\b")
_END_OF: Final = re.compile(r"\b(?:end|close)\s+of\s+(?:the\s+)?$")
_AFTER: Final = re.compile(r"\b(?:after|beyond|past)\s+(?:the\s+)?$")
_PART_OF_YEAR: Final = re.compile(r"\b(?P<part>early|beginning of|start of|mid|middle of|late)[\s-]*(?:the\s+)?$")
_NEGATED: Final = re.compile(r"\bnot\s+$")
_DIGIT: Final = re.compile(r"\d")
_FILLERS: Final = frozenset(
    {
        "in", "by", "within", "around", "about", "before", "until", "till", "from", "starting", "sometime",
        "probably", "maybe", "hopefully", "later", "ideally", "the", "of", "end", "close", "early", "mid",
        "middle", "late", "beginning", "start", "after", "beyond", "past", "roughly", "approximately", "like",
        "at", "on", "latest", "earliest", "please", "pls", "thanks", "next", "this", "or", "so", "ish", "approx",
        "max", "least",
    }
)  # fmt: skip
_PART_START: Final = MappingProxyType(
    {"early": 1, "beginning of": 1, "start of": 1, "mid": 3, "middle of": 3, "late": 4}
)
_READERS: Final = MappingProxyType({True: readers(month_first=True), False: readers(month_first=False)})


@dataclass(frozen=True, kw_only=True)
class _Said:
    """The period a text names, where it is named, and which day of it the prospect means."""

    period: Period
    start: int
    end: int
    at_end: bool = False


def parse_date(spec: AnswerSpec, text: str, now: datetime) -> Parsed:
    """Read when the prospect means, seen from `now` (timezone-aware; its own local date is used).

    Value: a Horizon value ("asap", "this_month", ..., "later", "unsure"). Extra: "days" from today to the
    day meant (the start of a named period, the end for "end of ...", today for a period already begun;
    None for "unsure" and unspecified "later") and "date", that day as "YYYY-MM-DD" (or None).
    """
    if too_long(text):
        return Parsed(ok=False, error=DATE_ERROR)
    folded = fold(text).replace("'", "")
    today = now.date()
    said = _first_period(folded, today, month_first=spec.region.upper() in _MONTH_FIRST_REGIONS)
    if said is not None:
        return _answer(said, folded, today)
    return _vague(folded, today)


def _first_period(folded: str, today: date, *, month_first: bool) -> _Said | None:
    """The earliest (then longest) period named in the text, with "end of"/"after"/"early" applied."""
    best: _Said | None = None
    has_digit = _DIGIT.search(folded) is not None
    for reader in _READERS[month_first]:
        if reader.digits and not has_digit:
            continue
        match = reader.pattern.search(folded)  # most readers find nothing: a search is cheaper than finditer
        while match is not None:
            period = None if _NEGATED.search(folded, 0, match.start()) else reader.read(match, today)
            if period is not None:
                said = _adjust(folded, _Said(period=period, start=match.start(), end=match.end()))
                if best is None or (said.start, -said.end) < (best.start, -best.end):
                    best = said
                break
            match = reader.pattern.search(folded, match.end())  # no pattern matches empty text
    return best


def _adjust(folded: str, said: _Said) -> _Said:
    before = folded[: said.start]
    if _END_OF.search(before):
        return _Said(period=said.period, start=said.start, end=said.end, at_end=True)
    if _AFTER.search(before):
        day = add_days(said.period.end, 1)
        return _Said(period=day_period(day), start=said.start, end=said.end)
    part = _PART_OF_YEAR.search(before)
    if part is not None and said.period.grain is Grain.YEAR:
        quarter = quarter_period(said.period.start.year, _PART_START[part.group("part")])
        return _Said(period=quarter, start=said.start, end=said.end)
    return said


def _answer(said: _Said, folded: str, today: date) -> Parsed:
    horizon = horizon_of(said.period, today)
    if horizon is None:
        return Parsed(ok=False, error=PAST_ERROR)
    day = said.period.end if said.at_end else max(said.period.start, today)
    leftover = (folded[: said.start] + " " + folded[said.end :]).split()
    alone = all(word.strip(".,!?;:-") in _FILLERS or not word.strip(".,!?;:-") for word in leftover)
    return _timeline(horizon, day, today, 1.0 if alone else IN_SENTENCE)


def _vague(folded: str, today: date) -> Parsed:
    """No period named: "not sure", "no rush", "soon", or nothing usable."""
    found = [
        (match.start(), horizon, confidence)
        for pattern, horizon, confidence in (
            (_UNSURE, Horizon.UNSURE, VAGUE),
            (_LATER, Horizon.LATER, VAGUE),
            (_SOON, Horizon.ASAP, SOON),
        )
        if (match := pattern.search(folded)) is not None
    ]
    if not found:
        return Parsed(ok=False, error=DATE_ERROR)
    _, horizon, confidence = min(found, key=lambda item: item[0])
    if horizon is Horizon.ASAP:
        return _timeline(horizon, today, today, confidence)
    return Parsed(ok=True, value=horizon.value, extra={"days": None, "date": None}, confidence=confidence)


def _timeline(horizon: Horizon, day: date, today: date, confidence: float) -> Parsed:
    extra: dict[str, Value] = {"days": (day - today).days, "date": day.isoformat()}
    return Parsed(ok=True, value=horizon.value, extra=extra, confidence=confidence)
