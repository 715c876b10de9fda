"""The Store port on SQLAlchemy: PostgreSQL through asyncpg, SQLite inline on the event loop (see inline.py)."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager
from datetime import datetime
from typing import Any, cast

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.exc import IntegrityError, OperationalError, SQLAlchemyError
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker
from sqlalchemy.orm import Session

from bot.errors import StorageError
from storage import rows
from storage.engine import create_engine, create_sqlite_engine, parse_url, storage_error
from storage.inline import InlineSession
from storage.models import (
    Base,
    ConversationRow,
    FlowVersionRow,
    LeadRow,
    MessageRow,
    OutboxRow,
    TimerRow,
    TransitionRow,
)
from storage.repository import (
    ConversationRecord,
    Direction,
    FlowVersionRecord,
    LeadRecord,
    MessageRecord,
    OutboxRecord,
    TimerRecord,
    TransitionRecord,
)
from storage.utc import from_db, to_utc

_PENDING = (TimerRow.fired_at.is_(None), TimerRow.cancelled.is_(False))
LOCK_WAIT = 5.0  # seconds to wait for SQLite's write lock held by another process


class SqlAlchemyUnitOfWork:
    """One transaction on one AsyncSession. Built by SqlAlchemyStore.transaction(), never directly."""

    def __init__(self, session: AsyncSession | InlineSession) -> None:
        self._session: Any = session
        self._dialect = session.bind.dialect.name if session.bind is not None else ""

    # ------------------------------------------------------------ conversations

    async def get_conversation(
        self, conversation_id: str, *, for_update: bool = False
    ) -> ConversationRecord | None:
        query = sa.select(ConversationRow).where(ConversationRow.id == conversation_id)
        if for_update:  # SELECT ... FOR UPDATE on PostgreSQL; SQLite ignores it (BEGIN IMMEDIATE locks all).
            query = query.with_for_update().execution_options(populate_existing=True)
        row = (await self._session.scalars(query)).one_or_none()
        return None if row is None else rows.to_conversation_record(row)

    async def find_latest_conversation(
        self, channel: str, external_user_id: str
    ) -> ConversationRecord | None:
        query = (
            sa.select(ConversationRow)
            .where(ConversationRow.channel == channel, ConversationRow.external_user_id == external_user_id)
            .order_by(
                ConversationRow.updated_at.desc(),
                ConversationRow.created_at.desc(),
                ConversationRow.id.desc(),
            )
            .limit(1)
        )
        row = (await self._session.scalars(query)).one_or_none()
        return None if row is None else rows.to_conversation_record(row)

    async def insert_conversation(self, record: ConversationRecord) -> None:
        try:
            async with self._session.begin_nested():
                self._session.add(rows.to_conversation_row(record))
        except IntegrityError as exc:
            raise StorageError(
                f"cannot insert conversation {record.id}: a conversation with this id already exists; "
                "use update_conversation to change it"
            ) from exc

    async def update_conversation(self, record: ConversationRecord) -> None:
        statement = (
            sa.update(ConversationRow)
            .where(ConversationRow.id == record.id)
            .values(**rows.conversation_columns(record))
        )
        if _rowcount(await self._session.execute(statement)) != 1:
            raise StorageError(
                f"cannot update conversation {record.id}: it does not exist; insert_conversation first"
            )

    # ------------------------------------------------------------ messages

    async def find_inbound(self, channel: str, channel_message_id: str) -> MessageRecord | None:
        query = sa.select(MessageRow).where(
            MessageRow.channel == channel,
            MessageRow.channel_message_id == channel_message_id,
            MessageRow.direction == Direction.IN.value,
        )
        row = (await self._session.scalars(query)).one_or_none()
        return None if row is None else rows.to_message_record(row)

    async def add_message(self, record: MessageRecord) -> MessageRecord:
        row = rows.to_message_row(record)
        try:
            # A savepoint keeps the transaction usable after a duplicate (PostgreSQL aborts it otherwise).
            async with self._session.begin_nested():
                self._session.add(row)
        except IntegrityError as exc:
            raise await self._message_conflict(record) from exc
        return rows.to_message_record(row)

    async def _message_conflict(self, record: MessageRecord) -> StorageError:
        if record.channel_message_id is not None:
            query = sa.select(MessageRow.id).where(
                MessageRow.channel == record.channel,
                MessageRow.channel_message_id == record.channel_message_id,
            )
            existing = (await self._session.scalars(query)).first()
            if existing is not None:
                return StorageError(
                    f"duplicate message: channel {record.channel!r} message id {record.channel_message_id!r} "
                    f"is already stored as message {existing}; check find_inbound before add_message"
                )
        return StorageError(
            f"cannot add a message to conversation {record.conversation_id}: the conversation "
            f"or the message it replies to ({record.reply_to}) does not exist"
        )

    async def list_messages(
        self, conversation_id: str, *, after_id: int | None = None, limit: int = 500
    ) -> list[MessageRecord]:
        query = sa.select(MessageRow).where(MessageRow.conversation_id == conversation_id)
        if after_id is not None:
            query = query.where(MessageRow.id > after_id)
        found = await self._session.scalars(query.order_by(MessageRow.id).limit(limit))
        return [rows.to_message_record(row) for row in found]

    async def replies_to(self, message_id: int) -> list[MessageRecord]:
        query = (
            sa.select(MessageRow)
            .where(MessageRow.reply_to == message_id, MessageRow.direction == Direction.OUT.value)
            .order_by(MessageRow.id)
        )
        return [rows.to_message_record(row) for row in await self._session.scalars(query)]

    # ------------------------------------------------------------ leads and flows

    async def upsert_lead(self, record: LeadRecord) -> None:
        columns = rows.lead_columns(record)
        statement = self._insert(LeadRow).values(**columns)
        try:
            await self._session.execute(
                statement.on_conflict_do_update(index_elements=[LeadRow.conversation_id], set_=columns)
            )
        except IntegrityError as exc:
            raise StorageError(
                f"cannot record the lead of conversation {record.conversation_id}: "
                "the conversation does not exist"
            ) from exc
        await self._session.execute(
            sa.update(ConversationRow)
            .where(ConversationRow.id == record.conversation_id)
            .values(tier=columns["tier"])
        )

    async def get_lead(self, conversation_id: str) -> LeadRecord | None:
        # populate_existing: upsert_lead bypasses the session's identity map.
        query = (
            sa.select(LeadRow)
            .where(LeadRow.conversation_id == conversation_id)
            .execution_options(populate_existing=True)
        )
        row = (await self._session.scalars(query)).one_or_none()
        return None if row is None else rows.to_lead_record(row)

    async def save_flow_version(self, record: FlowVersionRecord) -> None:
        statement = self._insert(FlowVersionRow).values(
            flow_id=record.flow_id,
            version=record.version,
            content=record.content,
            created_at=to_utc(record.created_at, f"flow {record.flow_id} version created_at"),
        )
        await self._session.execute(
            statement.on_conflict_do_nothing(index_elements=[FlowVersionRow.flow_id, FlowVersionRow.version])
        )

    async def get_flow_version(self, flow_id: str, version: str) -> FlowVersionRecord | None:
        row = await self._session.get(FlowVersionRow, (flow_id, version))
        if row is None:
            return None
        return FlowVersionRecord(
            flow_id=row.flow_id, version=row.version, content=row.content, created_at=from_db(row.created_at)
        )

    # ------------------------------------------------------------ timers

    async def schedule_timer(self, record: TimerRecord) -> None:
        # Cancel and insert rather than move the old row: a worker that already read the old timer
        # from due_timers must fail to claim it, instead of firing the rescheduled one early.
        await self._session.execute(
            sa.update(TimerRow)
            .where(TimerRow.conversation_id == record.conversation_id, TimerRow.key == record.key, *_PENDING)
            .values(cancelled=True)
        )
        self._session.add(rows.to_timer_row(record))
        await self._session.flush()

    async def cancel_timers(self, conversation_id: str, prefix: str = "") -> int:
        statement = sa.update(TimerRow).where(TimerRow.conversation_id == conversation_id, *_PENDING)
        if prefix:
            # Not LIKE: SQLite's LIKE ignores case and treats % and _ as wildcards.
            statement = statement.where(sa.func.substr(TimerRow.key, 1, len(prefix)) == prefix)
        result = await self._session.execute(
            statement.values(cancelled=True).execution_options(synchronize_session="fetch")
        )
        return _rowcount(result)

    async def due_timers(self, now: datetime, limit: int = 100) -> list[TimerRecord]:
        query = (
            sa.select(TimerRow)
            .where(*_PENDING, TimerRow.due_at <= to_utc(now, "due_timers(now)"))
            .order_by(TimerRow.due_at, TimerRow.id)
            .limit(limit)
        )
        return [rows.to_timer_record(row) for row in await self._session.scalars(query)]

    async def claim_timer(self, timer_id: int, now: datetime) -> bool:
        # One atomic UPDATE: of two workers racing for the timer, exactly one sees rowcount 1.
        statement = (
            sa.update(TimerRow)
            .where(TimerRow.id == timer_id, *_PENDING)
            .values(fired_at=to_utc(now, "claim_timer(now)"))
        )
        return _rowcount(await self._session.execute(statement)) == 1

    # ------------------------------------------------------------ event log and outbox

    async def add_transitions(self, records: Sequence[TransitionRecord]) -> None:
        self._session.add_all([rows.to_transition_row(record) for record in records])
        await self._session.flush()

    async def list_transitions(self, conversation_id: str) -> list[TransitionRecord]:
        query = (
            sa.select(TransitionRow)
            .where(TransitionRow.conversation_id == conversation_id)
            .order_by(TransitionRow.id)
        )
        return [rows.to_transition_record(row) for row in await self._session.scalars(query)]

    async def add_outbox(self, record: OutboxRecord) -> OutboxRecord:
        row = rows.to_outbox_row(record)
        self._session.add(row)
        await self._session.flush()
        return rows.to_outbox_record(row)

    async def pending_outbox(self, limit: int = 100) -> list[OutboxRecord]:
        query = sa.select(OutboxRow).where(OutboxRow.done_at.is_(None)).order_by(OutboxRow.id).limit(limit)
        return [rows.to_outbox_record(row) for row in await self._session.scalars(query)]

    async def mark_outbox_done(self, outbox_id: int, now: datetime) -> None:
        statement = (
            sa.update(OutboxRow)
            .where(OutboxRow.id == outbox_id, OutboxRow.done_at.is_(None))
            .values(done_at=to_utc(now, "mark_outbox_done(now)"))
        )
        if _rowcount(await self._session.execute(statement)) == 0 and (
            await self._session.get(OutboxRow, outbox_id) is None
        ):
            raise StorageError(f"cannot mark outbox row {outbox_id} done: no such row")

    def _insert(self, model: type[Base]) -> postgresql.Insert | sqlite.Insert:
        """The dialect's INSERT, which has ON CONFLICT (portable sa.insert has not)."""
        return postgresql.insert(model) if self._dialect == "postgresql" else sqlite.insert(model)


class SqlAlchemyStore:
    """The Store on an SQLite file or a PostgreSQL database: `await SqlAlchemyStore.connect(url)`."""

    def __init__(self, *, engine: AsyncEngine, database_url: str) -> None:
        self._engine = engine
        self._url = parse_url(database_url)
        self._sessions = async_sessionmaker(engine, expire_on_commit=False)
        self._inline = create_sqlite_engine(database_url) if engine.dialect.name == "sqlite" else None
        # SQLite has a single writer. Queueing this process's transactions here is fair and cheap; the
        # 5 s busy_timeout is left to arbitrate with other processes using the same file.
        self._writer = asyncio.Lock() if engine.dialect.name == "sqlite" else None
        self._writer_task: asyncio.Task[Any] | None = None

    @classmethod
    async def connect(cls, database_url: str) -> SqlAlchemyStore:
        """Create the engine for `database_url` and check that the database answers.

        Accepts `sqlite:///path.db` and `postgresql://...`; the async drivers are filled in.

        Raises:
            StorageError: the URL is invalid or the database cannot be reached.
        """
        store = cls(engine=create_engine(database_url), database_url=database_url)
        try:
            await store.ping()
        except StorageError:
            await store.close()
            raise
        return store

    @property
    def dialect(self) -> str:
        """'sqlite' or 'postgresql'."""
        return self._engine.dialect.name

    @asynccontextmanager
    async def transaction(self) -> AsyncIterator[SqlAlchemyUnitOfWork]:
        """One transaction: BEGIN IMMEDIATE on SQLite; commits on a clean exit, rolls back on an exception."""
        async with self._writer_turn():
            try:
                if self._inline is not None:
                    with Session(self._inline, expire_on_commit=False) as sync_session:
                        await self._begin_inline(sync_session)
                        try:
                            yield SqlAlchemyUnitOfWork(InlineSession(sync_session))
                        except BaseException:
                            sync_session.rollback()
                            raise
                        sync_session.commit()
                    return
                async with self._sessions() as session, session.begin():
                    await self._connect(session)
                    yield SqlAlchemyUnitOfWork(session)
            except SQLAlchemyError as exc:
                raise storage_error(exc, self._url, "a transaction") from exc

    async def _begin_inline(self, session: Session) -> None:
        """BEGIN IMMEDIATE without blocking the event loop: another process holding SQLite's write lock
        makes it fail at once (busy_timeout=0), so wait here with asyncio.sleep, up to LOCK_WAIT seconds."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + LOCK_WAIT
        delay = 0.001
        while True:
            try:
                session.connection()  # runs BEGIN IMMEDIATE
                return
            except OperationalError as exc:
                session.rollback()
                if "locked" not in str(exc.orig).lower() or loop.time() >= deadline:
                    raise
            await asyncio.sleep(delay)
            delay = min(delay * 2, 0.05)

    async def _connect(self, session: AsyncSession) -> None:
        # Connect (and BEGIN) before handing out the unit of work, so that an unreachable server is
        # reported as such rather than as an OSError from somewhere in the caller's code.
        try:
            await session.connection()
        except OSError as exc:
            raise storage_error(exc, self._url, "connecting") from exc

    async def ping(self) -> None:
        """Run SELECT 1. Raises StorageError naming the database (without its password) on failure."""
        async with self._writer_turn():
            try:
                async with self._engine.connect() as connection:
                    await connection.execute(sa.text("SELECT 1"))
            except (SQLAlchemyError, OSError) as exc:
                raise storage_error(exc, self._url, "connecting") from exc

    async def close(self) -> None:
        """Close every pooled connection."""
        if self._inline is not None:
            self._inline.dispose()
        await self._engine.dispose()

    @asynccontextmanager
    async def _writer_turn(self) -> AsyncIterator[None]:
        if self._writer is None:
            yield
            return
        task = asyncio.current_task()
        if task is not None and task is self._writer_task:
            raise StorageError(
                "a transaction was opened inside another transaction of the same store; "
                "SQLite has one writer, so this would wait forever: do the work in the outer transaction"
            )
        async with self._writer:
            self._writer_task = task
            try:
                yield
            finally:
                self._writer_task = None


def _rowcount(result: sa.Result[Any]) -> int:
    return cast(sa.CursorResult[Any], result).rowcount
