"""Migrations create exactly the schema of storage.models, and running them again changes nothing."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from pathlib import Path

import pytest

from bot.errors import StorageError
from storage import migrate
from storage.engine import create_engine
from storage.repository import ConversationRecord
from storage.sql import SqlAlchemyStore

NewConversation = Callable[..., ConversationRecord]


@pytest.fixture(params=["sqlite", "postgres"])
async def empty_url(request: pytest.FixtureRequest, empty_database: Callable[[str], Awaitable[str]]) -> str:
    return await empty_database(request.param)


async def test_upgrade_builds_the_schema_of_the_models(empty_url: str) -> None:
    assert await migrate.current_revision(empty_url) is None

    await migrate.upgrade(empty_url)

    assert await migrate.current_revision(empty_url) == migrate.current_head()
    assert await migrate.schema_diff(empty_url) == []


async def test_upgrade_twice_is_a_no_op_and_keeps_the_data(
    empty_url: str, new_conversation: NewConversation
) -> None:
    await migrate.upgrade(empty_url)
    record = new_conversation()
    store = await SqlAlchemyStore.connect(empty_url)
    try:
        async with store.transaction() as uow:
            await uow.insert_conversation(record)

        await migrate.upgrade(empty_url)

        async with store.transaction() as uow:
            assert await uow.get_conversation(record.id) == record
    finally:
        await store.close()
    assert await migrate.current_revision(empty_url) == migrate.current_head()


async def test_downgrade_to_base_removes_every_table(empty_url: str) -> None:
    await migrate.upgrade(empty_url)
    await migrate.downgrade(empty_url, "base")

    assert await migrate.current_revision(empty_url) is None
    added = [diff for diff in await migrate.schema_diff(empty_url) if diff.startswith("('add_table'")]
    assert len(added) == 7


def test_the_migrations_ship_inside_the_package() -> None:
    assert migrate.current_head() == "0002"
    assert (migrate.MIGRATIONS_DIR / "env.py").is_file()
    assert (migrate.MIGRATIONS_DIR / "script.py.mako").is_file()


async def test_an_unmigrated_database_is_reported_with_the_fix(sqlite_url: str) -> None:
    store = await SqlAlchemyStore.connect(sqlite_url)
    try:
        with pytest.raises(
            StorageError,
            match=r"SQLite database /.*salesbot.db: .* no such table: conversations; "
            r".*python -m storage.migrate upgrade",
        ):
            async with store.transaction() as uow:
                await uow.get_conversation("0" * 32)
    finally:
        await store.close()


async def test_migrating_an_unopenable_file_names_it(tmp_path: Path) -> None:
    (tmp_path / "taken").write_text("a file, not a directory")
    url = f"sqlite:///{tmp_path / 'taken' / 'salesbot.db'}"

    with pytest.raises(StorageError, match=r"cannot create directory .*taken for the SQLite database"):
        await migrate.upgrade(url)


async def test_only_pending_timers_are_indexed(empty_url: str) -> None:
    """Fired and cancelled timers pile up as history; the timer indexes hold only pending ones (0002)."""
    await migrate.upgrade(empty_url)
    engine = create_engine(empty_url)
    try:
        async with engine.connect() as connection:
            if empty_url.startswith("sqlite"):
                query = "SELECT name, sql FROM sqlite_master WHERE type = 'index' AND tbl_name = 'timers'"
            else:
                query = ("SELECT indexname, indexdef FROM pg_indexes "
                         "WHERE tablename = 'timers' AND indexname LIKE 'ix_%'")
            found = dict((await connection.exec_driver_sql(query)).all())
    finally:
        await engine.dispose()
    assert set(found) == {"ix_timers_pending_conversation_id_key", "ix_timers_pending_due_at"}
    for definition in found.values():
        assert "fired_at IS NULL" in definition
        assert "cancelled IS 0" in definition or "cancelled IS false" in definition.replace("FALSE", "false")


async def test_downgrading_0002_restores_the_full_timer_indexes(empty_url: str) -> None:
    await migrate.upgrade(empty_url)
    await migrate.downgrade(empty_url, "0001")
    assert await migrate.current_revision(empty_url) == "0001"
    await migrate.upgrade(empty_url)
    assert await migrate.schema_diff(empty_url) == []
