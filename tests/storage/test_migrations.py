"""Migrations create exactly the schema of storage.models, and running them again changes nothing."""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime
from pathlib import Path

import attrs
import pytest
import sqlalchemy as sa

from bot.engine.codec import lead_to_json
from bot.engine.types import LeadSummary, Tier
from bot.errors import StorageError
from storage import migrate
from storage.engine import create_engine
from storage.models import Base
from storage.repository import ConversationRecord, LeadRecord
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
    assert len(added) == len(Base.metadata.tables) == 6


def test_the_migrations_ship_inside_the_package() -> None:
    assert migrate.current_head() == "0007"
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


_LEAD = {"flow_id": "demo", "state": "budget", "status": "active", "outcome": None, "score": 80, "tier": "hot",
         "reasons": [{"rule": "team_size", "points": 80, "reason": "40 people", "turn": 2}],
         "values": {"team_size": 40, "huge": 2**70}, "objections": {"price": 1}}


async def _execute(url: str, statement: str, params: dict[str, object] | None = None) -> list[tuple[object, ...]]:
    engine = create_engine(url)
    try:
        async with engine.begin() as connection:
            result = await connection.execute(sa.text(statement), params or {})
            return [tuple(row) for row in result.all()] if result.returns_rows else []
    finally:
        await engine.dispose()


async def test_0003_moves_each_lead_into_its_conversation_and_back(empty_url: str) -> None:
    """Leads recorded before 0003 are in their conversation's row afterwards; a downgrade restores the table."""
    await migrate.upgrade(empty_url, "0002")
    at = "2026-01-05 12:00:00"
    for cid in ("c1", "c2"):
        await _execute(empty_url, "INSERT INTO conversations (id, channel, external_user_id, flow_id, flow_version, "
                       "state, status, score, \"values\", state_json, attributes, created_at, updated_at) VALUES "
                       "(:id, 'web', :id, 'demo', 'v1', 'budget', 'active', 80, '{}', '{}', '{}', "
                       + f"'{at}', '{at}')", {"id": cid})
    lead_columns = {key: json.dumps(value) if key in ("reasons", "values", "objections") else value
                    for key, value in _LEAD.items()}
    await _execute(empty_url, "INSERT INTO leads (conversation_id, flow_id, state, status, outcome, score, tier, "
                   "reasons, \"values\", objections, updated_at) VALUES ('c1', :flow_id, :state, :status, :outcome, "
                   f":score, :tier, :reasons, :values, :objections, '{at}')", lead_columns)

    await migrate.upgrade(empty_url, "0006")  # 0007 derives the lead from the row's state instead
    rows = await _execute(empty_url, "SELECT id, lead, lead_updated_at FROM conversations ORDER BY id")
    assert [(cid, _json(lead), _time(at)) for cid, lead, at in rows] == [
        ("c1", _LEAD, datetime(2026, 1, 5, 12, tzinfo=UTC)), ("c2", None, None)]

    await migrate.downgrade(empty_url, "0002")
    rows = await _execute(empty_url, "SELECT conversation_id, score, tier, \"values\" FROM leads")
    assert [(cid, score, tier, json.loads(values) if isinstance(values, str) else values)
            for cid, score, tier, values in rows] == [("c1", 80, "hot", _LEAD["values"])]
    await migrate.upgrade(empty_url)
    assert await migrate.schema_diff(empty_url) == []


async def test_0006_keeps_the_messages_and_their_dedup_key(empty_url: str) -> None:
    """The rebuild of `messages` (on SQLite) keeps every row and the replies' links; duplicates stay refused."""
    await migrate.upgrade(empty_url, "0005")
    at = "2026-01-05 12:00:00"
    await _execute(empty_url, "INSERT INTO conversations (id, channel, external_user_id, flow_id, flow_version, "
                   "state, status, score, \"values\", state_json, attributes, created_at, updated_at) VALUES "
                   "('c1', 'web', 'u1', 'demo', 'v1', 'start', 'active', 0, '{}', '{}', '{}', "
                   + f"'{at}', '{at}')")
    insert = ("INSERT INTO messages (conversation_id, direction, author, text, payload, channel, channel_message_id, "
              "reply_to, created_at) VALUES ('c1', :direction, :author, :text, '{}', 'web', :cmid, :reply_to, "
              + f"'{at}') RETURNING id")
    [(first,)] = await _execute(empty_url, insert, {"direction": "in", "author": "prospect", "text": "hi",
                                                    "cmid": "c1:m1", "reply_to": None})
    [(second,)] = await _execute(empty_url, insert, {"direction": "out", "author": "bot", "text": "hello",
                                                     "cmid": None, "reply_to": first})

    await migrate.upgrade(empty_url)
    assert await migrate.schema_diff(empty_url) == []
    store = await SqlAlchemyStore.connect(empty_url)
    try:
        async with store.transaction() as uow:
            messages = await uow.list_messages("c1")
            again = await uow.add_inbound(attrs.evolve(messages[0], id=None))
            replies = await uow.replies_to(first)
            [third] = await uow.add_messages([attrs.evolve(messages[1], id=None)])  # replies have no dedup key
    finally:
        await store.close()
    assert [(m.id, m.text, m.channel_message_id, m.reply_to) for m in messages] == [
        (first, "hi", "c1:m1", None), (second, "hello", None, first)]
    assert again is None and [r.id for r in replies] == [second]

    await migrate.downgrade(empty_url, "0005")
    rows = await _execute(empty_url, "SELECT id, channel_message_id, reply_to FROM messages ORDER BY id")
    assert rows == [(first, "c1:m1", None), (second, None, first), (third.id, None, first)]
    with pytest.raises(sa.exc.IntegrityError, match=r"(?i)unique"):  # the constraint is back
        await _execute(empty_url, "INSERT INTO messages (conversation_id, direction, author, text, payload, channel, "
                       f"channel_message_id, created_at) VALUES ('c1', 'in', 'prospect', 'x', '{{}}', 'web', 'c1:m1', "
                       f"'{at}')")
    await migrate.upgrade(empty_url)
    assert await migrate.schema_diff(empty_url) == []


async def test_0007_derives_the_lead_from_the_state_and_back(
    empty_url: str, new_conversation: NewConversation
) -> None:
    """A lead recorded as JSON before 0007 reads the same from the row's state afterwards (for the rows the
    service wrote, whose lead was their state); a downgrade writes the JSON back from the state."""
    await migrate.upgrade(empty_url, "0006")
    record = new_conversation(tier="hot")
    lead = LeadSummary.of(record.state, Tier.HOT)
    store = await SqlAlchemyStore.connect(empty_url)
    try:
        async with store.transaction() as uow:
            await uow.insert_conversation(record)
            await uow.insert_conversation(new_conversation(id="f" * 32))
            untiered = new_conversation(id="e" * 32)  # tier NULL, as a hand-written row may be
            await uow.insert_conversation(untiered)
    finally:
        await store.close()
    at = "2026-01-05 12:00:00"
    for cid, recorded in ((record.id, lead), ("e" * 32, LeadSummary.of(untiered.state, Tier.WARM))):
        await _execute(empty_url, f"UPDATE conversations SET lead = :lead, lead_updated_at = '{at}' WHERE id = :id",
                       {"lead": json.dumps(lead_to_json(recorded)), "id": cid})

    await migrate.upgrade(empty_url)
    assert await migrate.schema_diff(empty_url) == []
    store = await SqlAlchemyStore.connect(empty_url)
    try:
        async with store.transaction() as uow:
            derived, none = await uow.get_lead(record.id), await uow.get_lead("f" * 32)
            tiered = await uow.get_lead("e" * 32)
    finally:
        await store.close()
    assert none is None
    assert tiered is not None and tiered.lead == LeadSummary.of(untiered.state, Tier.WARM)  # the lead's tier kept
    assert derived == LeadRecord(conversation_id=record.id, lead=lead, updated_at=datetime(2026, 1, 5, 12, tzinfo=UTC))

    await migrate.downgrade(empty_url, "0006")
    rows = await _execute(empty_url, "SELECT id, lead FROM conversations ORDER BY id")
    assert [(cid, _json(stored)) for cid, stored in rows] == sorted([
        ("e" * 32, lead_to_json(LeadSummary.of(untiered.state, Tier.WARM))), ("f" * 32, None),
        (record.id, lead_to_json(lead))], key=lambda row: str(row[0]))
    await migrate.upgrade(empty_url)
    assert await migrate.schema_diff(empty_url) == []


def _json(value: object) -> object:
    """A JSON column as read back raw: text on SQLite, decoded on PostgreSQL."""
    return json.loads(value) if isinstance(value, str) else value


def _time(value: object) -> datetime | None:
    """A timestamp column as read back raw: text on SQLite, a datetime on PostgreSQL."""
    if value is None:
        return None
    at = datetime.fromisoformat(value) if isinstance(value, str) else value
    assert isinstance(at, datetime)
    return at if at.tzinfo else at.replace(tzinfo=UTC)
