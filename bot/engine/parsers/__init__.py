"""Answer parsers: turn what a prospect typed into a typed value for the question's variable."""

from __future__ import annotations

from datetime import datetime
from typing import assert_never

from bot.engine.parsers.base import EXTRA_KEYS, AnswerSpec, ChoiceOption, Parsed, QuestionType
from bot.engine.parsers.choice import catalog_for, parse_choice
from bot.engine.parsers.contact import parse_email, parse_phone
from bot.engine.parsers.money import parse_money
from bot.engine.parsers.multichoice import parse_multi_choice
from bot.engine.parsers.names import parse_company, parse_name
from bot.engine.parsers.numbers import parse_number
from bot.engine.parsers.text import parse_text
from bot.engine.parsers.timeframe import parse_date
from bot.engine.parsers.yesno import parse_yes_no

__all__ = ["EXTRA_KEYS", "AnswerSpec", "ChoiceOption", "Parsed", "QuestionType", "parse_answer", "prepare"]


def prepare(spec: AnswerSpec) -> None:
    """Do the per-question work (folding option names) once, when the flow compiles, not on every answer."""
    if spec.type in (QuestionType.CHOICE, QuestionType.MULTI_CHOICE):
        catalog_for(spec)


def parse_answer(spec: AnswerSpec, text: str, now: datetime) -> Parsed:
    """Parse `text` as an answer to a question of `spec.type`. Never raises.

    Args:
        spec: what the question accepts (options, bounds, default currency and phone region).
        text: what the prospect typed, as received.
        now: the current time, timezone-aware; only DATE answers use it.

    Returns:
        Parsed(ok=True, value=..., extra=..., confidence=...) or Parsed(ok=False, error=<re-prompt text>).
    """
    match spec.type:
        case QuestionType.TEXT:
            return parse_text(text)
        case QuestionType.NUMBER:
            return parse_number(spec, text)
        case QuestionType.MONEY:
            return parse_money(spec, text)
        case QuestionType.CHOICE:
            return parse_choice(spec, text)
        case QuestionType.MULTI_CHOICE:
            return parse_multi_choice(spec, text)
        case QuestionType.YES_NO:
            return parse_yes_no(text)
        case QuestionType.EMAIL:
            return parse_email(text)
        case QuestionType.PHONE:
            return parse_phone(spec, text)
        case QuestionType.DATE:
            return parse_date(spec, text, now)
        case QuestionType.NAME:
            return parse_name(text)
        case QuestionType.COMPANY:
            return parse_company(text)
        case _:
            assert_never(spec.type)
