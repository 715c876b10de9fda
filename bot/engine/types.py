"""The engine's vocabulary: inbound events, outbound messages, effects and the conversation state.

Every type is an immutable attrs class (`attrs.frozen`) kept without `__slots__`: attrs then builds a frozen
instance by writing its `__dict__` directly, about three times faster than a frozen dataclass, which sets each
field through `object.__setattr__`. A turn builds about ten of them. Use `attrs.evolve` to derive a copy.

The enums are StrEnums, so `str(member)` is the member's value: what storage and the wire write, and about five
times cheaper than `.value` (a property written in Python), which matters on the paths every turn takes.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from datetime import datetime
from enum import StrEnum
from typing import Any, Generic, TypeVar, overload

import attrs

T = TypeVar("T")

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


class _computed_once(Generic[T]):  # lower case: used as a decorator, like the property it stands for
    """A read-only property of an immutable object, computed at its first read and kept in the instance's
    `__dict__`, where later reads find it without calling this. functools.cached_property does the same, but on
    Python 3.11 takes a lock at every first read, which costs more than the sums it saves here (3.12 dropped
    the lock). Without it, two threads reading at once may both compute the value: the same value."""

    def __init__(self, compute: Callable[[Any], T]) -> None:
        self._compute = compute
        self._name = compute.__name__

    def __set_name__(self, owner: type[Any], name: str) -> None:
        self._name = name

    @overload
    def __get__(self, instance: None, owner: type[Any]) -> _computed_once[T]: ...

    @overload
    def __get__(self, instance: object, owner: type[Any]) -> T: ...

    def __get__(self, instance: object, owner: type[Any]) -> T | _computed_once[T]:
        if instance is None:
            return self
        value = instance.__dict__[self._name] = self._compute(instance)
        return value


# ---------------------------------------------------------------- inbound


@attrs.frozen(kw_only=True, slots=False)
class Started:
    """A new conversation begins. `attributes` carries channel context (source, utm_*, locale)."""

    channel: str
    attributes: Mapping[str, str] = attrs.field(factory=dict)


@attrs.frozen(kw_only=True, slots=False)
class TextReceived:
    """The prospect typed something."""

    text: str


@attrs.frozen(kw_only=True, slots=False)
class ChoiceMade:
    """The prospect pressed an option button. `option` is the option id from the flow."""

    option: str


@attrs.frozen(kw_only=True, slots=False)
class TimerFired:
    """A timer the engine scheduled earlier is due."""

    key: str


@attrs.frozen(kw_only=True, slots=False)
class HumanTookOver:
    """A sales rep claimed the conversation; the bot goes quiet."""

    agent: str


@attrs.frozen(kw_only=True, slots=False)
class ReturnedToBot:
    """The rep handed the conversation back to the bot."""

    agent: str = ""


Inbound = Started | TextReceived | ChoiceMade | TimerFired | HumanTookOver | ReturnedToBot


# ---------------------------------------------------------------- outbound


@attrs.frozen(kw_only=True, slots=False)
class Cause:
    """What produced an outbound message: `kind` plus the flow id of the thing (state, objection, ...)."""

    kind: CauseKind
    id: str


@attrs.frozen(kw_only=True, slots=False)
class Option:
    """A choice button. `id` comes back in ChoiceMade."""

    id: str
    label: str


@attrs.frozen(kw_only=True, slots=False)
class UrlButton:
    """A button that opens a link (already rendered with the collected values)."""

    label: str
    url: str


@attrs.frozen(kw_only=True, slots=False)
class Outbound:
    """One bot message."""

    text: str
    cause: Cause
    state: str
    options: tuple[Option, ...] = ()
    buttons: tuple[UrlButton, ...] = ()
    multiple: bool = False  # options allow several picks (multi_choice)


# ---------------------------------------------------------------- state


@attrs.frozen(kw_only=True, slots=False)
class ScoreEntry:
    """One line of the score ledger: which rule added how many points, and why."""

    rule: str
    points: int
    reason: str
    turn: int


@attrs.frozen(kw_only=True, slots=False)
class ConversationState:
    """Everything the engine needs to continue a conversation. Immutable; each turn returns a new one."""

    flow_id: str
    flow_version: str
    channel: str
    state: str
    status: Status = Status.ACTIVE
    outcome: Outcome | None = None
    values: Mapping[str, Value] = attrs.field(factory=dict)
    ledger: tuple[ScoreEntry, ...] = ()
    pending: str | None = None  # the state whose question awaits an answer
    attempts: Mapping[str, int] = attrs.field(factory=dict)  # failed answers per question state
    objections: Mapping[str, int] = attrs.field(factory=dict)  # times raised per objection id
    handoff_requested: bool = False
    hot_fired: bool = False  # the flow's `on_hot` action already ran (it runs once per conversation)
    attributes: Mapping[str, str] = attrs.field(factory=dict)  # channel context given at the start
    turn: int = 0
    started_at: datetime
    updated_at: datetime

    @_computed_once
    def score(self) -> int:
        """The ledger's total. Computed once per state (the state is immutable): a turn reads it several times."""
        return sum([entry.points for entry in self.ledger])


# ---------------------------------------------------------------- effects


@attrs.frozen(kw_only=True, slots=False)
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

    @classmethod
    def of(cls, state: ConversationState, tier: Tier) -> LeadSummary:
        """The lead a conversation state holds: what a turn's LeadUpdated carries, from the state it ends in."""
        return cls(flow_id=state.flow_id, state=state.state, status=state.status, outcome=state.outcome,
                   score=state.score, tier=tier, reasons=state.ledger, values=state.values,
                   objections=state.objections)


@attrs.frozen(kw_only=True, slots=False)
class RequestHandoff:
    """Ask for a human. Delivered to Slack by the handoff adapter.

    `repeat` is True when the conversation had already asked for a person (a hot lead that later books a
    demo asks twice): the team was alerted about this lead once, so this request belongs with that alert
    rather than in a second one. A restart starts counting again.
    """

    reason: str
    team: str
    lead: LeadSummary
    repeat: bool = False


@attrs.frozen(kw_only=True, slots=False)
class LeadUpdated:
    """This turn changed what sales sees of the lead: an answer, the score, an objection or the outcome. `lead`
    is LeadSummary.of the state the turn ends in, so storage keeps only when it changed and derives the
    summary from the saved state (get_lead)."""

    lead: LeadSummary


@attrs.frozen(kw_only=True, slots=False)
class ScheduleTimer:
    """Fire TimerFired(key) at `due_at` unless cancelled first. Keys are unique per conversation."""

    key: str
    due_at: datetime


@attrs.frozen(kw_only=True, slots=False)
class CancelTimers:
    """Cancel every pending timer of the conversation whose key starts with `prefix` ('' = all)."""

    prefix: str = ""


@attrs.frozen(kw_only=True, slots=False)
class RelayToHuman:
    """The prospect wrote while a rep is in charge: pass the text on."""

    text: str


@attrs.frozen(kw_only=True, slots=False)
class ConversationEnded:
    """The flow reached an end state."""

    outcome: Outcome


@attrs.frozen(kw_only=True, slots=False)
class Unsubscribed:
    """The prospect asked to stop; nothing more may be sent."""


Effect = (
    RequestHandoff | LeadUpdated | ScheduleTimer | CancelTimers | RelayToHuman | ConversationEnded | Unsubscribed
)


@attrs.frozen(kw_only=True, slots=False)
class Transition:
    """One state change, for the event log and the funnel analytics."""

    source: str
    dest: str
    trigger: str
    turn: int


@attrs.frozen(kw_only=True, slots=False)
class Turn:
    """The engine's answer to one inbound event."""

    state: ConversationState
    replies: tuple[Outbound, ...]
    effects: tuple[Effect, ...]
    transitions: tuple[Transition, ...]
