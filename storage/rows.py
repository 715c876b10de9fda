"""Translation between the port's records and table rows (one function per direction).

Records go in as column dicts for Core statements; rows come back as Core `Row`s of `select(table)`
(attribute names equal column names) or anything with the same attributes.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from bot.engine.codec import state_from_json, state_to_json
from bot.engine.types import ConversationState
from storage.repository import (
    Author,
    ConversationRecord,
    Direction,
    LeadRecord,
    MessageRecord,
    OutboxRecord,
    TimerRecord,
    TransitionRecord,
    lead_record,
)
from storage.utc import from_db, to_utc


def conversation_columns(record: ConversationRecord, *, lead_changed: bool = False,
                         row: ConversationRecord | None = None) -> dict[str, Any]:
    """The columns update_conversation rewrites: not the identity (id, channel, external user id), which never
    changes (SQLite would rewrite the index entry of every column it sets), nor the creation time; the lead's
    date only when the turn changed the lead.

    `row` is the row as it stands, when known: the flow version is then left out if it is the row's, and the
    values and attributes if they are the row's own objects (a turn that changes neither passes them on as
    they are). Equal is not enough for those: 1 == True, but the row would keep 1. So a conversation's flow
    version and attributes, and its values at most turns, are not encoded and written again.
    """
    return _columns(record, lead_changed, row, row.created_at if row is not None else None)


def _columns(record: ConversationRecord, lead_changed: bool, row: ConversationRecord | None,
             created_at: datetime | None) -> dict[str, Any]:
    """conversation_columns, for a row created at `created_at` (None: unknown)."""
    state = record.state
    columns: dict[str, Any] = {
        "state": state.state,
        "status": str(state.status),
        "outcome": str(state.outcome) if state.outcome else None,
        "score": state.score,
        "tier": record.tier,
        "state_json": _state_json(state, created_at=created_at, updated_at=record.updated_at),
        "updated_at": to_utc(record.updated_at, f"conversation {record.id} updated_at"),
    }
    if row is None or (row.state.flow_id, row.state.flow_version) != (state.flow_id, state.flow_version):
        columns["flow_id"], columns["flow_version"] = state.flow_id, state.flow_version
    if row is None or row.state.values is not state.values:
        columns["values"] = dict(state.values)
    if row is None or row.attributes is not record.attributes:
        columns["attributes"] = dict(record.attributes)
    if lead_changed:
        columns["lead_updated_at"] = columns["updated_at"]
    return columns


# What _state_json leaves out of the state's JSON, by (start is the row's, last change is the row's).
_OMIT = {(started, updated): frozenset({"values"} | ({"started_at"} if started else set())
                                       | ({"updated_at"} if updated else set()))
         for started in (False, True) for updated in (False, True)}


def _state_json(state: ConversationState, *, created_at: datetime | None, updated_at: datetime) -> dict[str, Any]:
    """The state's JSON without what the row's other columns hold: its values (the `values` column), and its
    start and last change when they are the row's `created_at` and `updated_at` in UTC, as a turn's are (the
    columns hold UTC, so a time in another zone stays in the JSON to come back as it went in)."""
    started = state.started_at.tzinfo is UTC and state.started_at == created_at
    updated = state.updated_at.tzinfo is UTC and state.updated_at == updated_at
    return state_to_json(state, omit=_OMIT[started, updated])


def _state_from_row(row: Any) -> ConversationState:
    """The state as _state_json saved it, or as older rows hold it (the values and times in the JSON too)."""
    data = row.state_json
    if "values" not in data or "started_at" not in data or "updated_at" not in data:
        data = dict(data)
        data.setdefault("values", row.values)
        if "started_at" not in data:
            data["started_at"] = from_db(row.created_at).isoformat()
        if "updated_at" not in data:
            data["updated_at"] = from_db(row.updated_at).isoformat()
    return state_from_json(data)


def conversation_insert_columns(record: ConversationRecord, *, lead_changed: bool = False) -> dict[str, Any]:
    """Every column of a new conversations row (the lead's date stays NULL if the first turn recorded no lead)."""
    columns = _columns(record, lead_changed, None, record.created_at)
    columns["id"] = record.id
    columns["channel"] = record.channel
    columns["external_user_id"] = record.external_user_id
    columns["revision"] = record.revision
    columns["created_at"] = to_utc(record.created_at, f"conversation {record.id} created_at")
    return columns


def to_conversation_record(row: Any) -> ConversationRecord:
    return ConversationRecord(
        id=row.id,
        channel=row.channel,
        external_user_id=row.external_user_id,
        state=_state_from_row(row),
        tier=row.tier,
        attributes=dict(row.attributes),
        created_at=from_db(row.created_at),
        updated_at=from_db(row.updated_at),
        revision=row.revision,
    )


def saved_conversation(record: ConversationRecord, revision: int, stored: ConversationRecord) -> ConversationRecord:
    """The record as a load of the row just saved from it would return it: UTC times, `revision`, and the
    identity and creation time of the `stored` row (which an update leaves alone)."""
    # Every field named (not attrs.evolve, which is several times slower): a test pins the field list.
    return ConversationRecord(
        id=record.id,
        channel=stored.channel,
        external_user_id=stored.external_user_id,
        state=record.state,
        tier=record.tier,
        attributes=dict(record.attributes),
        created_at=to_utc(stored.created_at, f"conversation {record.id} created_at"),
        updated_at=to_utc(record.updated_at, f"conversation {record.id} updated_at"),
        revision=revision,
    )


def message_columns(record: MessageRecord) -> dict[str, Any]:
    """The columns of a new messages row (the id is the database's)."""
    return {
        "conversation_id": record.conversation_id,
        "direction": str(record.direction),
        "author": str(record.author),
        "text": record.text,
        "payload": dict(record.payload),
        "cause_kind": record.cause_kind,
        "cause_id": record.cause_id,
        "channel": record.channel,
        "channel_message_id": record.channel_message_id,
        "reply_to": record.reply_to,
        "created_at": to_utc(record.created_at, f"message of conversation {record.conversation_id} created_at"),
    }


def inserted_message_record(record: MessageRecord, columns: dict[str, Any], message_id: int) -> MessageRecord:
    """The record of a row just inserted from `columns` (the message_columns of `record`) under `message_id`."""
    return MessageRecord(
        id=message_id,
        conversation_id=columns["conversation_id"],
        direction=record.direction,  # what Direction(columns["direction"]) gives, without the enum lookup
        author=record.author,
        text=columns["text"],
        payload=dict(columns["payload"]),
        cause_kind=columns["cause_kind"],
        cause_id=columns["cause_id"],
        channel=columns["channel"],
        channel_message_id=columns["channel_message_id"],
        reply_to=columns["reply_to"],
        created_at=from_db(columns["created_at"]),
    )


def to_message_record(row: Any) -> MessageRecord:
    return MessageRecord(
        id=row.id,
        conversation_id=row.conversation_id,
        direction=Direction(row.direction),
        author=Author(row.author),
        text=row.text,
        payload=dict(row.payload),
        cause_kind=row.cause_kind,
        cause_id=row.cause_id,
        channel=row.channel,
        channel_message_id=row.channel_message_id,
        reply_to=row.reply_to,
        created_at=from_db(row.created_at),
    )


def to_lead_record(row: Any) -> LeadRecord | None:
    """The lead of a conversations row (its columns and `lead_updated_at`), or None before a turn recorded one."""
    if row.lead_updated_at is None:
        return None
    return lead_record(to_conversation_record(row), from_db(row.lead_updated_at))


def timer_columns(record: TimerRecord) -> dict[str, Any]:
    fired_at = None if record.fired_at is None else to_utc(record.fired_at, f"timer {record.key} fired_at")
    return {
        "conversation_id": record.conversation_id,
        "key": record.key,
        "due_at": to_utc(record.due_at, f"timer {record.key} due_at"),
        "fired_at": fired_at,
        "cancelled": record.cancelled,
    }


def to_timer_record(row: Any) -> TimerRecord:
    return TimerRecord(
        id=row.id,
        conversation_id=row.conversation_id,
        key=row.key,
        due_at=from_db(row.due_at),
        fired_at=None if row.fired_at is None else from_db(row.fired_at),
        cancelled=row.cancelled,
    )


def transition_columns(record: TransitionRecord) -> dict[str, Any]:
    return {
        "conversation_id": record.conversation_id,
        "flow_id": record.flow_id,
        "flow_version": record.flow_version,
        "source": record.source,
        "dest": record.dest,
        "trigger": record.trigger,
        "turn": record.turn,
        "at": to_utc(record.at, f"transition {record.source}->{record.dest} at"),
    }


def to_transition_record(row: Any) -> TransitionRecord:
    return TransitionRecord(
        conversation_id=row.conversation_id,
        flow_id=row.flow_id,
        flow_version=row.flow_version,
        source=row.source,
        dest=row.dest,
        trigger=row.trigger,
        turn=row.turn,
        at=from_db(row.at),
    )


def outbox_columns(record: OutboxRecord) -> dict[str, Any]:
    done_at = None if record.done_at is None else to_utc(record.done_at, f"outbox {record.kind} done_at")
    return {
        "conversation_id": record.conversation_id,
        "kind": record.kind,
        "payload": dict(record.payload),
        "created_at": to_utc(record.created_at, f"outbox {record.kind} created_at"),
        "done_at": done_at,
    }


def to_outbox_record(row: Any) -> OutboxRecord:
    return OutboxRecord(
        id=row.id,
        conversation_id=row.conversation_id,
        kind=row.kind,
        payload=dict(row.payload),
        created_at=from_db(row.created_at),
        done_at=None if row.done_at is None else from_db(row.done_at),
    )
