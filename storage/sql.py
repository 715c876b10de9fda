"""The Store port on SQLAlchemy: PostgreSQL through asyncpg, SQLite inline on the event loop (see inline.py)."""

from __future__ import annotations

import asyncio
import sqlite3
from collections import OrderedDict
from collections.abc import AsyncIterator, Mapping, Sequence
from contextlib import asynccontextmanager
from datetime import datetime
from types import SimpleNamespace
from typing import Any, cast

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.exc import IntegrityError, OperationalError, SQLAlchemyError
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker
from sqlalchemy.orm import Session

from bot.errors import ConversationChanged, StorageError
from storage import rows
from storage.checkpoint import WalCheckpointer
from storage.engine import create_engine, create_sqlite_engine, parse_url, sqlite_path, storage_error
from storage.inline import InlineSession
from storage.models import (
    ConversationRow,
    FlowVersionRow,
    MessageRow,
    OutboxRow,
    TimerRow,
    TransitionRow,
    pending_timer,
)
from storage.prepared import PreparedStatement, PreparedStatements
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
)
from storage.utc import from_db, to_utc

LOCK_WAIT = 5.0  # seconds to wait for SQLite's write lock held by another process
SAVED_CONVERSATIONS = 4096  # conversations remembered as saved (see SavedConversations): the active ones

# The unit of work runs Core statements on the tables, not ORM statements on the models: the ORM's unit
# of work (add, flush, identity map, synchronize_session) cost most of a turn's CPU. Statements that take
# no per-call structure are built once here, so SQLAlchemy memoizes their cache keys too.
_conversations = cast(sa.Table, ConversationRow.__table__)
_messages = cast(sa.Table, MessageRow.__table__)
_flow_versions = cast(sa.Table, FlowVersionRow.__table__)
_timers = cast(sa.Table, TimerRow.__table__)
_transitions = cast(sa.Table, TransitionRow.__table__)
_outbox = cast(sa.Table, OutboxRow.__table__)

_PENDING = (pending_timer(_timers),)

# A conversation's own columns: when its lead last changed is only read by get_lead.
_CONVERSATION_COLUMNS = [column for column in _conversations.c if column.name != "lead_updated_at"]
_GET_CONVERSATION = sa.select(*_CONVERSATION_COLUMNS).where(_conversations.c.id == sa.bindparam("conversation_id"))
_GET_CONVERSATION_FOR_UPDATE = _GET_CONVERSATION.with_for_update()
_INSERT_CONVERSATION = sa.insert(_conversations)
# An UPDATE without .values() sets the columns named by the parameters; WHERE parameters are named
# with a leading underscore, because SQLAlchemy reserves column names for the SET clause.
_UPDATE_CONVERSATION = sa.update(_conversations).where(
    _conversations.c.id == sa.bindparam("_id"), _conversations.c.revision == sa.bindparam("_revision"))
_CONVERSATION_REVISION = sa.select(_conversations.c.revision).where(
    _conversations.c.id == sa.bindparam("conversation_id"))
_FIND_INBOUND = sa.select(_messages).where(
    _messages.c.channel == sa.bindparam("channel"),
    _messages.c.channel_message_id == sa.bindparam("channel_message_id"),
    _messages.c.direction == Direction.IN.value,
)
_FIND_MESSAGE_ID = sa.select(_messages.c.id).where(
    _messages.c.channel == sa.bindparam("channel"),
    _messages.c.channel_message_id == sa.bindparam("channel_message_id"),
)


class _OneRowInsert:
    """An INSERT of one row whose new id the caller needs.

    Inline on SQLite it runs without RETURNING and reads the driver's `lastrowid`: RETURNING makes SQLite
    build a result set and the driver read it back, about 40 K instructions more per row. Elsewhere it is
    INSERT ... RETURNING id.
    """

    def __init__(self, table: sa.Table) -> None:
        self.plain = sa.insert(table)
        self.returning = self.plain.returning(table.c.id)


_INSERT_MESSAGE = _OneRowInsert(_messages)
# PostgreSQL: several rows in one call, ids in the order of the parameters (SQLite inserts them one by one).
_INSERT_MESSAGES = sa.insert(_messages).returning(_messages.c.id, sort_by_parameter_order=True)


def _insert_inbound(insert: Any) -> Any:
    """INSERT ... ON CONFLICT (channel, channel_message_id) DO NOTHING RETURNING id: no row back on a duplicate."""
    statement = insert(_messages).on_conflict_do_nothing(
        index_elements=[_messages.c.channel, _messages.c.channel_message_id],
        index_where=_messages.c.channel_message_id.is_not(None))  # the WHERE of the partial unique index
    return statement.returning(_messages.c.id)


_INSERT_INBOUND = {"postgresql": _insert_inbound(postgresql.insert), "sqlite": _insert_inbound(sqlite.insert)}
_REPLIES_TO = (
    sa.select(_messages)
    .where(_messages.c.reply_to == sa.bindparam("message_id"), _messages.c.direction == Direction.OUT.value)
    .order_by(_messages.c.id)
)


_GET_LEAD = sa.select(*_CONVERSATION_COLUMNS, _conversations.c.lead_updated_at).where(
    _conversations.c.id == sa.bindparam("conversation_id"))
_GET_FLOW_VERSION = sa.select(_flow_versions).where(
    _flow_versions.c.flow_id == sa.bindparam("flow_id"), _flow_versions.c.version == sa.bindparam("version")
)
_CANCEL_TIMER_KEY = (
    sa.update(_timers)
    .where(
        _timers.c.conversation_id == sa.bindparam("_conversation_id"),
        _timers.c.key == sa.bindparam("_key"),
        *_PENDING,
    )
    .values(cancelled=True)
)
_INSERT_TIMER = sa.insert(_timers)
_CANCEL_TIMERS = (
    sa.update(_timers)
    .where(_timers.c.conversation_id == sa.bindparam("_conversation_id"), *_PENDING)
    .values(cancelled=True)
)
# Not LIKE: SQLite's LIKE ignores case and treats % and _ as wildcards.
_CANCEL_TIMERS_PREFIX = _CANCEL_TIMERS.where(
    sa.func.substr(_timers.c.key, 1, sa.bindparam("prefix_length", type_=sa.Integer)) == sa.bindparam("prefix")
)
_CLAIM_TIMER = (
    sa.update(_timers)
    .where(_timers.c.id == sa.bindparam("timer_id"), *_PENDING)
    .values(fired_at=sa.bindparam("now", type_=_timers.c.fired_at.type))
)
_INSERT_TRANSITIONS = sa.insert(_transitions)
_LIST_TRANSITIONS = (
    sa.select(_transitions)
    .where(_transitions.c.conversation_id == sa.bindparam("conversation_id"))
    .order_by(_transitions.c.id)
)
_INSERT_OUTBOX = _OneRowInsert(_outbox)
_OUTBOX_EXISTS = sa.select(_outbox.c.id).where(_outbox.c.id == sa.bindparam("outbox_id"))
_MARK_OUTBOX_DONE = (
    sa.update(_outbox)
    .where(_outbox.c.id == sa.bindparam("outbox_id"), _outbox.c.done_at.is_(None))
    .values(done_at=sa.bindparam("now", type_=_outbox.c.done_at.type))
)


class SavedConversations:
    """The conversations this store saved most recently, as saved: a turn then reads its conversation from
    memory instead of selecting and decoding the row. Safe with other processes and workers on the same
    database, because every update applies only over the revision it read (update_conversation): a row
    another process saved meanwhile makes the turn fail with ConversationChanged and run again from the row.

    Bounded: the least recently used entry goes first. Only committed records enter it.
    """

    def __init__(self, size: int) -> None:
        self._size = size
        self._records: OrderedDict[str, ConversationRecord] = OrderedDict()

    def get(self, conversation_id: str) -> ConversationRecord | None:
        record = self._records.get(conversation_id)
        if record is not None:
            self._records.move_to_end(conversation_id)
        return record

    def put(self, records: Mapping[str, ConversationRecord]) -> None:
        for conversation_id, record in records.items():
            self._records[conversation_id] = record
            self._records.move_to_end(conversation_id)
        while len(self._records) > self._size:
            self._records.popitem(last=False)

    def forget(self, conversation_id: str) -> None:
        self._records.pop(conversation_id, None)

    def __len__(self) -> int:
        return len(self._records)


class SqlAlchemyUnitOfWork:
    """One transaction on one AsyncSession. Built by SqlAlchemyStore.transaction(), never directly."""

    def __init__(self, session: AsyncSession | InlineSession, saved: SavedConversations) -> None:
        self._saved = saved
        self.written: dict[str, ConversationRecord] = {}  # what this transaction saved, for `saved` on commit
        self._read: dict[str, ConversationRecord] = {}
        self._session: Any = session
        self._dialect = session.bind.dialect.name if session.bind is not None else ""
        self._inline = isinstance(session, InlineSession)
        self._connection: Any = None
        self._driver: sqlite3.Connection | None = None

    async def _connect(self) -> Any:
        """The session's connection: a Connection inline, an AsyncConnection otherwise."""
        if self._connection is None:
            self._connection = await self._session.connection()
        return self._connection

    async def _run(self, statement: Any, params: Any = None) -> Any:
        """Execute a Core statement on the session's connection (same transaction, no ORM layer)."""
        connection = self._connection if self._connection is not None else await self._connect()
        if self._inline:
            return connection.execute(statement, params)
        return await connection.execute(statement, params)

    # The fixed statements (the module constants above) go through these. Inline on SQLite they run
    # as prepared statements on the driver (see prepared.py); elsewhere as Core statements.

    async def _all(self, statement: Any, params: Mapping[str, Any]) -> Sequence[Any]:
        """The rows of a SELECT, or of an INSERT/UPDATE ... RETURNING."""
        if self._inline:
            prepared: PreparedStatement = self._session.statements[statement]
            return prepared.rows(prepared.execute(self._driver_connection(), params))
        found: Sequence[Any] = (await self._run(statement, params)).all()
        return found

    async def _one(self, statement: Any, params: Mapping[str, Any]) -> Any | None:
        """The row of a statement that returns at most one (None when it returns none)."""
        found = await self._all(statement, params)
        if len(found) > 1:
            raise StorageError(f"expected at most one row, got {len(found)}: {statement}")
        return found[0] if found else None

    async def _inserted_id(self, insert: _OneRowInsert, params: Mapping[str, Any]) -> int:
        """Insert one row; returns its id."""
        if self._inline:
            inserted = self._session.statements[insert.plain].execute(self._driver_connection(), params).lastrowid
        else:
            row = await self._one(insert.returning, params)
            inserted = None if row is None else row.id
        if inserted is None:
            raise StorageError(f"an INSERT gave no id: {insert.plain}")
        return cast(int, inserted)

    async def _count(self, statement: Any, params: Mapping[str, Any]) -> int:
        """Execute an UPDATE or INSERT; returns the number of rows it changed."""
        if self._inline:
            changed: int = self._session.statements[statement].execute(self._driver_connection(), params).rowcount
            return changed
        return _rowcount(await self._run(statement, params))

    async def _each(self, statement: Any, batch: Sequence[Mapping[str, Any]]) -> None:
        """Execute an INSERT or UPDATE once per parameter set (one executemany)."""
        if self._inline:
            self._session.statements[statement].execute_many(self._driver_connection(), batch)
        else:
            await self._run(statement, list(batch))

    def _driver_connection(self) -> sqlite3.Connection:
        if self._driver is None:
            self._driver = self._session.driver_connection()
        return self._driver

    # ------------------------------------------------------------ conversations

    async def get_conversation(
        self, conversation_id: str, *, for_update: bool = False
    ) -> ConversationRecord | None:
        if for_update:
            saved = self._known(conversation_id)
            if saved is not None:
                return saved
        # SELECT ... FOR UPDATE on PostgreSQL; SQLite ignores it (BEGIN IMMEDIATE locks all).
        query = _GET_CONVERSATION_FOR_UPDATE if for_update else _GET_CONVERSATION
        row = await self._one(query, {"conversation_id": conversation_id})
        if row is None:
            return None
        record = rows.to_conversation_record(row)
        self._read[conversation_id] = record
        return record

    def _known(self, conversation_id: str) -> ConversationRecord | None:
        """The row as this transaction last read or wrote it, or as the store last saved it."""
        return (self.written.get(conversation_id) or self._read.get(conversation_id)
                or self._saved.get(conversation_id))

    async def find_latest_conversation(
        self, channel: str, external_user_id: str
    ) -> ConversationRecord | None:
        query = (
            sa.select(*_CONVERSATION_COLUMNS)
            .where(_conversations.c.channel == channel, _conversations.c.external_user_id == external_user_id)
            .order_by(
                _conversations.c.updated_at.desc(),
                _conversations.c.created_at.desc(),
                _conversations.c.id.desc(),
            )
            .limit(1)
        )
        row = (await self._run(query)).one_or_none()
        return None if row is None else rows.to_conversation_record(row)

    async def insert_conversation(self, record: ConversationRecord, *, lead_changed: bool = False) -> None:
        check_lead(record, lead_changed)
        columns = rows.conversation_insert_columns(record, lead_changed=lead_changed)
        try:
            if self._dialect == "sqlite":
                await self._count(_INSERT_CONVERSATION, columns)
            else:
                await self._insert_guarded(_INSERT_CONVERSATION, columns)
        except IntegrityError as exc:
            raise StorageError(
                f"cannot insert conversation {record.id}: a conversation with this id already exists; "
                "use update_conversation to change it"
            ) from exc
        self.written[record.id] = rows.saved_conversation(record, record.revision, record)

    async def update_conversation(self, record: ConversationRecord, *, lead_changed: bool = False) -> None:
        check_lead(record, lead_changed)
        known = self._known(record.id)
        if known is not None and known.revision != record.revision:
            known = None  # the row's identity and columns are not known here
        # Only over the revision `known` holds: then the row is `known`, or the UPDATE changes nothing.
        params = rows.conversation_columns(record, lead_changed=lead_changed, row=known)
        params["revision"] = record.revision + 1
        params["_id"] = record.id
        params["_revision"] = record.revision
        if await self._count(_UPDATE_CONVERSATION, params) != 1:
            self._saved.forget(record.id)
            self.written.pop(record.id, None)
            stored = await self._one(_CONVERSATION_REVISION, {"conversation_id": record.id})
            if stored is None:
                raise StorageError(
                    f"cannot update conversation {record.id}: it does not exist; insert_conversation first"
                )
            raise ConversationChanged(record.id, record.revision, stored.revision)
        if known is not None:
            self.written[record.id] = rows.saved_conversation(record, record.revision + 1, known)

    # ------------------------------------------------------------ messages

    async def find_inbound(self, channel: str, channel_message_id: str) -> MessageRecord | None:
        params = {"channel": channel, "channel_message_id": channel_message_id}
        row = await self._one(_FIND_INBOUND, params)
        return None if row is None else rows.to_message_record(row)

    async def add_message(self, record: MessageRecord) -> MessageRecord:
        return (await self.add_messages([record]))[0]

    async def add_inbound(self, record: MessageRecord) -> MessageRecord | None:
        columns = rows.message_columns(record)
        try:
            inserted = await self._one(_INSERT_INBOUND[self._dialect], columns)
        except IntegrityError as exc:
            # Not the dedup key (ON CONFLICT skips that) but a foreign key. No savepoint, and no query to
            # explain it, because PostgreSQL has aborted the transaction: the caller's rollback is all that is left.
            raise _missing_parent(record) from exc
        return None if inserted is None else rows.inserted_message_record(record, columns, inserted.id)

    async def add_messages(self, records: Sequence[MessageRecord]) -> list[MessageRecord]:
        if not records:
            return []
        batch = [rows.message_columns(record) for record in records]
        try:
            if self._dialect == "sqlite":  # a failed statement is undone alone: the transaction stays usable
                ids = [await self._inserted_id(_INSERT_MESSAGE, columns) for columns in batch]
            else:
                ids = list((await self._insert_guarded(_INSERT_MESSAGES, batch)).scalars().all())
        except IntegrityError as exc:
            raise await self._message_conflict(records) from exc
        return [rows.inserted_message_record(record, columns, message_id)
                for record, columns, message_id in zip(records, batch, ids, strict=True)]

    async def _insert_guarded(self, statement: Any, params: dict[str, Any] | list[dict[str, Any]]) -> Any:
        """On PostgreSQL, run an INSERT that may violate a constraint, leaving the transaction usable if it does.

        PostgreSQL aborts the whole transaction on an error, so the INSERT gets a savepoint. SQLite only
        undoes the failed statement, so it needs none (the savepoint would cost two statements): callers
        run their INSERT directly there.
        """
        # On the connection, not the session: a session savepoint is only emitted by the session's own
        # statements. PostgreSQL always runs on an AsyncSession.
        connection = await self._connect()
        async with connection.begin_nested():
            return await connection.execute(statement, params)

    async def _message_conflict(self, records: Sequence[MessageRecord]) -> StorageError:
        """Why inserting `records` broke a constraint: a channel message id already stored, or else a missing
        conversation or replied-to message."""
        for record in records:
            if record.channel_message_id is None:
                continue
            params = {"channel": record.channel, "channel_message_id": record.channel_message_id}
            existing = await self._one(_FIND_MESSAGE_ID, params)
            if existing is not None:
                return StorageError(
                    f"duplicate message: channel {record.channel!r} message id {record.channel_message_id!r} "
                    f"is already stored as message {existing.id}; check find_inbound before add_message"
                )
        return _missing_parent(records[0])

    async def list_messages(
        self, conversation_id: str, *, after_id: int | None = None, limit: int = 500
    ) -> list[MessageRecord]:
        query = sa.select(_messages).where(_messages.c.conversation_id == conversation_id)
        if after_id is not None:
            query = query.where(_messages.c.id > after_id)
        found = await self._run(query.order_by(_messages.c.id).limit(limit))
        return [rows.to_message_record(row) for row in found]

    async def replies_to(self, message_id: int) -> list[MessageRecord]:
        return [rows.to_message_record(row) for row in await self._all(_REPLIES_TO, {"message_id": message_id})]

    # ------------------------------------------------------------ leads and flows

    async def get_lead(self, conversation_id: str) -> LeadRecord | None:
        row = await self._one(_GET_LEAD, {"conversation_id": conversation_id})
        return None if row is None else rows.to_lead_record(row)

    async def save_flow_version(self, record: FlowVersionRecord) -> None:
        statement = self._insert(_flow_versions).values(
            flow_id=record.flow_id,
            version=record.version,
            content=record.content,
            created_at=to_utc(record.created_at, f"flow {record.flow_id} version created_at"),
        )
        await self._run(
            statement.on_conflict_do_nothing(index_elements=[_flow_versions.c.flow_id, _flow_versions.c.version])
        )

    async def get_flow_version(self, flow_id: str, version: str) -> FlowVersionRecord | None:
        row = await self._one(_GET_FLOW_VERSION, {"flow_id": flow_id, "version": version})
        if row is None:
            return None
        return FlowVersionRecord(
            flow_id=row.flow_id, version=row.version, content=row.content, created_at=from_db(row.created_at)
        )

    # ------------------------------------------------------------ timers

    async def schedule_timer(self, record: TimerRecord) -> None:
        # Cancel and insert rather than move the old row: a worker that already read the old timer
        # from due_timers must fail to claim it, instead of firing the rescheduled one early.
        await self._count(_CANCEL_TIMER_KEY, {"_conversation_id": record.conversation_id, "_key": record.key})
        await self._count(_INSERT_TIMER, rows.timer_columns(record))

    async def cancel_timers(self, conversation_id: str, prefix: str = "") -> int:
        if prefix:
            params = {"_conversation_id": conversation_id, "prefix": prefix, "prefix_length": len(prefix)}
            return await self._count(_CANCEL_TIMERS_PREFIX, params)
        return await self._count(_CANCEL_TIMERS, {"_conversation_id": conversation_id})

    async def due_timers(self, now: datetime, limit: int = 100) -> list[TimerRecord]:
        query = (
            sa.select(_timers)
            .where(*_PENDING, _timers.c.due_at <= to_utc(now, "due_timers(now)"))
            .order_by(_timers.c.due_at, _timers.c.id)
            .limit(limit)
        )
        return [rows.to_timer_record(row) for row in await self._run(query)]

    async def claim_timer(self, timer_id: int, now: datetime) -> bool:
        # One atomic UPDATE: of two workers racing for the timer, exactly one sees rowcount 1.
        params = {"timer_id": timer_id, "now": to_utc(now, "claim_timer(now)")}
        return await self._count(_CLAIM_TIMER, params) == 1

    # ------------------------------------------------------------ event log and outbox

    async def add_transitions(self, records: Sequence[TransitionRecord]) -> None:
        if records:
            await self._each(_INSERT_TRANSITIONS, [rows.transition_columns(record) for record in records])

    async def list_transitions(self, conversation_id: str) -> list[TransitionRecord]:
        found = await self._all(_LIST_TRANSITIONS, {"conversation_id": conversation_id})
        return [rows.to_transition_record(row) for row in found]

    async def add_outbox(self, record: OutboxRecord) -> OutboxRecord:
        columns = rows.outbox_columns(record)
        outbox_id = await self._inserted_id(_INSERT_OUTBOX, columns)
        return rows.to_outbox_record(SimpleNamespace(id=outbox_id, **columns))

    async def pending_outbox(self, limit: int = 100) -> list[OutboxRecord]:
        query = sa.select(_outbox).where(_outbox.c.done_at.is_(None)).order_by(_outbox.c.id).limit(limit)
        return [rows.to_outbox_record(row) for row in await self._run(query)]

    async def mark_outbox_done(self, outbox_id: int, now: datetime) -> None:
        params = {"outbox_id": outbox_id, "now": to_utc(now, "mark_outbox_done(now)")}
        if await self._count(_MARK_OUTBOX_DONE, params) == 0 and (
            await self._one(_OUTBOX_EXISTS, {"outbox_id": outbox_id}) is None
        ):
            raise StorageError(f"cannot mark outbox row {outbox_id} done: no such row")

    def _insert(self, table: sa.Table) -> postgresql.Insert | sqlite.Insert:
        """The dialect's INSERT, which has ON CONFLICT (portable sa.insert has not)."""
        return postgresql.insert(table) if self._dialect == "postgresql" else sqlite.insert(table)


class SqlAlchemyStore:
    """The Store on an SQLite file or a PostgreSQL database: `await SqlAlchemyStore.connect(url)`."""

    def __init__(self, *, engine: AsyncEngine, database_url: str, saved_conversations: int = SAVED_CONVERSATIONS
                 ) -> None:
        self._engine = engine
        self.saved = SavedConversations(saved_conversations)
        self._url = parse_url(database_url)
        self._sessions = async_sessionmaker(engine, expire_on_commit=False)
        # SQLite has a single writer. Queueing this process's transactions here is fair and cheap; the
        # 5 s busy_timeout is left to arbitrate with other processes using the same file.
        self._writer = asyncio.Lock() if engine.dialect.name == "sqlite" else None
        self._writer_task: asyncio.Task[Any] | None = None
        path = sqlite_path(self._url) if engine.dialect.name == "sqlite" else None
        # An SQLite file is checkpointed on a worker thread, not in the commit that fills the WAL (checkpoint.py).
        self.checkpointer = WalCheckpointer(path, hold_writers=self._writer_turn) if path is not None else None
        self._inline = (create_sqlite_engine(database_url, autocheckpoint=self.checkpointer is None)
                        if engine.dialect.name == "sqlite" else None)
        self._statements = PreparedStatements(self._inline.dialect if self._inline is not None else engine.dialect)

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
                        uow = SqlAlchemyUnitOfWork(InlineSession(sync_session, self._statements), self.saved)
                        try:
                            yield uow
                        except BaseException:
                            sync_session.rollback()
                            raise
                        sync_session.commit()
                    self.saved.put(uow.written)
                    if self.checkpointer is not None:
                        self.checkpointer.committed()
                    return
                async with self._sessions() as session:
                    async with session.begin():
                        await self._connect(session)
                        uow = SqlAlchemyUnitOfWork(session, self.saved)
                        yield uow
                    self.saved.put(uow.written)
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
        """Close every pooled connection. The checkpointer's goes last: SQLite's final checkpoint then runs on its
        thread."""
        if self._inline is not None:
            self._inline.dispose()
        await self._engine.dispose()
        if self.checkpointer is not None:
            await self.checkpointer.close()

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


def _missing_parent(record: MessageRecord) -> StorageError:
    return StorageError(
        f"cannot add a message to conversation {record.conversation_id}: the conversation "
        f"or the message it replies to ({record.reply_to}) does not exist"
    )


def _rowcount(result: sa.Result[Any]) -> int:
    return cast(sa.CursorResult[Any], result).rowcount
