"""What every answer parser takes and returns."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from enum import StrEnum

import attrs

from bot.engine.types import Value


class QuestionType(StrEnum):
    TEXT = "text"
    NUMBER = "number"
    MONEY = "money"
    CHOICE = "choice"
    MULTI_CHOICE = "multi_choice"
    YES_NO = "yes_no"
    EMAIL = "email"
    PHONE = "phone"
    DATE = "date"
    NAME = "name"
    COMPANY = "company"


@dataclass(frozen=True, kw_only=True)
class ChoiceOption:
    """One option of a choice question."""

    id: str
    label: str
    synonyms: tuple[str, ...] = ()


@dataclass(frozen=True, kw_only=True)
class AnswerSpec:
    """What a question accepts. Built once per question when a flow is compiled."""

    type: QuestionType
    options: tuple[ChoiceOption, ...] = ()
    minimum: float | None = None
    maximum: float | None = None
    currency: str = "USD"  # money: assumed when the prospect names none
    region: str = "US"  # phone: assumed for numbers without a +country code


# attrs rather than a dataclass: one is built on most turns, and attrs builds it faster (see bot.engine.types)
@attrs.frozen(kw_only=True, slots=False)
class Parsed:
    """The outcome of parsing one answer.

    `value` is stored under the question's variable; each `extra` item is stored as `<variable>_<key>`
    (money: currency, period, annual; number: min, max; date: days, date).
    `confidence` is 1.0 for an unambiguous structured answer and lower for fuzzy or free-text ones; the
    engine compares it with objection/FAQ matches to decide what the prospect meant.
    `error` says, when not ok, what the question expects (it is shown in the re-prompt).
    """

    ok: bool
    value: Value = None
    extra: Mapping[str, Value] = attrs.field(factory=dict)
    confidence: float = 1.0
    error: str = ""


# The `extra` keys each type may produce. The flow validator declares `<variable>_<key>` for each, so
# conditions and templates may use them; a parser must not produce any other key.
EXTRA_KEYS: Mapping[QuestionType, tuple[str, ...]] = {
    QuestionType.NUMBER: ("min", "max"),
    QuestionType.MONEY: ("currency", "period", "annual"),
    QuestionType.DATE: ("days", "date"),
}
