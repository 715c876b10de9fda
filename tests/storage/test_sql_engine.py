"""Database URLs, connection checks and the wording of storage errors."""

from __future__ import annotations

import json
import sqlite3
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path

import attrs
import pytest

from bot.engine.types import ConversationState
from bot.errors import StorageError
from storage import migrate
from storage.engine import json_dumps, normalize_url, redact
from storage.repository import ConversationRecord
from storage.sql import SqlAlchemyStore

NOW = datetime(2026, 1, 5, 9, 0, tzinfo=UTC)


@pytest.mark.parametrize(
    ("given", "expected"),
    [
        ("sqlite:///data/salesbot.db", "sqlite+aiosqlite:///data/salesbot.db"),
        ("sqlite+aiosqlite:////abs/x.db", "sqlite+aiosqlite:////abs/x.db"),
        ("postgresql://bot:s3cret@db:5432/salesbot", "postgresql+asyncpg://bot:s3cret@db:5432/salesbot"),
        ("postgres://bot@db/salesbot", "postgresql+asyncpg://bot@db/salesbot"),
        ("postgresql+asyncpg://bot@db/salesbot", "postgresql+asyncpg://bot@db/salesbot"),
    ],
)
def test_urls_get_their_async_driver(given: str, expected: str) -> None:
    assert normalize_url(given) == expected


def test_unsupported_or_malformed_urls_say_what_to_use() -> None:
    with pytest.raises(
        StorageError, match=r"driver 'mysql\+pymysql'; salesbot supports .* use e.g. sqlite:///"
    ):
        normalize_url("mysql+pymysql://u:p@h/db")
    with pytest.raises(StorageError, match="'not a url' is not a URL"):
        normalize_url("not a url")


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ({"a": 1, "b": [1.5, True, None]}, '{"a":1,"b":[1.5,true,null]}'),
        ({1: "x", "b": "Zoë 👋"}, '{"1":"x","b":"Zoë 👋"}'),  # a key that is not a string
        ({"huge": 2**70}, '{"huge": 1180591620717411303424}'),  # beyond 64 bits
        ({2: -(2**65)}, '{"2": -36893488147419103232}'),  # both
    ],
)
def test_json_columns_are_written_for_every_value(value: object, expected: str) -> None:
    assert json_dumps(value) == expected
    assert json.loads(json_dumps(value)) == json.loads(expected)


def test_redact_hides_the_password() -> None:
    assert redact("postgresql://bot:s3cret@db/salesbot") == "postgresql://bot:***@db/salesbot"


async def test_connect_creates_the_sqlite_directory(tmp_path: Path) -> None:
    database = tmp_path / "nested" / "dir" / "salesbot.db"

    store = await SqlAlchemyStore.connect(f"sqlite:///{database}")
    await store.ping()
    await store.close()

    assert database.exists()


async def test_connect_to_an_unreachable_server_names_it_without_the_password() -> None:
    # Port 1 on localhost: nothing listens there, so the connection is refused at once.
    with pytest.raises(
        StorageError, match=r"postgresql\+asyncpg://bot:\*\*\*@127.0.0.1:1/salesbot"
    ) as caught:
        await SqlAlchemyStore.connect("postgresql://bot:s3cret@127.0.0.1:1/salesbot")

    assert "s3cret" not in str(caught.value)
    assert "is the database server running" in str(caught.value)


async def test_values_are_stored_once_and_rows_holding_them_in_the_state_json_still_load(tmp_path: Path) -> None:
    """A conversation's values live in the `values` column; rows written when state_json held them too load the
    same."""
    url = f"sqlite:///{tmp_path / 'values.db'}"
    await migrate.upgrade(url)
    store = await SqlAlchemyStore.connect(url)
    state = ConversationState(flow_id="f", flow_version="1", channel="web", state="ask", values={"budget": 20000},
                              started_at=NOW, updated_at=NOW)
    record = ConversationRecord(id="c" * 32, channel="web", external_user_id="u", state=state, created_at=NOW,
                                updated_at=NOW)
    try:
        async with store.transaction() as uow:
            await uow.insert_conversation(record)
    finally:
        await store.close()
    database = sqlite3.connect(tmp_path / "values.db")
    try:
        stored_values, state_json = database.execute("SELECT \"values\", state_json FROM conversations").fetchone()
        assert json.loads(stored_values) == {"budget": 20000}
        assert "values" not in json.loads(state_json)
        older = {**json.loads(state_json), "values": {"budget": 20000}}
        with database:
            database.execute("UPDATE conversations SET state_json = ?", (json.dumps(older),))
    finally:
        database.close()
    store = await SqlAlchemyStore.connect(url)
    try:
        async with store.transaction() as uow:
            assert await uow.get_conversation(record.id) == record
    finally:
        await store.close()


async def test_a_states_times_are_left_to_the_rows_columns_when_they_are_the_same(tmp_path: Path) -> None:
    """A turn's state starts when its row was created and last changed when the row was updated: state_json then
    leaves both out. Times the columns cannot give back as they were (another zone, another instant) stay in
    it, and rows holding them all in state_json (written before) load the same."""
    url = f"sqlite:///{tmp_path / 'times.db'}"
    await migrate.upgrade(url)
    later = NOW + timedelta(minutes=5)
    state = ConversationState(flow_id="f", flow_version="1", channel="web", state="ask", started_at=NOW,
                              updated_at=NOW)
    same = ConversationRecord(id="a" * 32, channel="web", external_user_id="u", state=state, created_at=NOW,
                              updated_at=NOW)
    other = ConversationRecord(id="b" * 32, channel="web", external_user_id="v", created_at=NOW, updated_at=later,
                               state=attrs.evolve(state, started_at=NOW.astimezone(timezone(timedelta(hours=2)))))
    store = await SqlAlchemyStore.connect(url)
    try:
        async with store.transaction() as uow:
            await uow.insert_conversation(same)
            await uow.insert_conversation(other)
        async with store.transaction() as uow:  # an update leaves them out too, and keeps created_at
            await uow.update_conversation(attrs.evolve(same, state=attrs.evolve(state, turn=1, updated_at=later),
                                                       updated_at=later))
    finally:
        await store.close()
    database = sqlite3.connect(tmp_path / "times.db")
    try:
        stored = dict(database.execute("SELECT id, state_json FROM conversations").fetchall())
        assert {key for key in ("started_at", "updated_at") if key in json.loads(stored["a" * 32])} == set()
        assert {key for key in ("started_at", "updated_at") if key in json.loads(stored["b" * 32])} == {
            "started_at", "updated_at"}
        older = {**json.loads(stored["a" * 32]), "started_at": NOW.isoformat(), "updated_at": later.isoformat()}
        with database:
            database.execute("UPDATE conversations SET state_json = ? WHERE id = ?", (json.dumps(older), "a" * 32))
    finally:
        database.close()
    store = await SqlAlchemyStore.connect(url)
    try:
        async with store.transaction() as uow:
            loaded = await uow.get_conversation("a" * 32)
            assert loaded is not None and loaded.state == attrs.evolve(state, turn=1, updated_at=later)
            assert await uow.get_conversation("b" * 32) == other
    finally:
        await store.close()
