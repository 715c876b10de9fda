"""A flow compiled for the engine: every reference resolved, every expression compiled, one shared machine."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import timedelta
from enum import StrEnum
from typing import Any

from bot.engine.expressions import Expression, Template
from bot.engine.matcher import IntentMatcher
from bot.engine.parsers.base import AnswerSpec
from bot.engine.types import Option, Outcome, Tier, Value


class ActionKind(StrEnum):
    RESUME = "resume"
    HANDOFF = "handoff"
    GOTO = "goto"
    END = "end"


@dataclass(frozen=True, kw_only=True)
class Action:
    """What happens after an objection or FAQ answer, on a repeated objection, or when a lead turns hot."""

    kind: ActionKind
    target: str = ""  # the state for GOTO
    outcome: Outcome | None = None  # for END


@dataclass(frozen=True, kw_only=True)
class Question:
    variable: str
    answer: AnswerSpec
    text: Template
    reprompt: Template | None
    options: tuple[Option, ...]
    multiple: bool
    max_attempts: int
    fallback: str | None  # a state id, "skip", or None (= skip)


@dataclass(frozen=True, kw_only=True)
class SilenceRule:
    key: str  # the timer key: "silence:<state>:<index>"
    after: timedelta
    say: Template | None
    goto: str | None


@dataclass(frozen=True, kw_only=True)
class Handoff:
    reason: Template
    team: str


@dataclass(frozen=True, kw_only=True)
class UrlButton:
    label: Template
    url: Template


@dataclass(frozen=True, kw_only=True)
class State:
    id: str
    sets: tuple[tuple[str, Expression], ...]
    say: tuple[Template, ...]
    buttons: tuple[UrlButton, ...]
    handoff: Handoff | None
    question: Question | None
    silence: tuple[SilenceRule, ...]
    end: Outcome | None


@dataclass(frozen=True, kw_only=True)
class Reply:
    """A compiled objection or FAQ."""

    id: str
    answer: tuple[Template, ...]
    then: Action
    max: int | None  # objections only
    on_repeat: Action | None


@dataclass(frozen=True, kw_only=True)
class ScoreRule:
    id: str
    when: Expression
    points: int
    reason: Template


@dataclass(frozen=True, kw_only=True)
class Scoring:
    rules: tuple[ScoreRule, ...]
    hot: int
    warm: int
    on_hot: Action | None
    # variable name -> the rules that read it (in file order), so a new answer re-checks only those rules
    rules_by_name: Mapping[str, tuple[ScoreRule, ...]]
    order: Mapping[str, int]  # rule id -> its position in the file, the ledger's order
    reading: tuple[ScoreRule, ...]  # the rules that read any value, in file order: what a new conversation checks

    def rules_reading(self, names: Iterable[str]) -> Sequence[ScoreRule]:
        """The rules that read any of `names`, each once, in file order."""
        found = [rules for name in names if (rules := self.rules_by_name.get(name))]
        if len(found) < 2:  # the common case: a single answer changed; its rules are in file order already
            return found[0] if found else ()
        merged = {rule.id: rule for rules in found for rule in rules}
        return sorted(merged.values(), key=lambda rule: self.order[rule.id])

    def tier(self, score: int) -> Tier:
        if score >= self.hot:
            return Tier.HOT
        if score >= self.warm:
            return Tier.WARM
        return Tier.COLD


@dataclass(frozen=True, kw_only=True)
class Messages:
    too_long: Template
    empty: Template
    fallback: Template
    handoff: Template
    human_joined: Template
    returned: Template
    ended: Template
    unsubscribed: Template
    stale_choice: Template
    restart: Template
    stop: Template
    human: Template


@dataclass(frozen=True, kw_only=True)
class CompiledFlow:
    """One flow version, ready to run. Shared, read-only, by every conversation on that version."""

    id: str
    version: str
    title: str
    start: str
    states: Mapping[str, State]
    objections: Mapping[str, Reply]
    faqs: Mapping[str, Reply]
    scoring: Scoring
    messages: Messages
    defaults: Mapping[str, Value]  # declared `values:` with their initial values
    variables: frozenset[str]  # every name a condition or template may use
    max_input_chars: int
    matcher: IntentMatcher
    machine: Any  # transitions.Machine, compiled once per flow version

    def jump_trigger(self, target: str) -> str:
        """The machine trigger that moves any state to `target`."""
        return f"jump_{target}"
