"""SQLite under concurrency: BEGIN IMMEDIATE, WAL and the busy timeout keep every writer succeeding."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable
from datetime import UTC, datetime
from pathlib import Path

import attrs
import pytest

from bot.errors import ConversationChanged, StorageError
from storage import migrate
from storage.memory import InMemoryStore
from storage.repository import Author, ConversationRecord, Direction, MessageRecord, Store
from storage.sql import SqlAlchemyStore

NOW = datetime(2026, 1, 5, 12, 0, tzinfo=UTC)
NewConversation = Callable[..., ConversationRecord]


@pytest.fixture
async def migrated(sqlite_url: str) -> str:
    """A migrated SQLite file."""
    await migrate.upgrade(sqlite_url)
    return sqlite_url


@pytest.fixture
async def sqlite_store(migrated: str) -> AsyncIterator[SqlAlchemyStore]:
    store = await SqlAlchemyStore.connect(migrated)
    try:
        yield store
    finally:
        await store.close()


def _message(conversation_id: str, text: str) -> MessageRecord:
    return MessageRecord(
        conversation_id=conversation_id, direction=Direction.OUT, author=Author.BOT, text=text, created_at=NOW
    )


async def _count_messages(store: Store, conversation_id: str) -> int:
    async with store.transaction() as uow:
        return len(await uow.list_messages(conversation_id, limit=10_000))


async def test_fifty_tasks_writing_through_one_store_all_succeed(
    sqlite_store: SqlAlchemyStore, new_conversation: NewConversation
) -> None:
    record = new_conversation()
    async with sqlite_store.transaction() as uow:
        await uow.insert_conversation(record)

    async def writer(task: int) -> None:
        for write in range(10):
            async with sqlite_store.transaction() as uow:
                await uow.add_message(_message(record.id, f"{task}/{write}"))

    async with asyncio.timeout(60):
        await asyncio.gather(*(writer(task) for task in range(50)))

    assert await _count_messages(sqlite_store, record.id) == 500


async def test_two_engines_on_one_file_never_lose_a_read_modify_write(
    migrated: str, new_conversation: NewConversation
) -> None:
    # Two stores are two connection pools, like two processes: only SQLite's own locking
    # (BEGIN IMMEDIATE + busy_timeout) keeps them apart. A deferred BEGIN would fail here with
    # "database is locked" as soon as two readers both try to upgrade to writers.
    record = new_conversation()
    stores = [await SqlAlchemyStore.connect(migrated) for _ in range(2)]
    try:
        async with stores[0].transaction() as uow:
            await uow.insert_conversation(record)  # store 0 remembers revision 0
        async with stores[1].transaction() as uow:  # store 1 saves revision 1: store 0's memory is now stale
            loaded = await uow.get_conversation(record.id, for_update=True)
            assert loaded is not None
            await uow.update_conversation(attrs.evolve(loaded, state=attrs.evolve(loaded.state,
                                                                                  turn=loaded.state.turn + 1)))

        refused = 0

        async def increment(store: Store) -> None:
            # Each store remembers the rows it saved, so it may read a revision the other store has since
            # replaced: that update is refused (ConversationChanged) and runs again, as the service does.
            nonlocal refused
            while True:
                try:
                    async with store.transaction() as uow:
                        current = await uow.get_conversation(record.id, for_update=True)
                        assert current is not None
                        await asyncio.sleep(0)  # let the other engine get in between the read and the write
                        turn = current.state.turn + 1
                        await uow.update_conversation(attrs.evolve(current, state=attrs.evolve(current.state,
                                                                                              turn=turn)))
                    return
                except ConversationChanged:
                    refused += 1

        async with asyncio.timeout(60):
            await asyncio.gather(*(increment(stores[i % 2]) for i in range(40)))

        async with stores[1].transaction() as uow:
            final = await uow.get_conversation(record.id)
    finally:
        for store in stores:
            await store.close()

    assert final is not None
    assert final.state.turn == record.state.turn + 41
    assert final.revision == 41
    assert refused > 0  # store 0's first update at least came from stale memory, and none got through


async def test_the_database_runs_in_wal_mode(sqlite_store: SqlAlchemyStore, sqlite_url: str) -> None:
    async with sqlite_store.transaction() as uow:
        await uow.get_conversation("0" * 32)

    database = Path(sqlite_url.removeprefix("sqlite:///"))
    assert database.with_name(database.name + "-wal").exists()


@pytest.mark.parametrize("kind", ["memory", "sqlite"])
async def test_a_nested_transaction_is_refused_instead_of_waiting_forever(kind: str, migrated: str) -> None:
    store: Store = InMemoryStore() if kind == "memory" else await SqlAlchemyStore.connect(migrated)
    try:
        async with store.transaction():
            with pytest.raises(StorageError, match="transaction was opened inside another transaction"):
                async with store.transaction():
                    pass
    finally:
        await store.close()
