"""WAL checkpoints run on a worker thread (storage/checkpoint.py), never inside a commit on the event loop."""

from __future__ import annotations

import asyncio
import logging
import sqlite3
import threading
import time
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from storage.checkpoint import RESTART_PAGES, WalCheckpointer
from storage.sql import SqlAlchemyStore
from tests.storage.conftest import make_conversation, migrated_store

WAL_PAGE = 4096 + 24  # a WAL frame: the page and its header


@pytest.fixture
async def sqlite_store(sqlite_url: str) -> AsyncIterator[SqlAlchemyStore]:
    store = await migrated_store(sqlite_url)
    try:
        yield store
    finally:
        await store.close()


def wal_of(store: SqlAlchemyStore) -> Path:
    checkpointer = store.checkpointer
    assert checkpointer is not None
    return Path(f"{checkpointer._path}-wal")


async def add_conversations(store: SqlAlchemyStore, count: int) -> None:
    """`count` transactions, letting other tasks run between them as a server's requests do."""
    for _ in range(count):
        async with store.transaction() as uow:
            await uow.insert_conversation(make_conversation())
        await asyncio.sleep(0)


async def until(condition: object, seconds: float = 10.0) -> None:
    deadline = time.monotonic() + seconds
    while not condition():  # type: ignore[operator]
        assert time.monotonic() < deadline, "timed out"
        await asyncio.sleep(0.01)


async def test_the_store_turns_off_the_checkpoint_in_commits(sqlite_store: SqlAlchemyStore) -> None:
    async with sqlite_store.transaction() as uow:
        driver = uow._driver_connection()
        assert driver.execute("PRAGMA wal_autocheckpoint").fetchone() == (0,)


async def test_a_checkpoint_follows_every_hundred_commits_and_the_wal_stays_small(
        sqlite_store: SqlAlchemyStore) -> None:
    checkpointer = sqlite_store.checkpointer
    assert checkpointer is not None
    checkpointer._idle = 60.0  # only the commit count triggers here, however slow the machine
    await add_conversations(sqlite_store, 99)
    await asyncio.sleep(0.05)
    assert checkpointer.runs == 0  # 99 < 100
    await add_conversations(sqlite_store, 1)
    await until(lambda: checkpointer.runs == 1)
    assert checkpointer.last is not None and checkpointer.last.copied_pages == checkpointer.last.wal_pages > 0

    # 4,000 more commits of a few pages each, checkpointed while they go on: without the second pass the WAL
    # would pass 12,000 pages (48 MB), because a checkpoint never finds it copied whole.
    await add_conversations(sqlite_store, 4000)
    await until(lambda: checkpointer.runs >= 40)
    assert wal_of(sqlite_store).stat().st_size < (RESTART_PAGES + 2000) * WAL_PAGE


async def test_fewer_commits_are_checkpointed_once_the_store_is_idle(sqlite_url: str) -> None:
    store = await migrated_store(sqlite_url)
    assert store.checkpointer is not None
    store.checkpointer._idle = 0.05
    try:
        await add_conversations(store, 3)
        await until(lambda: store.checkpointer is not None and store.checkpointer.runs == 1)
        await asyncio.sleep(0.2)
        assert store.checkpointer.runs == 1  # nothing new: no checkpoint
    finally:
        await store.close()


async def test_a_checkpoint_runs_off_the_event_loop(sqlite_store: SqlAlchemyStore,
                                                    monkeypatch: pytest.MonkeyPatch) -> None:
    """While a (slow) checkpoint runs, transactions go on committing on the event loop."""
    checkpointer = sqlite_store.checkpointer
    assert checkpointer is not None
    started, release = threading.Event(), threading.Event()
    threads: list[int] = []
    real = checkpointer._checkpoint

    def slow_checkpoint():  # type: ignore[no-untyped-def]
        threads.append(threading.get_ident())
        started.set()
        release.wait(5)
        return real()

    monkeypatch.setattr(checkpointer, "_checkpoint", slow_checkpoint)
    monkeypatch.setattr(checkpointer, "_restart", 0)  # a second pass, however short the WAL
    checkpoint = asyncio.ensure_future(checkpointer.checkpoint())
    await until(started.is_set)
    await add_conversations(sqlite_store, 20)  # would wait for the checkpoint if it held the loop
    assert not checkpoint.done()
    release.set()
    assert await checkpoint is not None
    # A second pass copied what those 20 commits wrote, on the same worker thread.
    assert len(threads) == 2 and threads[0] == threads[1] != threading.get_ident()


async def test_the_second_pass_holds_writers_so_that_the_wal_starts_over(sqlite_store: SqlAlchemyStore,
                                                                        monkeypatch: pytest.MonkeyPatch) -> None:
    """Commits during the first pass leave pages it did not copy. Once the WAL is long, a second pass copies
    them with this process's transactions waiting, so the next write finds the whole WAL copied and starts it
    over from the top."""
    checkpointer = sqlite_store.checkpointer
    assert checkpointer is not None
    await add_conversations(sqlite_store, 50)
    passes: list[threading.Event] = [threading.Event(), threading.Event()]
    entered: list[threading.Event] = [threading.Event(), threading.Event()]
    real = checkpointer._checkpoint

    def gated():  # type: ignore[no-untyped-def]
        index = sum(event.is_set() for event in entered)
        entered[index].set()
        passes[index].wait(5)
        return real()

    monkeypatch.setattr(checkpointer, "_checkpoint", gated)
    monkeypatch.setattr(checkpointer, "_restart", 0)
    checkpoint = asyncio.ensure_future(checkpointer.checkpoint())
    await until(entered[0].is_set)
    await add_conversations(sqlite_store, 5)  # commits during the first pass
    passes[0].set()
    await until(entered[1].is_set)
    writer = asyncio.ensure_future(add_conversations(sqlite_store, 1))
    await asyncio.sleep(0.1)
    assert not writer.done()  # held during the second pass
    passes[1].set()
    result = await checkpoint
    assert result is not None and result.copied_pages == result.wal_pages
    await writer
    with sqlite3.connect(str(checkpointer._path)) as reader:  # the WAL holds only that last commit's pages
        assert reader.execute("PRAGMA wal_checkpoint(PASSIVE)").fetchone()[1] < 20


async def test_closing_the_store_leaves_everything_in_the_database_file(sqlite_url: str) -> None:
    store = await migrated_store(sqlite_url)
    wal = wal_of(store)
    await add_conversations(store, 30)
    assert wal.exists()
    await store.close()
    await store.close()  # twice is harmless
    assert not wal.exists()  # the last connection checkpointed the WAL and removed it
    path = sqlite_url.removeprefix("sqlite:///")
    with sqlite3.connect(f"file:{path}?mode=ro", uri=True) as reader:
        assert reader.execute("SELECT count(*) FROM conversations").fetchone() == (30,)


async def test_a_failed_checkpoint_is_logged_and_the_next_one_runs(tmp_path: Path,
                                                                   caplog: pytest.LogCaptureFixture) -> None:
    checkpointer = WalCheckpointer(tmp_path / "missing" / "salesbot.db")  # a directory that does not exist
    try:
        with caplog.at_level(logging.WARNING, logger="salesbot.storage"):
            assert await checkpointer.checkpoint() is None
        assert "WAL checkpoint of" in caplog.text and "unable to open database file" in caplog.text
        assert checkpointer.runs == 0
        (tmp_path / "missing").mkdir()
        assert await checkpointer.checkpoint() is not None
        assert checkpointer.runs == 1
    finally:
        await checkpointer.close()


async def test_an_in_memory_database_has_no_checkpointer() -> None:
    store = await SqlAlchemyStore.connect("sqlite:///:memory:")
    try:
        assert store.checkpointer is None
    finally:
        await store.close()


async def test_a_short_wal_gets_no_second_pass(sqlite_store: SqlAlchemyStore, monkeypatch: pytest.MonkeyPatch) -> None:
    """Below `restart_pages`, commits during a checkpoint are left for the next one: no transaction waits."""
    checkpointer = sqlite_store.checkpointer
    assert checkpointer is not None
    calls: list[int] = []
    real = checkpointer._checkpoint

    def counted():  # type: ignore[no-untyped-def]
        calls.append(1)
        return real()

    monkeypatch.setattr(checkpointer, "_checkpoint", counted)
    checkpoint = asyncio.ensure_future(checkpointer.checkpoint())
    await add_conversations(sqlite_store, 5)
    assert await checkpoint is not None
    assert calls == [1]


async def test_checkpointing_goes_on_after_an_unexpected_failure(sqlite_store: SqlAlchemyStore,
                                                                 monkeypatch: pytest.MonkeyPatch,
                                                                 caplog: pytest.LogCaptureFixture) -> None:
    checkpointer = sqlite_store.checkpointer
    assert checkpointer is not None
    real = checkpointer._checkpoint
    failures = [RuntimeError("boom")]

    def flaky():  # type: ignore[no-untyped-def]
        if failures:
            raise failures.pop()
        return real()

    monkeypatch.setattr(checkpointer, "_checkpoint", flaky)
    with caplog.at_level(logging.ERROR, logger="salesbot.storage"):
        await add_conversations(sqlite_store, 100)  # the first checkpoint fails
        await until(lambda: "WAL checkpoint of" in caplog.text)
        await add_conversations(sqlite_store, 100)  # the task is still there: the next one runs
        await until(lambda: checkpointer.runs == 1)
