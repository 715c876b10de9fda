"""MONEY answers: amount, currency, period and the yearly figure."""

from __future__ import annotations

import pytest

from bot.engine.parsers import QuestionType
from bot.engine.parsers.money import MONEY_ERROR
from tests.engine.parsers.support import parse

MONEY = QuestionType.MONEY


@pytest.mark.parametrize(
    ("text", "value", "currency", "period", "annual"),
    [
        ("$20k", 20_000, "USD", "one_off", 20_000),
        ("20k", 20_000, "USD", "one_off", 20_000),
        ("20000", 20_000, "USD", "one_off", 20_000),
        ("20 000 EUR", 20_000, "EUR", "one_off", 20_000),
        ("€5,000", 5000, "EUR", "one_off", 5000),
        ("5.000,50 €", 5000.5, "EUR", "one_off", 5000.5),
        ("€ 20.000", 20_000, "EUR", "one_off", 20_000),
        ("1.500k", 1500, "USD", "one_off", 1500),
        ("30k-ish", 30_000, "USD", "one_off", 30_000),
        ("£2,000 pcm", 2000, "GBP", "month", 24_000),
        ("1.2M ARR", 1_200_000, "USD", "year", 1_200_000),
        ("£1.5m", 1_500_000, "GBP", "one_off", 1_500_000),
        ("10000 dollars", 10_000, "USD", "one_off", 10_000),
        ("10k euros", 10_000, "EUR", "one_off", 10_000),
        ("50 grand", 50_000, "USD", "one_off", 50_000),
        ("¥500000", 500_000, "JPY", "one_off", 500_000),
        ("CAD 5000", 5000, "CAD", "one_off", 5000),
        ("5000 chf", 5000, "CHF", "one_off", 5000),
        ("$1,234.56", 1234.56, "USD", "one_off", 1234.56),
        ("around 5k a month", 5000, "USD", "month", 60_000),
        ("5k USD monthly", 5000, "USD", "month", 60_000),
        ("1.5k/mo", 1500, "USD", "month", 18_000),
        ("2k p.m.", 2000, "USD", "month", 24_000),
        ("$800 per month", 800, "USD", "month", 9600),
        ("50k per year", 50_000, "USD", "year", 50_000),
        ("20k/yr", 20_000, "USD", "year", 20_000),
        ("£30k annually", 30_000, "GBP", "year", 30_000),
        ("100k p.a.", 100_000, "USD", "year", 100_000),
        ("10k one-off", 10_000, "USD", "one_off", 10_000),
        ("10-20k", 15_000, "USD", "one_off", 15_000),
        ("$10k-$20k", 15_000, "USD", "one_off", 15_000),
        ("between 10k and 20k a year", 15_000, "USD", "year", 15_000),
        ("2-3k a month", 2500, "USD", "month", 30_000),
        ("0", 0, "USD", "one_off", 0),
    ],
)
def test_amounts_with_currency_and_period(text: str, value: float, currency: str, period: str, annual: float) -> None:
    parsed = parse(MONEY, text)
    assert parsed.ok, parsed.error
    assert parsed.value == value
    assert dict(parsed.extra) == {"currency": currency, "period": period, "annual": annual}
    assert parsed.confidence == 1.0


@pytest.mark.parametrize(
    ("text", "value", "period", "annual"),
    [
        ("budget is about 30k annually", 30_000, "year", 30_000),
        ("we have 50 people and a $20k budget", 20_000, "one_off", 20_000),
        ("we could spend 3k a month", 3000, "month", 36_000),
        ("our budget for this is roughly $40,000", 40_000, "one_off", 40_000),
    ],
)
def test_amounts_in_a_sentence(text: str, value: float, period: str, annual: float) -> None:
    parsed = parse(MONEY, text)
    assert (parsed.ok, parsed.value, parsed.confidence) == (True, value, 0.9)
    assert (parsed.extra["period"], parsed.extra["annual"]) == (period, annual)


@pytest.mark.parametrize(
    ("text", "value", "annual"),
    [
        ("5k per quarter", 20_000, 20_000),
        ("500 a week", 26_000, 26_000),
        ("$100 a day", 36_500, 36_500),
    ],
)
def test_weekly_quarterly_and_daily_amounts_become_yearly(text: str, value: int, annual: int) -> None:
    parsed = parse(MONEY, text)
    assert (parsed.ok, parsed.value, parsed.extra["period"], parsed.extra["annual"]) == (True, value, "year", annual)


@pytest.mark.parametrize(
    ("spec_currency", "text", "currency"),
    [
        ("EUR", "5000", "EUR"),
        ("eur", "5k", "EUR"),
        ("CAD", "$5k", "CAD"),  # "$" is the flow's own dollar
        ("EUR", "$5k", "USD"),  # ...but never stands for a non-dollar currency
        ("EUR", "£5k", "GBP"),
    ],
)
def test_currency_defaults_to_the_questions_currency(spec_currency: str, text: str, currency: str) -> None:
    parsed = parse(MONEY, text, currency=spec_currency)
    assert parsed.ok
    assert parsed.extra["currency"] == currency


@pytest.mark.parametrize(
    "text",
    [
        "",
        "no budget yet",
        "not sure",
        "we haven't decided",
        "depends on the price",
        "lots of money",
        "call me on +44 20 7946 0958",
        "$$$",
        "9999999999999999999999 dollars",
    ],
)
def test_text_without_an_amount_is_refused(text: str) -> None:
    parsed = parse(MONEY, text)
    assert (parsed.ok, parsed.error) == (False, MONEY_ERROR)


def test_bounds_apply_to_the_amount() -> None:
    parsed = parse(MONEY, "$500", minimum=1000)
    assert (parsed.ok, parsed.error) == (False, "Please enter an amount of at least 1,000.")
