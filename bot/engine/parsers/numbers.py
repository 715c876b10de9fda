"""NUMBER answers: "50", "about fifty", "1.2k", "50-100", "over 200", "we are 40 people", "just me"."""

from __future__ import annotations

from typing import Final

from bot.engine.parsers.base import AnswerSpec, Parsed
from bot.engine.parsers.cleaning import fold, too_long
from bot.engine.parsers.numerals import MAX_MAGNITUDE
from bot.engine.parsers.quantity import Bound, Quantity, as_value, representative, scan
from bot.engine.types import Value

NUMBER_ERROR: Final = "Please enter a number, like 50 or 'about 200'."
# Found in a sentence ("we are 40 people") rather than on its own.
IN_SENTENCE: Final = 0.9
# Several numbers ("40 people in 3 offices"): the first is taken, with this confidence.
AMBIGUOUS: Final = 0.7


def parse_number(spec: AnswerSpec, text: str) -> Parsed:
    """Read a count or amount without currency.

    Value: an int when whole, else a float; a range's rounded midpoint. Extra: {"min", "max"} for a range,
    {"min"} for "50+"/"over 50", {"max"} for "under 50"/"up to 50", nothing for a plain number.
    """
    if too_long(text):
        return Parsed(ok=False, error=NUMBER_ERROR)
    found = scan(fold(text))
    if not found.quantities:
        return Parsed(ok=False, error=NUMBER_ERROR)
    quantity = found.quantities[0]
    value = representative(quantity)
    if quantity.high > MAX_MAGNITUDE:
        return Parsed(ok=False, error=NUMBER_ERROR)
    if not within(spec, value):
        return Parsed(ok=False, error=range_error(spec, "a number"))
    confidence = 1.0 if found.alone(quantity) else IN_SENTENCE
    if len(found.quantities) > 1:
        confidence = AMBIGUOUS
    return Parsed(ok=True, value=as_value(value), extra=bounds_extra(quantity), confidence=confidence)


def bounds_extra(quantity: Quantity) -> dict[str, Value]:
    """The NUMBER extras for a quantity: its ends when it has any."""
    if quantity.bound is Bound.RANGE:
        return {"min": as_value(quantity.low), "max": as_value(quantity.high)}
    if quantity.bound is Bound.AT_LEAST:
        return {"min": as_value(quantity.low)}
    if quantity.bound is Bound.AT_MOST:
        return {"max": as_value(quantity.high)}
    return {}


def within(spec: AnswerSpec, value: float) -> bool:
    """Does `value` respect the question's minimum and maximum?"""
    if spec.minimum is not None and value < spec.minimum:
        return False
    return spec.maximum is None or value <= spec.maximum


def range_error(spec: AnswerSpec, what: str) -> str:
    """The re-prompt for an answer outside the question's bounds, naming them."""
    low, high = spec.minimum, spec.maximum
    if low is not None and high is not None:
        return f"Please enter {what} between {show(low)} and {show(high)}."
    if low is not None:
        return f"Please enter {what} of at least {show(low)}."
    return f"Please enter {what} no bigger than {show(high or 0)}."


def show(number: float) -> str:
    """A number as a prospect would write it: 1,000 or 2.5."""
    value = as_value(number)
    return f"{value:,}" if isinstance(value, int) else f"{value:g}"
