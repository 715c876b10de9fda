"""The SQL store remembers the conversations it saved, so a turn need not read its conversation back.

Every update applies only over the revision it read, which keeps that memory safe when other workers or
processes save the same conversations: their saves make a stale turn fail with ConversationChanged, and
the service runs it again from the row.
"""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator, Awaitable, Callable

import attrs
import pytest

from bench.webchat_http import SCRIPT
from bot.engine.types import TextReceived
from bot.errors import ConversationChanged, StorageError
from bot.service import ConversationService
from storage import migrate, rows
from storage.repository import ConversationRecord, Direction, MessageRecord
from storage.sql import SavedConversations, SqlAlchemyStore, SqlAlchemyUnitOfWork
from tests.storage.conftest import EmptyDatabase, make_conversation
from tests.test_service import Clock, registry

Stores = Callable[[int], Awaitable[list[SqlAlchemyStore]]]
real_decode = rows.to_conversation_record


@pytest.fixture(params=["sqlite", "postgres"])
async def stores(request: pytest.FixtureRequest, empty_database: EmptyDatabase) -> AsyncIterator[Stores]:
    """`await stores(n)`: n stores on one migrated database, like n worker processes."""
    url = await empty_database(request.param)
    await migrate.upgrade(url)
    opened: list[SqlAlchemyStore] = []

    async def open_stores(count: int) -> list[SqlAlchemyStore]:
        opened.extend([await SqlAlchemyStore.connect(url) for _ in range(count)])
        return opened[-count:]

    try:
        yield open_stores
    finally:
        for store in opened:
            await store.close()


async def _from_row(store: SqlAlchemyStore, conversation_id: str) -> ConversationRecord | None:
    async with store.transaction() as uow:
        return await uow.get_conversation(conversation_id)  # not for update: always the row


async def test_what_a_turn_remembers_is_what_the_row_holds(stores: Stores, monkeypatch: pytest.MonkeyPatch) -> None:
    [store] = await stores(1)
    service = ConversationService(store=store, flows=registry(), clock=Clock())
    cid = (await service.start(channel="web", external_user_id="u1")).conversation.id
    decoded = []
    monkeypatch.setattr(rows, "to_conversation_record", lambda row: decoded.append(row) or real_decode(row))
    for number, text in enumerate(SCRIPT):
        decoded.clear()
        result = await service.handle(cid, TextReceived(text=text), channel_message_id=f"m{number}")
        assert decoded == []  # the turn did not read its conversation's row
        remembered = store.saved.get(cid)
        assert remembered is not None and remembered == await _from_row(store, cid)
        assert remembered.revision == number + 1
        assert remembered.state == result.conversation.state
    assert remembered.state.state == "hot_end"


async def test_workers_taking_turns_on_one_conversation_lose_none(stores: Stores,
                                                                  caplog: pytest.LogCaptureFixture) -> None:
    """A worker's memory goes stale whenever the other answers in between: its save is refused and its turn runs
    again from the row."""
    caplog.set_level(logging.INFO, logger="bot.service")
    first, second = await stores(2)
    clock = Clock()
    workers = [ConversationService(store=store, flows=registry(), clock=clock) for store in (first, second)]
    cid = (await workers[0].start(channel="web", external_user_id="u1")).conversation.id
    replies = []
    for number, text in enumerate(SCRIPT):
        result = await workers[number % 2].handle(cid, TextReceived(text=text), channel_message_id=f"m{number}")
        replies.append([m.cause_id for m in result.replies])

    alone = ConversationService(store=(await stores(1))[0], flows=registry(), clock=clock)
    cid_alone = (await alone.start(channel="web", external_user_id="u2")).conversation.id
    expected = []
    for number, text in enumerate(SCRIPT):
        result = await alone.handle(cid_alone, TextReceived(text=text), channel_message_id=f"m{number}")
        expected.append([m.cause_id for m in result.replies])

    final = await _from_row(first, cid)
    assert final is not None and final.state.turn == len(SCRIPT) and final.revision == len(SCRIPT)
    assert replies == expected  # the same conversation as one worker would have had
    again = [r for r in caplog.records if r.getMessage() == "conversation changed under the turn; running it again"]
    assert len(again) == len(SCRIPT) - 2  # every turn but each worker's first: the other one saved in between


async def test_a_stale_turn_gives_up_after_a_few_attempts(stores: Stores, monkeypatch: pytest.MonkeyPatch) -> None:
    [store] = await stores(1)
    service = ConversationService(store=store, flows=registry(), clock=Clock())
    cid = (await service.start(channel="web", external_user_id="u1")).conversation.id
    attempts = 0

    async def always_changed(self: SqlAlchemyUnitOfWork, record: ConversationRecord, **_: object) -> None:
        nonlocal attempts
        attempts += 1
        raise ConversationChanged(record.id, record.revision, record.revision + 1)

    monkeypatch.setattr(SqlAlchemyUnitOfWork, "update_conversation", always_changed)
    with pytest.raises(ConversationChanged):
        await service.handle(cid, TextReceived(text="Dana"), channel_message_id="m1")
    assert attempts == 3
    monkeypatch.undo()
    assert not [m for m in await service.history(cid) if m.direction is Direction.IN]  # each attempt rolled back


async def test_a_rolled_back_turn_leaves_the_memory_as_it_was(stores: Stores,
                                                              monkeypatch: pytest.MonkeyPatch) -> None:
    [store] = await stores(1)
    service = ConversationService(store=store, flows=registry(), clock=Clock())
    cid = (await service.start(channel="web", external_user_id="u1")).conversation.id
    before = store.saved.get(cid)

    async def broken(self: SqlAlchemyUnitOfWork, records: list[MessageRecord]) -> list[MessageRecord]:
        raise StorageError("disk full")

    with monkeypatch.context() as patch:
        patch.setattr(SqlAlchemyUnitOfWork, "add_messages", broken)
        with pytest.raises(StorageError, match="disk full"):
            await service.handle(cid, TextReceived(text="Dana"), channel_message_id="m1")
    assert store.saved.get(cid) == before == await _from_row(store, cid)
    result = await service.handle(cid, TextReceived(text="Dana"), channel_message_id="m1")
    assert result.conversation.state.values["name"] == "Dana" and not result.duplicate


def test_the_memory_keeps_the_most_recently_used_conversations() -> None:
    saved = SavedConversations(2)
    records = {name: make_conversation(id=name) for name in ("a", "b", "c")}
    saved.put({"a": records["a"], "b": records["b"]})
    assert saved.get("a") == records["a"]  # now b is the least recently used
    saved.put({"c": records["c"]})
    assert (saved.get("a"), saved.get("b"), saved.get("c"), len(saved)) == (records["a"], None, records["c"], 2)
    saved.forget("a")
    assert saved.get("a") is None and len(saved) == 1


def test_a_saved_record_keeps_every_field_but_its_identity_and_revision() -> None:
    """saved_conversation names each field (for speed): one added to ConversationRecord must be added there."""
    record = make_conversation(tier="warm", attributes={"source": "ad"}, revision=4)
    stored = make_conversation(id=record.id, channel="telegram", external_user_id="someone else")
    saved = rows.saved_conversation(record, 5, stored)
    expected = attrs.evolve(record, channel="telegram", external_user_id="someone else", created_at=stored.created_at,
                            revision=5)
    assert saved == expected
    # the fields saved_conversation names: a new one must be named there too
    assert [field.name for field in attrs.fields(ConversationRecord)] == [
        "id", "channel", "external_user_id", "state", "tier", "attributes", "created_at", "updated_at", "revision"]
    assert saved.attributes is not record.attributes  # the memory holds its own copy
