"""The database schema as SQLAlchemy declarative models. Migrations in storage/migrations must match it."""

from __future__ import annotations

from datetime import datetime
from typing import Any, ClassVar, cast

import sqlalchemy as sa
from sqlalchemy.engine import Dialect
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from storage.utc import from_db, to_utc

# Deterministic constraint names, so migrations (and SQLite batch mode) can refer to them.
NAMING_CONVENTION = {
    "ix": "ix_%(table_name)s_%(column_0_N_name)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}

Json = dict[str, Any]


class UtcDateTime(sa.TypeDecorator[datetime]):
    """A timestamp stored as UTC. SQLite drops the offset on write and returns naive values on read."""

    impl = sa.DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        return None if value is None else to_utc(value, "a timestamp column")

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        return None if value is None else from_db(value)


class Base(DeclarativeBase):
    metadata = sa.MetaData(naming_convention=NAMING_CONVENTION)
    type_annotation_map: ClassVar[dict[Any, Any]] = {Json: sa.JSON, datetime: UtcDateTime}


class ConversationRow(Base):
    __tablename__ = "conversations"
    # Not updated_at: then a turn need not move the row's index entry (a user has few conversations to sort).
    __table_args__ = (sa.Index(None, "channel", "external_user_id"),)

    id: Mapped[str] = mapped_column(sa.String(32), primary_key=True)
    channel: Mapped[str] = mapped_column(sa.String(32))
    external_user_id: Mapped[str] = mapped_column(sa.String(255))
    flow_id: Mapped[str] = mapped_column(sa.String(128))
    flow_version: Mapped[str] = mapped_column(sa.String(128))
    state: Mapped[str] = mapped_column(sa.String(128))
    status: Mapped[str] = mapped_column(sa.String(32))
    outcome: Mapped[str | None] = mapped_column(sa.String(32))
    score: Mapped[int]
    # The state has no tier (thresholds live in the flow): the service sets this copy of the lead's tier.
    tier: Mapped[str | None] = mapped_column(sa.String(32))
    values: Mapped[Json]
    state_json: Mapped[Json]
    attributes: Mapped[Json]
    created_at: Mapped[datetime]
    updated_at: Mapped[datetime]
    # When a turn last changed the lead; NULL before the first. The lead itself is this row's state and tier
    # (LeadSummary.of), so it is not stored again (migration 0007).
    lead_updated_at: Mapped[datetime | None]
    # Bumped by every update; an update applies only over the revision it read (see update_conversation).
    revision: Mapped[int] = mapped_column(server_default=sa.text("0"))


class MessageRow(Base):
    __tablename__ = "messages"
    __table_args__ = (sa.Index(None, "conversation_id", "id"),)

    id: Mapped[int] = mapped_column(sa.Integer, primary_key=True, autoincrement=True)
    conversation_id: Mapped[str] = mapped_column(sa.String(32), sa.ForeignKey("conversations.id"))
    direction: Mapped[str] = mapped_column(sa.String(8))
    author: Mapped[str] = mapped_column(sa.String(16))
    text: Mapped[str] = mapped_column(sa.Text)
    payload: Mapped[Json]
    cause_kind: Mapped[str | None] = mapped_column(sa.String(32))
    cause_id: Mapped[str | None] = mapped_column(sa.String(255))
    channel: Mapped[str] = mapped_column(sa.String(32))
    channel_message_id: Mapped[str | None] = mapped_column(sa.String(255))
    reply_to: Mapped[int | None] = mapped_column(sa.ForeignKey("messages.id"), index=True)
    created_at: Mapped[datetime]


# The inbound dedup key, unique per channel. Only rows with a channel message id (inbound ones) are in the
# index, so a bot reply writes no entry in it (migration 0006); ON CONFLICT repeats its WHERE.
_messages = cast(sa.Table, MessageRow.__table__)
sa.Index("uq_messages_channel_channel_message_id", _messages.c.channel, _messages.c.channel_message_id, unique=True,
         sqlite_where=_messages.c.channel_message_id.is_not(None),
         postgresql_where=_messages.c.channel_message_id.is_not(None))


class FlowVersionRow(Base):
    __tablename__ = "flow_versions"

    flow_id: Mapped[str] = mapped_column(sa.String(128), primary_key=True)
    version: Mapped[str] = mapped_column(sa.String(128), primary_key=True)
    content: Mapped[str] = mapped_column(sa.Text)
    created_at: Mapped[datetime]


class TimerRow(Base):
    __tablename__ = "timers"

    id: Mapped[int] = mapped_column(sa.Integer, primary_key=True, autoincrement=True)
    conversation_id: Mapped[str] = mapped_column(sa.String(32))
    key: Mapped[str] = mapped_column(sa.String(255))
    due_at: Mapped[datetime]
    fired_at: Mapped[datetime | None]
    cancelled: Mapped[bool] = mapped_column(default=False)


def pending_timer(table: sa.Table | sa.TableClause) -> sa.ColumnElement[bool]:
    """A timer that has neither fired nor been cancelled. Queries must use this very expression: SQLite uses a
    partial index only for a query whose WHERE repeats the index's terms."""
    return sa.and_(table.c.fired_at.is_(None), table.c.cancelled.is_(False))


# Fired and cancelled timers stay as history, and a conversation that keeps answering reschedules its silence
# timers at every turn. Indexing only the pending ones keeps cancelling a conversation's timers, and the timer
# loop's poll for due ones, as cheap after a million timers as after ten.
_timers = cast(sa.Table, TimerRow.__table__)
sa.Index("ix_timers_pending_conversation_id_key", _timers.c.conversation_id, _timers.c.key,
         sqlite_where=pending_timer(_timers), postgresql_where=pending_timer(_timers))
sa.Index("ix_timers_pending_due_at", _timers.c.due_at,
         sqlite_where=pending_timer(_timers), postgresql_where=pending_timer(_timers))


class TransitionRow(Base):
    __tablename__ = "transitions"
    __table_args__ = (sa.Index(None, "conversation_id", "id"),)

    id: Mapped[int] = mapped_column(sa.Integer, primary_key=True, autoincrement=True)
    conversation_id: Mapped[str] = mapped_column(sa.String(32))
    flow_id: Mapped[str] = mapped_column(sa.String(128))
    flow_version: Mapped[str] = mapped_column(sa.String(128))
    source: Mapped[str] = mapped_column(sa.String(128))
    dest: Mapped[str] = mapped_column(sa.String(128))
    trigger: Mapped[str] = mapped_column(sa.String(255))
    turn: Mapped[int]
    at: Mapped[datetime]


class OutboxRow(Base):
    __tablename__ = "outbox"
    __table_args__ = (sa.Index(None, "done_at", "id"),)

    id: Mapped[int] = mapped_column(sa.Integer, primary_key=True, autoincrement=True)
    conversation_id: Mapped[str] = mapped_column(sa.String(32))
    kind: Mapped[str] = mapped_column(sa.String(64))
    payload: Mapped[Json]
    created_at: Mapped[datetime]
    done_at: Mapped[datetime | None]
