"""Prepared statements store and read exactly what Core statements do, and fail the way Core fails."""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from hypothesis import given, settings
from hypothesis import strategies as st
from sqlalchemy.dialects import sqlite
from sqlalchemy.exc import IntegrityError

from storage.engine import create_sqlite_engine
from storage.models import Base, UtcDateTime
from storage.prepared import PreparedStatements, UtcText, sqlite_utc_text

BERLIN = timezone(timedelta(hours=1))
CONVERSATION: dict[str, Any] = {
    "channel": "web", "external_user_id": "u-1", "flow_id": "default", "flow_version": "abc", "state": "ask_name",
    "status": "active", "outcome": None, "score": 15, "tier": "warm",
    "values": {"name": "Zoë", "budget": 20000.5, "tags": ["a", "b"], "note": "<b>\"quoted\"</b> \u202e"},
    "state_json": {"ledger": [{"rule": "budget", "points": 15}], "pending": None},
    "attributes": {}, "created_at": datetime(2026, 1, 5, 9, 0, tzinfo=UTC),
    "updated_at": datetime(2026, 1, 5, 10, 30, 0, 123456, tzinfo=BERLIN),
}


@pytest.fixture
def engine(tmp_path: Path) -> Iterator[sa.Engine]:
    engine = create_sqlite_engine(f"sqlite:///{tmp_path / 'prepared.db'}")
    Base.metadata.create_all(engine)
    yield engine
    engine.dispose()


def _table(name: str) -> sa.Table:
    return Base.metadata.tables[name]


def _driver(connection: sa.Connection) -> sqlite3.Connection:
    driver = connection.connection.driver_connection
    assert isinstance(driver, sqlite3.Connection)
    return driver


def _stored(connection: sa.Connection, table: str, row_id: str) -> tuple[Any, ...]:
    """The raw column values SQLite holds for one row, as the driver returns them."""
    row = _driver(connection).execute(f"SELECT * FROM {table} WHERE id = ?", (row_id,)).fetchone()
    assert row is not None
    return tuple(row[1:])


def test_an_insert_stores_byte_for_byte_what_core_stores(engine: sa.Engine) -> None:
    conversations = _table("conversations")
    statement = sa.insert(conversations)
    prepared = PreparedStatements(engine.dialect)
    with engine.begin() as connection:
        connection.execute(statement, {**CONVERSATION, "id": "core"})
        prepared[statement].execute(_driver(connection), {**CONVERSATION, "id": "prepared"})

        assert _stored(connection, "conversations", "prepared") == _stored(connection, "conversations", "core")


def test_a_select_reads_what_core_reads(engine: sa.Engine) -> None:
    conversations = _table("conversations")
    query = sa.select(conversations).where(conversations.c.id == sa.bindparam("conversation_id"))
    prepared = PreparedStatements(engine.dialect)
    with engine.begin() as connection:
        connection.execute(sa.insert(conversations), {**CONVERSATION, "id": "c-1"})
        core = connection.execute(query, {"conversation_id": "c-1"}).one()
        cursor = prepared[query].execute(_driver(connection), {"conversation_id": "c-1"})
        rows = prepared[query].rows(cursor)

    assert len(rows) == 1
    assert rows[0]._asdict() == core._asdict()
    assert rows[0].values == CONVERSATION["values"]
    assert rows[0].updated_at == CONVERSATION["updated_at"] and rows[0].updated_at.tzinfo is UTC


def test_an_update_binds_the_values_the_statement_sets_itself(engine: sa.Engine) -> None:
    timers = _table("timers")
    cancel = (sa.update(timers).where(timers.c.conversation_id == sa.bindparam("_conversation_id"))
              .values(cancelled=True))
    prepared = PreparedStatements(engine.dialect)
    due = datetime(2026, 1, 5, 9, 0, tzinfo=UTC)
    with engine.begin() as connection:
        driver = _driver(connection)
        connection.execute(sa.insert(timers), [{"conversation_id": "c-1", "key": k, "due_at": due} for k in "ab"])
        changed = prepared[cancel].execute(driver, {"_conversation_id": "c-1"}).rowcount
        cancelled = connection.execute(sa.select(timers.c.cancelled)).scalars().all()

    assert changed == 2
    assert cancelled == [True, True]


def test_insert_returning_many_rows_and_executemany(engine: sa.Engine) -> None:
    transitions = _table("transitions")
    insert = sa.insert(transitions)
    returning = sa.insert(transitions).returning(transitions.c.id)
    prepared = PreparedStatements(engine.dialect)
    at = datetime(2026, 1, 5, 9, 0, tzinfo=UTC)
    row = {"conversation_id": "c-1", "flow_id": "f", "flow_version": "v", "source": "a", "dest": "b",
           "trigger": "next", "turn": 1, "at": at}
    with engine.begin() as connection:
        driver = _driver(connection)
        prepared[insert].execute_many(driver, [row, {**row, "turn": 2}])
        ids = [prepared[returning].rows(prepared[returning].execute(driver, {**row, "turn": 3}))[0].id]
        stored = connection.execute(sa.select(transitions.c.id, transitions.c.turn, transitions.c.at)).all()

    assert [tuple(r) for r in stored] == [(1, 1, at), (2, 2, at), (3, 3, at)]
    assert ids == [3]


def test_a_constraint_violation_is_sqlalchemys_integrity_error(engine: sa.Engine) -> None:
    conversations = _table("conversations")
    statement = sa.insert(conversations)
    prepared = PreparedStatements(engine.dialect)
    with engine.begin() as connection:
        driver = _driver(connection)
        prepared[statement].execute(driver, {**CONVERSATION, "id": "c-1"})
        with pytest.raises(IntegrityError, match=r"UNIQUE constraint failed: conversations\.id"):
            prepared[statement].execute(driver, {**CONVERSATION, "id": "c-1"})


def test_a_missing_parameter_is_named(engine: sa.Engine) -> None:
    conversations = _table("conversations")
    query = sa.select(conversations).where(conversations.c.id == sa.bindparam("conversation_id"))
    prepared = PreparedStatements(engine.dialect)
    missing = r"required for the parameter :conversation_id of: SELECT"
    with engine.begin() as connection, pytest.raises(KeyError, match=missing):
        prepared[query].execute(_driver(connection), {"id": "c-1"})


def test_each_statement_is_compiled_once(engine: sa.Engine) -> None:
    conversations = _table("conversations")
    query = sa.select(conversations.c.id)
    prepared = PreparedStatements(engine.dialect)

    assert prepared[query] is prepared[query]
    assert prepared[query] is not prepared[sa.select(conversations.c.id)]


@settings(max_examples=500)
@given(st.datetimes(min_value=datetime(1, 1, 2), max_value=datetime(9999, 12, 30),
                    timezones=st.sampled_from([UTC, timezone(timedelta(hours=14)), timezone(timedelta(hours=-12))])))
def test_timestamps_bind_on_sqlite_as_sqlalchemy_binds_them(value: datetime) -> None:
    dialect = sqlite.dialect()
    sqlalchemy_processor = UtcDateTime().dialect_impl(dialect).bind_processor(dialect)
    assert sqlalchemy_processor is not None
    assert sqlite_utc_text(value) == sqlalchemy_processor(value)
    assert sqlite_utc_text(None) is None


@settings(max_examples=200)
@given(st.lists(st.one_of(st.none(), st.datetimes(min_value=datetime(1, 1, 2), max_value=datetime(9999, 12, 30),
                                                  timezones=st.sampled_from([UTC, BERLIN]))), max_size=8))
def test_the_remembered_conversion_is_the_conversion_of_each_value(values: list[datetime | None]) -> None:
    utc_text = UtcText()
    for value in values:  # equal values as distinct objects, the same object twice, None between them
        for same in (value, value, value.replace() if value is not None else None):
            assert utc_text(same) == sqlite_utc_text(same)


def test_a_turns_timestamps_are_converted_once(engine: sa.Engine, monkeypatch: pytest.MonkeyPatch) -> None:
    """A turn binds the same `now` to every row it writes: the statements share one remembered conversion."""
    converted: list[datetime | None] = []

    def counting(value: datetime | None) -> str | None:
        converted.append(value)
        return sqlite_utc_text(value)

    monkeypatch.setattr("storage.prepared.sqlite_utc_text", counting)
    conversations = _table("conversations")
    update = (sa.update(conversations).where(conversations.c.id == sa.bindparam("_id"))
              .values(updated_at=sa.bindparam("updated_at")))
    insert = sa.insert(conversations)
    prepared = PreparedStatements(engine.dialect)
    now = datetime(2026, 1, 5, 9, 0, tzinfo=UTC)
    with engine.begin() as connection:
        for row_id in ("c-1", "c-2"):
            prepared[insert].execute(_driver(connection), {**CONVERSATION, "id": row_id, "created_at": now,
                                                           "updated_at": now})
        prepared[update].execute(_driver(connection), {"_id": "c-1", "updated_at": now})
        later = now + timedelta(seconds=1)
        prepared[update].execute(_driver(connection), {"_id": "c-2", "updated_at": later})
        stored = _driver(connection).execute("SELECT created_at, updated_at FROM conversations ORDER BY id").fetchall()

    assert converted == [now, later]
    assert stored == [("2026-01-05 09:00:00.000000", "2026-01-05 09:00:00.000000"),
                      ("2026-01-05 09:00:00.000000", "2026-01-05 09:00:01.000000")]
