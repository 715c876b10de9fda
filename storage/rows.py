"""Translation between the port's records and table rows (one function per direction).

Records go in as column dicts for Core statements; rows come back as Core `Row`s of `select(table)`
(attribute names equal column names) or anything with the same attributes.
"""

from __future__ import annotations

from typing import Any

import attrs

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


def conversation_columns(record: ConversationRecord, *, lead_changed: bool = False) -> dict[str, Any]:
    """The columns update_conversation rewrites: not the identity (id, channel, external user id), which never
    changes (SQLite would rewrite the index entry of every column it sets), nor the creation time; the lead's
    date only when the turn changed the lead."""
    state = record.state
    columns = {
        "flow_id": state.flow_id,
        "flow_version": state.flow_version,
        "state": state.state,
        "status": state.status.value,
        "outcome": state.outcome.value if state.outcome else None,
        "score": state.score,
        "tier": record.tier,
        "values": dict(state.values),
        "state_json": _state_without_values(state),
        "attributes": dict(record.attributes),
        "updated_at": to_utc(record.updated_at, f"conversation {record.id} updated_at"),
    }
    if lead_changed:
        columns["lead_updated_at"] = columns["updated_at"]
    return columns


def _state_without_values(state: ConversationState) -> dict[str, Any]:
    """The state's JSON without its values: they are stored once, in the `values` column."""
    data = state_to_json(state)
    del data["values"]
    return data


def _state_from_row(row: Any) -> ConversationState:
    data = row.state_json
    if "values" not in data:  # written by _state_without_values; older rows hold their values in both places
        data = {**data, "values": row.values}
    return state_from_json(data)


def conversation_insert_columns(record: ConversationRecord, *, lead_changed: bool = False) -> dict[str, Any]:
    """Every column of a new conversations row (the lead's date stays NULL if the first turn recorded no lead)."""
    columns = conversation_columns(record, lead_changed=lead_changed)
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
    return attrs.evolve(
        record,
        channel=stored.channel,
        external_user_id=stored.external_user_id,
        attributes=dict(record.attributes),
        created_at=to_utc(stored.created_at, f"conversation {record.id} created_at"),
        updated_at=to_utc(record.updated_at, f"conversation {record.id} updated_at"),
        revision=revision,
    )


def message_columns(record: MessageRecord) -> dict[str, Any]:
    """The columns of a new messages row (the id is the database's)."""
    return {
        "conversation_id": record.conversation_id,
        "direction": record.direction.value,
        "author": record.author.value,
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
