"""Shared test helpers for the answer parsers: a fixed clock and a one-line way to parse."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from bot.engine.parsers import AnswerSpec, ChoiceOption, Parsed, QuestionType, parse_answer

# A Thursday in Q4: next month is December, next quarter is Q1 2027.
NOW = datetime(2026, 11, 26, 12, 0, tzinfo=UTC)


def parse(kind: QuestionType, text: str, **spec: Any) -> Parsed:
    """Parse `text` as an answer to a question of `kind`, with optional AnswerSpec fields."""
    return parse_answer(AnswerSpec(type=kind, **spec), text, NOW)


def options(*labels: str) -> tuple[ChoiceOption, ...]:
    """Options whose ids are their labels lower-cased with spaces as underscores."""
    return tuple(ChoiceOption(id=label.lower().replace(" ", "_"), label=label) for label in labels)
