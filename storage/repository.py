"""The storage port: records and the unit-of-work interface the service talks to. No SQLAlchemy here."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from contextlib import AbstractAsyncContextManager
from datetime import datetime
from enum import StrEnum
from typing import Any, Protocol

import attrs

from bot.engine.types import ConversationState, LeadSummary, Tier
from bot.errors import StorageError

JsonObject = Mapping[str, Any]


class Direction(StrEnum):
    IN = "in"
    OUT = "out"


class Author(StrEnum):
    PROSPECT = "prospect"
    BOT = "bot"
    REP = "rep"


@attrs.frozen(kw_only=True, slots=False)
class ConversationRecord:
    """A conversation row. `state` is the engine's state; the status and score columns are derived from it."""

    id: str
    channel: str
    external_user_id: str
    state: ConversationState
    # The lead tier of the state's score. The state cannot know it (thresholds live in the flow), so the
    # service sets it; a copy of the lead's tier, kept here so conversations can be listed by tier.
    tier: str | None = None
    attributes: Mapping[str, str] = attrs.field(factory=dict)
    created_at: datetime
    updated_at: datetime
    # How many times the row has been updated. A record carries the revision it was read at, and
    # update_conversation saves it only over that same revision (optimistic concurrency).
    revision: int = 0


@attrs.frozen(kw_only=True, slots=False)
class MessageRecord:
    """One message in or out. `id` is assigned by the store and grows monotonically per database."""

    conversation_id: str
    direction: Direction
    author: Author
    text: str
    created_at: datetime
    payload: JsonObject = attrs.field(factory=dict)  # options, buttons, choice, state
    cause_kind: str | None = None
    cause_id: str | None = None
    channel: str = ""
    channel_message_id: str | None = None  # unique per channel among inbound messages: the dedup key
    reply_to: int | None = None  # for outbound: the inbound message it answers
    id: int | None = None


@attrs.frozen(kw_only=True, slots=False)
class LeadRecord:
    """A conversation's lead as it stands, and when a turn last changed it."""

    conversation_id: str
    lead: LeadSummary
    updated_at: datetime


def check_lead(record: ConversationRecord, lead_changed: bool) -> None:
    """Refuse to record a lead without a tier: the lead is LeadSummary.of the state and the tier.

    Raises:
        StorageError: `lead_changed` for a record whose tier is None.
    """
    if lead_changed and record.tier is None:
        raise StorageError(f"conversation {record.id}: a lead needs the record's tier; set it (the service does)")


def lead_record(record: ConversationRecord, updated_at: datetime) -> LeadRecord:
    """The lead of a saved conversation as its row stands: LeadSummary.of its state and tier, which is what the
    turn's LeadUpdated carried. `updated_at` is when a turn last recorded one; a later turn that recorded none
    changed no answer, score or objection, but may have moved the conversation on (a rep took it over),
    which the lead shows."""
    if record.tier is None:
        raise StorageError(f"conversation {record.id} has a lead but no tier; save both (the service does)")
    return LeadRecord(conversation_id=record.id, lead=LeadSummary.of(record.state, Tier(record.tier)),
                      updated_at=updated_at)


@attrs.frozen(kw_only=True, slots=False)
class FlowVersionRecord:
    """An immutable published version of a flow file. `version` is the content hash."""

    flow_id: str
    version: str
    content: str
    created_at: datetime


@attrs.frozen(kw_only=True, slots=False)
class TimerRecord:
    """A timer the engine asked for. Fires at most once."""

    conversation_id: str
    key: str
    due_at: datetime
    id: int | None = None
    fired_at: datetime | None = None
    cancelled: bool = False


@attrs.frozen(kw_only=True, slots=False)
class TransitionRecord:
    """One row of the event log of state transitions."""

    conversation_id: str
    flow_id: str
    flow_version: str
    source: str
    dest: str
    trigger: str
    turn: int
    at: datetime


@attrs.frozen(kw_only=True, slots=False)
class OutboxRecord:
    """An effect to deliver outside the database (Slack alert, relay), written in the turn's transaction."""

    conversation_id: str
    kind: str
    payload: JsonObject
    created_at: datetime
    id: int | None = None
    done_at: datetime | None = None


class UnitOfWork(Protocol):
    """Everything one transaction may do. Committed when the `transaction()` block exits cleanly."""

    async def get_conversation(
        self, conversation_id: str, *, for_update: bool = False
    ) -> ConversationRecord | None:
        """Load a conversation by id, to update it when `for_update`. Such a read may be answered from the
        store's memory of rows it saved itself: the update_conversation that follows checks the revision."""

    async def find_latest_conversation(
        self, channel: str, external_user_id: str
    ) -> ConversationRecord | None:
        """The most recently updated conversation of this user on this channel, if any."""

    async def insert_conversation(self, record: ConversationRecord, *, lead_changed: bool = False) -> None:
        """Create a conversation; `lead_changed` if its first turn recorded a lead (a LeadUpdated effect).

        Raises:
            StorageError: the id exists, or `lead_changed` without a tier (see check_lead).
        """

    async def update_conversation(self, record: ConversationRecord, *, lead_changed: bool = False) -> None:
        """Save a conversation's new state as revision `record.revision + 1`. Its id, channel, external user id
        and creation time are its identity and stay as they were inserted. `lead_changed` (the turn recorded a
        lead) dates the lead `record.updated_at`; without it the lead keeps its date.

        Raises:
            ConversationChanged: the stored row is no longer at `record.revision` (another transaction saved
                it since it was read); nothing was saved.
            StorageError: no such conversation, or `lead_changed` without a tier (see check_lead).
        """

    async def find_inbound(self, channel: str, channel_message_id: str) -> MessageRecord | None:
        """The inbound message with this channel message id, if it was already stored (dedup)."""

    async def add_message(self, record: MessageRecord) -> MessageRecord:
        """Store a message; returns it with its id set. Raises StorageError on a duplicate inbound id."""

    async def add_inbound(self, record: MessageRecord) -> MessageRecord | None:
        """Store a message unless its (channel, channel message id) is already stored: then store nothing and
        return None. The dedup check and the insert in one step, safe against a concurrent insert."""

    async def add_messages(self, records: Sequence[MessageRecord]) -> list[MessageRecord]:
        """Store several messages in order (increasing ids); returns them with their ids set."""

    async def list_messages(
        self, conversation_id: str, *, after_id: int | None = None, limit: int = 500
    ) -> list[MessageRecord]:
        """Messages of a conversation in order, optionally only those after a message id."""

    async def replies_to(self, message_id: int) -> list[MessageRecord]:
        """The outbound messages produced in answer to an inbound message, in order."""

    async def get_lead(self, conversation_id: str) -> LeadRecord | None:
        """The conversation's lead (see lead_record), or None if no turn recorded one yet."""

    async def save_flow_version(self, record: FlowVersionRecord) -> None:
        """Store a flow version; saving the same (flow_id, version) again is a no-op."""

    async def get_flow_version(self, flow_id: str, version: str) -> FlowVersionRecord | None:
        """A stored flow version."""

    async def schedule_timer(self, record: TimerRecord) -> None:
        """Add a timer; an unfired timer with the same (conversation, key) is replaced."""

    async def cancel_timers(self, conversation_id: str, prefix: str = "") -> int:
        """Cancel unfired timers whose key starts with prefix. Returns how many."""

    async def due_timers(self, now: datetime, limit: int = 100) -> list[TimerRecord]:
        """Unfired, uncancelled timers due at or before now, oldest first."""

    async def claim_timer(self, timer_id: int, now: datetime) -> bool:
        """Mark a timer fired. True only for the one caller that claimed it first."""

    async def add_transitions(self, records: Sequence[TransitionRecord]) -> None:
        """Append to the event log."""

    async def list_transitions(self, conversation_id: str) -> list[TransitionRecord]:
        """The event log of one conversation, in order."""

    async def add_outbox(self, record: OutboxRecord) -> OutboxRecord:
        """Queue an effect for delivery outside the database."""

    async def pending_outbox(self, limit: int = 100) -> list[OutboxRecord]:
        """Undelivered outbox rows, oldest first."""

    async def mark_outbox_done(self, outbox_id: int, now: datetime) -> None:
        """Record that an outbox row was delivered."""


class Store(Protocol):
    """A database: hands out transactions."""

    def transaction(self) -> AbstractAsyncContextManager[UnitOfWork]:
        """One write transaction (BEGIN IMMEDIATE on SQLite). Commits on success, rolls back on error."""

    async def ping(self) -> None:
        """Raise StorageError if the database is not reachable."""

    async def close(self) -> None:
        """Release connections."""
