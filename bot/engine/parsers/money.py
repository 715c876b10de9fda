"""MONEY answers: "$20k", "20 000 EUR", "around 5k a month", "50k per year", "£1.5m", "10-20k"."""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from types import MappingProxyType
from typing import Final

from bot.engine.parsers.base import AnswerSpec, Parsed
from bot.engine.parsers.cleaning import fold, too_long
from bot.engine.parsers.numbers import IN_SENTENCE, range_error, within
from bot.engine.parsers.numerals import MAX_MAGNITUDE
from bot.engine.parsers.quantity import Quantity, Scan, as_value, representative, scan

MONEY_ERROR: Final = "Please enter an amount, like $5,000 or '2k per month'."

_DOLLAR_CURRENCIES: Final = frozenset({"USD", "CAD", "AUD", "NZD", "SGD", "HKD"})
_CODES: Final = frozenset(
    {
        "usd", "eur", "gbp", "jpy", "chf", "cad", "aud", "nzd", "inr", "cny", "sek", "nok", "dkk", "pln",
        "brl", "mxn", "sgd", "hkd", "zar", "czk", "huf", "ils", "aed", "krw",
    }
)  # fmt: skip
_NAMED: Final = MappingProxyType(
    {
        "us$": "USD", "c$": "CAD", "ca$": "CAD", "a$": "AUD", "au$": "AUD", "€": "EUR", "£": "GBP", "¥": "JPY",
        "₹": "INR", "dollar": "USD", "dollars": "USD", "bucks": "USD", "buck": "USD", "euro": "EUR",
        "euros": "EUR", "pound": "GBP", "pounds": "GBP", "quid": "GBP", "sterling": "GBP", "yen": "JPY",
        "franc": "CHF", "francs": "CHF", "rupee": "INR", "rupees": "INR", "yuan": "CNY", "rmb": "CNY",
    }
)  # fmt: skip
_CURRENCY: Final = re.compile(
    r"(?:\b(?:us|ca|au|c|a))?\$|[€£¥₹]|\b(?:"
    + "|".join(sorted({*_CODES, *(k for k in _NAMED if k.isalpha())}))
    + r")\b"
)


@dataclass(frozen=True, kw_only=True)
class _Period:
    name: str  # what is stored: month, year or one_off
    per_year: int  # how many times a year the amount is paid (0: once)
    factor: int = 1  # the amount is converted to `name` by multiplying with this (weekly -> yearly: 52)


_MONTH = _Period(name="month", per_year=12)
_YEAR = _Period(name="year", per_year=1)
_ONCE = _Period(name="one_off", per_year=0)


def _per(units: str, extra: str = "") -> str:
    """Match "per month", "a month", "/mo", "each month" (and `extra` alternatives such as "monthly")."""
    pattern = rf"(?:\b(?:per|a|an|each|every|/) ?|/ ?)(?:{units})\b"
    return pattern + (rf"|\b(?:{extra})\b" if extra else "")


_PERIODS: Final = (
    (_per("month|mo|mth|mnth|m", r"monthly|p/?m|p\.m|pcm|mrr"), _MONTH),
    (_per("year|yr|y|annum", r"yearly|annually|annual|p\.?a|arr"), _YEAR),
    (_per("quarter|qtr|q", "quarterly"), _Period(name="year", per_year=1, factor=4)),
    (_per("week|wk", "weekly"), _Period(name="year", per_year=1, factor=52)),
    (_per("day", "daily"), _Period(name="year", per_year=1, factor=365)),
    (r"\b(?:one[- ]?off|one[- ]?time|once|lump[- ]?sum|in total|total|up ?front|flat fee)\b", _ONCE),
)
# One pass over the text finds every period phrase; the group name says which period it is.
_PERIOD: Final = re.compile("|".join(f"(?P<p{index}>{pattern})" for index, (pattern, _) in enumerate(_PERIODS)))
# Words that may stand next to an amount without making it "part of a sentence".
_AMOUNT_WORDS: Final = frozenset(
    {
        *_CODES, *_NAMED, "per", "a", "an", "each", "every", "/", "month", "mo", "mth", "monthly", "year", "yr",
        "yearly", "annually", "annual", "annum", "pa", "p", "m", "y", "quarter", "quarterly", "qtr", "week",
        "weekly", "wk", "day", "daily", "pcm", "arr", "mrr", "once", "total", "one-off", "one-time", "lump", "sum",
        "upfront", "budget", "about", "around", "roughly", "approximately", "approx", "us", "ca", "au", "c",
    }
)  # fmt: skip


# "€20.000" is twenty thousand: in an amount, a dot before exactly three digits groups thousands (but "1.500k"
# is one and a half thousand).
_DOT_THOUSANDS: Final = re.compile(
    r"(?<![\d.,])(\d{1,3})\.(\d{3})(?![\d.,])(?! ?(?:k|m|mm|mn|b|bn|thousand|million|billion|grand|mil|mio)\b)"
)


def parse_money(spec: AnswerSpec, text: str) -> Parsed:
    """Read an amount of money with its currency and how often it is paid.

    Value: the amount (an int when whole; a range's midpoint, "10-20k" being 10k-20k). Extra: "currency"
    (ISO code; spec.currency when none is named; "$" is spec.currency when that is a dollar currency, else
    USD), "period" ("month", "year" or "one_off", the default when none is named; weekly, quarterly and
    daily amounts are converted to yearly ones) and "annual" (the amount per year; the amount itself once).
    """
    if too_long(text):
        return Parsed(ok=False, error=MONEY_ERROR)
    folded = fold(text)
    if "." in folded:
        folded = _DOT_THOUSANDS.sub(r"\1\2", folded)
    found = scan(folded)
    markers = tuple(_CURRENCY.finditer(folded))
    quantity = _amount(found, markers)
    if quantity is None or quantity.high > MAX_MAGNITUDE:
        return Parsed(ok=False, error=MONEY_ERROR)
    period = _period_of(folded, quantity)
    amount = representative(quantity) * period.factor
    if not within(spec, amount):
        return Parsed(ok=False, error=range_error(spec, "an amount"))
    extra = {
        "currency": _currency_of(markers, quantity, spec.currency),
        "period": period.name,
        "annual": as_value(amount * max(period.per_year, 1)),
    }
    confidence = 1.0 if len(found.quantities) == 1 and found.alone(quantity, _AMOUNT_WORDS) else IN_SENTENCE
    return Parsed(ok=True, value=as_value(amount), extra=extra, confidence=confidence)


def _amount(found: Scan, markers: Sequence[re.Match[str]]) -> Quantity | None:
    """The quantity that is money: the first next to a currency or with a k/m suffix, else the first."""
    for quantity in found.quantities:
        if quantity.scaled or any(_distance(quantity, marker.span()) <= 2 for marker in markers):
            return quantity
    return found.quantities[0] if found.quantities else None


def _currency_of(markers: Sequence[re.Match[str]], quantity: Quantity, default: str) -> str:
    """The ISO code of the currency marker closest to the amount, or `default` when there is none."""
    if not markers:
        return default.upper()
    marker = min(markers, key=lambda match: _distance(quantity, match.span())).group()
    if marker == "$":
        return default.upper() if default.upper() in _DOLLAR_CURRENCIES else "USD"
    return _NAMED.get(marker, marker.upper())


def _distance(quantity: Quantity, span: tuple[int, int]) -> int:
    start, end = span
    return max(start - quantity.end, quantity.start - end, 0)


def _period_of(folded: str, quantity: Quantity) -> _Period:
    """The payment period named closest to the amount; one-off when none is named."""
    named = [(_distance(quantity, match.span()), match.lastgroup or "") for match in _PERIOD.finditer(folded)]
    if not named:
        return _ONCE
    _, group = min(named)
    return _PERIODS[int(group[1:])][1]
