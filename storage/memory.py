"""An in-memory Store with the SQL stores' semantics, for fast tests of the service. Not for production."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import attrs

from bot.errors import ConversationChanged, StorageError
from storage.repository import (
    ConversationRecord,
    Direction,
    FlowVersionRecord,
    LeadRecord,
    MessageRecord,
    OutboxRecord,
    TimerRecord,
    TransitionRecord,
    check_lead,
    lead_record,
)
from storage.utc import to_utc


@dataclass(kw_only=True)
class _Tables:
    """Everything stored. Records are frozen, so a transaction copies the containers, not the records."""

    conversations: dict[str, ConversationRecord] = field(default_factory=dict)
    messages: dict[int, MessageRecord] = field(default_factory=dict)
    lead_updated_at: dict[str, datetime] = field(default_factory=dict)  # when each conversation's lead changed
    flows: dict[tuple[str, str], FlowVersionRecord] = field(default_factory=dict)
    timers: dict[int, TimerRecord] = field(default_factory=dict)
    transitions: list[TransitionRecord] = field(default_factory=list)
    outbox: dict[int, OutboxRecord] = field(default_factory=dict)
    last_id: dict[str, int] = field(default_factory=dict)

    def copy(self) -> _Tables:
        return _Tables(
            conversations=dict(self.conversations),
            messages=dict(self.messages),
            lead_updated_at=dict(self.lead_updated_at),
            flows=dict(self.flows),
            timers=dict(self.timers),
            transitions=list(self.transitions),
            outbox=dict(self.outbox),
            last_id=dict(self.last_id),
        )

    def next_id(self, table: str) -> int:
        self.last_id[table] = self.last_id.get(table, 0) + 1
        return self.last_id[table]


class InMemoryUnitOfWork:
    """One transaction on a private copy of the tables; InMemoryStore swaps it in on commit."""

    def __init__(self, tables: _Tables) -> None:
        self._t = tables

    async def get_conversation(
        self, conversation_id: str, *, for_update: bool = False
    ) -> ConversationRecord | None:
        return self._t.conversations.get(conversation_id)

    async def find_latest_conversation(
        self, channel: str, external_user_id: str
    ) -> ConversationRecord | None:
        mine = [
            c
            for c in self._t.conversations.values()
            if (c.channel, c.external_user_id) == (channel, external_user_id)
        ]
        return max(mine, key=lambda c: (c.updated_at, c.created_at, c.id), default=None)

    async def insert_conversation(self, record: ConversationRecord, *, lead_changed: bool = False) -> None:
        check_lead(record, lead_changed)
        if record.id in self._t.conversations:
            raise StorageError(
                f"cannot insert conversation {record.id}: a conversation with this id already exists; "
                "use update_conversation to change it"
            )
        self._t.conversations[record.id] = stored = _conversation(record)
        self._record_lead(stored, lead_changed)

    async def update_conversation(self, record: ConversationRecord, *, lead_changed: bool = False) -> None:
        check_lead(record, lead_changed)
        old = self._t.conversations.get(record.id)
        if old is None:
            raise StorageError(
                f"cannot update conversation {record.id}: it does not exist; insert_conversation first"
            )
        if old.revision != record.revision:
            raise ConversationChanged(record.id, record.revision, old.revision)
        stored = attrs.evolve(_conversation(record), channel=old.channel, external_user_id=old.external_user_id,
                              created_at=old.created_at, revision=record.revision + 1)
        self._t.conversations[record.id] = stored
        self._record_lead(stored, lead_changed)

    def _record_lead(self, stored: ConversationRecord, lead_changed: bool) -> None:
        if lead_changed:
            self._t.lead_updated_at[stored.id] = stored.updated_at

    async def find_inbound(self, channel: str, channel_message_id: str) -> MessageRecord | None:
        for message in self._t.messages.values():
            if (message.channel, message.channel_message_id, message.direction) == (
                channel,
                channel_message_id,
                Direction.IN,
            ):
                return message
        return None

    async def add_message(self, record: MessageRecord) -> MessageRecord:
        self._check_message(record)
        created_at = to_utc(record.created_at, f"message of conversation {record.conversation_id} created_at")
        stored = attrs.evolve(
            record, id=self._t.next_id("messages"), created_at=created_at, payload=dict(record.payload)
        )
        self._t.messages[stored.id or 0] = stored
        return stored

    async def add_inbound(self, record: MessageRecord) -> MessageRecord | None:
        if record.channel_message_id is not None and self._stored_as(record) is not None:
            return None
        return await self.add_message(record)

    async def add_messages(self, records: Sequence[MessageRecord]) -> list[MessageRecord]:
        return [await self.add_message(record) for record in records]

    def _stored_as(self, record: MessageRecord) -> MessageRecord | None:
        """The stored message with the same (channel, channel_message_id), if any."""
        for message in self._t.messages.values():
            if (message.channel, message.channel_message_id) == (record.channel, record.channel_message_id):
                return message
        return None

    def _check_message(self, record: MessageRecord) -> None:
        """The SQL constraints: the unique (channel, channel_message_id) and the two foreign keys."""
        if record.channel_message_id is not None and (stored := self._stored_as(record)) is not None:
            raise StorageError(
                f"duplicate message: channel {record.channel!r} message id "
                f"{record.channel_message_id!r} is already stored as message {stored.id}; "
                "check find_inbound before add_message"
            )
        if record.conversation_id not in self._t.conversations or (
            record.reply_to is not None and record.reply_to not in self._t.messages
        ):
            raise StorageError(
                f"cannot add a message to conversation {record.conversation_id}: the conversation "
                f"or the message it replies to ({record.reply_to}) does not exist"
            )

    async def list_messages(
        self, conversation_id: str, *, after_id: int | None = None, limit: int = 500
    ) -> list[MessageRecord]:
        start = after_id if after_id is not None else 0
        found = [
            m
            for i, m in sorted(self._t.messages.items())
            if m.conversation_id == conversation_id and i > start
        ]
        return found[:limit]

    async def replies_to(self, message_id: int) -> list[MessageRecord]:
        return [
            m
            for _, m in sorted(self._t.messages.items())
            if m.reply_to == message_id and m.direction == Direction.OUT
        ]

    async def get_lead(self, conversation_id: str) -> LeadRecord | None:
        updated_at = self._t.lead_updated_at.get(conversation_id)
        if updated_at is None:
            return None
        return lead_record(self._t.conversations[conversation_id], updated_at)

    async def save_flow_version(self, record: FlowVersionRecord) -> None:
        created_at = to_utc(record.created_at, f"flow {record.flow_id} version created_at")
        self._t.flows.setdefault((record.flow_id, record.version), attrs.evolve(record, created_at=created_at))

    async def get_flow_version(self, flow_id: str, version: str) -> FlowVersionRecord | None:
        return self._t.flows.get((flow_id, version))

    async def schedule_timer(self, record: TimerRecord) -> None:
        for timer in self._pending_timers(record.conversation_id):
            if timer.key == record.key:
                self._t.timers[timer.id or 0] = attrs.evolve(timer, cancelled=True)
        timer_id = self._t.next_id("timers")
        self._t.timers[timer_id] = attrs.evolve(
            record,
            id=timer_id,
            due_at=to_utc(record.due_at, f"timer {record.key} due_at"),
            fired_at=None
            if record.fired_at is None
            else to_utc(record.fired_at, f"timer {record.key} fired_at"),
        )

    async def cancel_timers(self, conversation_id: str, prefix: str = "") -> int:
        cancelled = [t for t in self._pending_timers(conversation_id) if t.key.startswith(prefix)]
        for timer in cancelled:
            self._t.timers[timer.id or 0] = attrs.evolve(timer, cancelled=True)
        return len(cancelled)

    async def due_timers(self, now: datetime, limit: int = 100) -> list[TimerRecord]:
        now = to_utc(now, "due_timers(now)")
        due = [t for t in self._pending_timers() if t.due_at <= now]
        return sorted(due, key=lambda t: (t.due_at, t.id or 0))[:limit]

    async def claim_timer(self, timer_id: int, now: datetime) -> bool:
        timer = self._t.timers.get(timer_id)
        if timer is None or timer.fired_at is not None or timer.cancelled:
            return False
        self._t.timers[timer_id] = attrs.evolve(timer, fired_at=to_utc(now, "claim_timer(now)"))
        return True

    def _pending_timers(self, conversation_id: str | None = None) -> list[TimerRecord]:
        return [
            t
            for t in self._t.timers.values()
            if t.fired_at is None and not t.cancelled and conversation_id in (None, t.conversation_id)
        ]

    async def add_transitions(self, records: Sequence[TransitionRecord]) -> None:
        for record in records:
            at = to_utc(record.at, f"transition {record.source}->{record.dest} at")
            self._t.transitions.append(attrs.evolve(record, at=at))

    async def list_transitions(self, conversation_id: str) -> list[TransitionRecord]:
        return [t for t in self._t.transitions if t.conversation_id == conversation_id]

    async def add_outbox(self, record: OutboxRecord) -> OutboxRecord:
        outbox_id = self._t.next_id("outbox")
        stored = attrs.evolve(
            record,
            id=outbox_id,
            payload=dict(record.payload),
            created_at=to_utc(record.created_at, f"outbox {record.kind} created_at"),
            done_at=None
            if record.done_at is None
            else to_utc(record.done_at, f"outbox {record.kind} done_at"),
        )
        self._t.outbox[outbox_id] = stored
        return stored

    async def pending_outbox(self, limit: int = 100) -> list[OutboxRecord]:
        return [o for _, o in sorted(self._t.outbox.items()) if o.done_at is None][:limit]

    async def mark_outbox_done(self, outbox_id: int, now: datetime) -> None:
        row = self._t.outbox.get(outbox_id)
        if row is None:
            raise StorageError(f"cannot mark outbox row {outbox_id} done: no such row")
        if row.done_at is None:
            self._t.outbox[outbox_id] = attrs.evolve(row, done_at=to_utc(now, "mark_outbox_done(now)"))


class InMemoryStore:
    """A Store in a few dicts. Transactions run one at a time on a copy that replaces the data on commit."""

    def __init__(self) -> None:
        self._tables = _Tables()
        self._lock = asyncio.Lock()
        self._owner: asyncio.Task[Any] | None = None

    @asynccontextmanager
    async def transaction(self) -> AsyncIterator[InMemoryUnitOfWork]:
        """Commit (swap the copy in) on a clean exit; on an exception the copy is simply dropped."""
        task = asyncio.current_task()
        if task is not None and task is self._owner:
            raise StorageError("a transaction was opened inside another transaction of the same store")
        async with self._lock:
            self._owner = task
            try:
                working = self._tables.copy()
                yield InMemoryUnitOfWork(working)
                self._tables = working
            finally:
                self._owner = None

    async def ping(self) -> None:
        """Always reachable."""

    async def close(self) -> None:
        """Nothing to release."""


def _conversation(record: ConversationRecord) -> ConversationRecord:
    return attrs.evolve(
        record,
        attributes=dict(record.attributes),
        created_at=to_utc(record.created_at, f"conversation {record.id} created_at"),
        updated_at=to_utc(record.updated_at, f"conversation {record.id} updated_at"),
    )
