"""The engine's vocabulary: inbound events, outbound messages, effects and the conversation state."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum

# A collected value. Everything is JSON-serialisable so states round-trip through storage unchanged.
Value = str | int | float | bool | None | list[str]


class Outcome(StrEnum):
    QUALIFIED = "qualified"
    DISQUALIFIED = "disqualified"
    HANDED_OFF = "handed_off"
    NURTURE = "nurture"


class Status(StrEnum):
    ACTIVE = "active"  # the bot is talking
    HUMAN = "human"  # a rep took over; the bot stays quiet and relays
    ENDED = "ended"  # reached an end state (follow-up timers may still reopen it)
    UNSUBSCRIBED = "unsubscribed"  # the prospect asked us to stop; nothing more is sent


class Tier(StrEnum):
    HOT = "hot"
    WARM = "warm"
    COLD = "cold"


class CauseKind(StrEnum):
    QUESTION = "question"
    REPROMPT = "reprompt"
    OBJECTION = "objection"
    FAQ = "faq"
    INTENT = "intent"
    FALLBACK = "fallback"
    HANDOFF = "handoff"
    TIMER = "timer"
    SAY = "say"


class MatchKind(StrEnum):
    OBJECTION = "objection"
    FAQ = "faq"
    INTENT = "intent"
    ANSWER = "answer"
    NONE = "none"


# ---------------------------------------------------------------- inbound


@dataclass(frozen=True, kw_only=True)
class Started:
    """A new conversation begins. `attributes` carries channel context (source, utm_*, locale)."""

    channel: str
    attributes: Mapping[str, str] = field(default_factory=dict)


@dataclass(frozen=True, kw_only=True)
class TextReceived:
    """The prospect typed something."""

    text: str


@dataclass(frozen=True, kw_only=True)
class ChoiceMade:
    """The prospect pressed an option button. `option` is the option id from the flow."""

    option: str


@dataclass(frozen=True, kw_only=True)
class TimerFired:
    """A timer the engine scheduled earlier is due."""

    key: str


@dataclass(frozen=True, kw_only=True)
class HumanTookOver:
    """A sales rep claimed the conversation; the bot goes quiet."""

    agent: str


@dataclass(frozen=True, kw_only=True)
class ReturnedToBot:
    """The rep handed the conversation back to the bot."""

    agent: str = ""


Inbound = Started | TextReceived | ChoiceMade | TimerFired | HumanTookOver | ReturnedToBot


# ---------------------------------------------------------------- outbound


@dataclass(frozen=True, kw_only=True)
class Cause:
    """What produced an outbound message: `kind` plus the flow id of the thing (state, objection, ...)."""

    kind: CauseKind
    id: str


@dataclass(frozen=True, kw_only=True)
class Option:
    """A choice button. `id` comes back in ChoiceMade."""

    id: str
    label: str


@dataclass(frozen=True, kw_only=True)
class UrlButton:
    """A button that opens a link (already rendered with the collected values)."""

    label: str
    url: str


@dataclass(frozen=True, kw_only=True)
class Outbound:
    """One bot message."""

    text: str
    cause: Cause
    state: str
    options: tuple[Option, ...] = ()
    buttons: tuple[UrlButton, ...] = ()
    multiple: bool = False  # options allow several picks (multi_choice)


# ---------------------------------------------------------------- state


@dataclass(frozen=True, kw_only=True)
class ScoreEntry:
    """One line of the score ledger: which rule added how many points, and why."""

    rule: str
    points: int
    reason: str
    turn: int


@dataclass(frozen=True, kw_only=True)
class ConversationState:
    """Everything the engine needs to continue a conversation. Immutable; each turn returns a new one."""

    flow_id: str
    flow_version: str
    channel: str
    state: str
    status: Status = Status.ACTIVE
    outcome: Outcome | None = None
    values: Mapping[str, Value] = field(default_factory=dict)
    ledger: tuple[ScoreEntry, ...] = ()
    pending: str | None = None  # the state whose question awaits an answer
    attempts: Mapping[str, int] = field(default_factory=dict)  # failed answers per question state
    objections: Mapping[str, int] = field(default_factory=dict)  # times raised per objection id
    handoff_requested: bool = False
    hot_fired: bool = False  # the flow's `on_hot` action already ran (it runs once per conversation)
    attributes: Mapping[str, str] = field(default_factory=dict)  # channel context given at the start
    turn: int = 0
    started_at: datetime
    updated_at: datetime

    @property
    def score(self) -> int:
        return sum(entry.points for entry in self.ledger)


# ---------------------------------------------------------------- effects


@dataclass(frozen=True, kw_only=True)
class LeadSummary:
    """What a sales rep needs to know about a lead, with an explainable score."""

    flow_id: str
    state: str
    status: Status
    outcome: Outcome | None
    score: int
    tier: Tier
    reasons: tuple[ScoreEntry, ...]
    values: Mapping[str, Value]
    objections: Mapping[str, int]


@dataclass(frozen=True, kw_only=True)
class RequestHandoff:
    """Ask for a human. Delivered to Slack by the handoff adapter."""

    reason: str
    team: str
    lead: LeadSummary


@dataclass(frozen=True, kw_only=True)
class LeadUpdated:
    """The lead's values or score changed; storage keeps the latest summary."""

    lead: LeadSummary


@dataclass(frozen=True, kw_only=True)
class ScheduleTimer:
    """Fire TimerFired(key) at `due_at` unless cancelled first. Keys are unique per conversation."""

    key: str
    due_at: datetime


@dataclass(frozen=True, kw_only=True)
class CancelTimers:
    """Cancel every pending timer of the conversation whose key starts with `prefix` ('' = all)."""

    prefix: str = ""


@dataclass(frozen=True, kw_only=True)
class RelayToHuman:
    """The prospect wrote while a rep is in charge: pass the text on."""

    text: str


@dataclass(frozen=True, kw_only=True)
class ConversationEnded:
    """The flow reached an end state."""

    outcome: Outcome


@dataclass(frozen=True, kw_only=True)
class Unsubscribed:
    """The prospect asked to stop; nothing more may be sent."""


Effect = (
    RequestHandoff | LeadUpdated | ScheduleTimer | CancelTimers | RelayToHuman | ConversationEnded | Unsubscribed
)


@dataclass(frozen=True, kw_only=True)
class Transition:
    """One state change, for the event log and the funnel analytics."""

    source: str
    dest: str
    trigger: str
    turn: int


@dataclass(frozen=True, kw_only=True)
class Turn:
    """The engine's answer to one inbound event."""

    state: ConversationState
    replies: tuple[Outbound, ...]
    effects: tuple[Effect, ...]
    transitions: tuple[Transition, ...]
