"""How the engine reads a prospect's text: an answer, an objection, an FAQ, a global intent, or nothing."""

from __future__ import annotations

from datetime import datetime
from typing import Any, NamedTuple

from bot.engine import compiled as c
from bot.engine.matcher import Match
from bot.engine.parsers import Parsed, parse_answer
from bot.engine.types import MatchKind, Value

INTENT_CONFIDENCE = 0.8  # a global intent must be this sure to beat a parsed answer


class Interpretation(NamedTuple):
    """How the engine reads a text at a question: an intent, objection, FAQ, an answer, or nothing.

    A NamedTuple rather than a frozen dataclass: one is made every turn, and construction cost adds up.
    """

    kind: MatchKind
    id: str
    confidence: float
    match: Match | None
    parsed: Parsed | None


def interpret(flow: c.CompiledFlow, question: c.Question | None, state_id: str | None, text: str,
              now: datetime) -> Interpretation:
    """Decide what `text` means while `question` (if any) is pending. Shared by the engine and `flows match`."""
    parsed = parse_answer(question.answer, text, now) if question is not None else None
    if parsed is not None and parsed.ok and parsed.confidence >= 1.0:
        # nothing can beat a certain answer (a recognised intent or objection must score higher), so skip
        # the recogniser: it is a third of a turn's cost
        return Interpretation(kind=MatchKind.ANSWER, id=state_id or "", confidence=parsed.confidence, match=None,
                              parsed=parsed)
    match = flow.matcher.match(text)
    if match is not None and match.kind is MatchKind.INTENT and _beats(match, parsed, INTENT_CONFIDENCE):
        return Interpretation(kind=match.kind, id=match.id, confidence=match.confidence, match=match, parsed=parsed)
    if match is not None and match.kind is not MatchKind.INTENT and _beats(match, parsed, 0.0):
        return Interpretation(kind=match.kind, id=match.id, confidence=match.confidence, match=match, parsed=parsed)
    if parsed is not None and parsed.ok:
        return Interpretation(kind=MatchKind.ANSWER, id=state_id or "", confidence=parsed.confidence, match=match,
                              parsed=parsed)
    return Interpretation(kind=MatchKind.NONE, id="", confidence=0.0, match=match, parsed=parsed)


def _beats(match: Match, parsed: Parsed | None, floor: float) -> bool:
    """Does a recognised intent/objection/FAQ win over the answer parsed from the same text?"""
    if match.confidence < floor:
        return False
    return parsed is None or not parsed.ok or match.confidence > parsed.confidence


def initial_values(flow: c.CompiledFlow, attributes: Any) -> dict[str, Value]:
    """The flow's declared `values:`, overridden by channel attributes of the same name (typed like the default)."""
    values: dict[str, Value] = dict(flow.defaults)
    for key, raw in attributes.items():
        if key in flow.defaults:
            values[key] = _typed_like(flow.defaults[key], str(raw))
    return values


def _typed_like(default: Value, raw: str) -> Value:
    try:
        if isinstance(default, bool):
            return raw.strip().lower() in ("1", "true", "yes", "on")
        if isinstance(default, int):
            return int(raw)
        if isinstance(default, float):
            return float(raw)
    except ValueError:
        return default
    return raw


SKIP_WORDS = frozenset({
    "skip", "pass", "next", "skip it", "skip this", "rather not say", "i'd rather not say", "prefer not to say",
    "i prefer not to say", "no comment", "n/a", "na", "none",
})


def is_skip(text: str) -> bool:
    """The prospect declined a question that may be skipped."""
    return " ".join(text.lower().replace("’", "'").strip(" .!").split()) in SKIP_WORDS


def as_value(raw: Any) -> Value:
    if raw is None or isinstance(raw, (str, bool, int, float)):
        return raw
    if isinstance(raw, (list, tuple)):
        return [str(item) for item in raw]
    return str(raw)
