"""The service: one turn at a time per conversation, duplicates once, timers once, versions pinned."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from datetime import datetime, timedelta
from pathlib import Path

import pytest

from bot.engine import engine
from bot.engine.types import ChoiceMade, LeadUpdated, Status, TextReceived
from bot.flow.compiler import compile_flow
from bot.flow.loader import load_flow_text
from bot.flow.registry import FlowRegistry
from bot.service import ConversationService
from storage.memory import InMemoryStore
from storage.migrate import downgrade, upgrade
from storage.repository import Direction, Store
from storage.sql import SqlAlchemyStore
from tests.conftest import FLOWS, NOW


class Clock:
    def __init__(self) -> None:
        self.now = NOW

    def __call__(self) -> datetime:
        return self.now


def registry(text: str | None = None) -> FlowRegistry:
    content = text or (FLOWS / "default.yaml").read_text(encoding="utf-8")
    return FlowRegistry([(compile_flow(load_flow_text(content, "default.yaml")), content)], "default")


@pytest.fixture(params=["memory", "sqlite", "postgres"])
async def store(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[Store]:
    if request.param == "memory":
        yield InMemoryStore()
        return
    if request.param == "postgres":
        url = str(request.getfixturevalue("postgres_url"))
        await downgrade(url, "base")
    else:
        url = f"sqlite+aiosqlite:///{tmp_path / 'bot.db'}"
    await upgrade(url)
    sql = await SqlAlchemyStore.connect(url)
    yield sql
    await sql.close()


async def test_start_and_answer_are_stored_in_order(store: Store) -> None:
    service = ConversationService(store=store, flows=registry(), clock=Clock())
    started = await service.start(channel="web", external_user_id="u1")
    assert [m.cause_id for m in started.replies] == ["welcome", "ask_name"]
    result = await service.handle(started.conversation.id, TextReceived(text="Dana"), channel_message_id="m1")
    assert result.conversation.state.values["name"] == "Dana"
    history = await service.history(started.conversation.id)
    assert [m.direction for m in history] == [Direction.OUT, Direction.OUT, Direction.IN, Direction.OUT]
    assert [m.id for m in history] == sorted(m.id for m in history if m.id is not None)


async def test_duplicate_delivery_is_processed_once_and_answered_the_same(store: Store) -> None:
    service = ConversationService(store=store, flows=registry(), clock=Clock())
    started = await service.start(channel="web", external_user_id="u1")
    first = await service.handle(started.conversation.id, TextReceived(text="Dana"), channel_message_id="m1")
    again = await service.handle(started.conversation.id, TextReceived(text="Dana"), channel_message_id="m1")
    assert again.duplicate and not first.duplicate
    assert [m.id for m in again.replies] == [m.id for m in first.replies]
    assert again.conversation.state.turn == first.conversation.state.turn
    inbound = [m for m in await service.history(started.conversation.id) if m.direction is Direction.IN]
    assert len(inbound) == 1


async def test_concurrent_messages_are_processed_one_at_a_time_in_order(store: Store) -> None:
    service = ConversationService(store=store, flows=registry(), clock=Clock())
    started = await service.start(channel="web", external_user_id="u1")
    cid = started.conversation.id
    results = await asyncio.gather(*(
        service.handle(cid, TextReceived(text=f"how much does it cost {i}"), channel_message_id=f"m{i}")
        for i in range(20)
    ))
    turns = sorted(r.conversation.state.turn for r in results)
    assert turns == list(range(1, 21))
    inbound = [m for m in await service.history(cid) if m.direction is Direction.IN]
    assert [m.text for m in inbound] == [f"how much does it cost {i}" for i in range(20)]


async def test_due_timer_fires_exactly_once_and_is_pushed(store: Store) -> None:
    clock = Clock()
    service = ConversationService(store=store, flows=registry(), clock=clock)
    pushed: list[str] = []

    async def listener(_conversation: object, messages: object) -> None:
        pushed.extend(m.text for m in messages)  # type: ignore[attr-defined]

    service.subscribe(listener)
    await service.start(channel="web", external_user_id="u1")
    assert await service.fire_due_timers() == 0
    clock.now = NOW + timedelta(hours=1)
    fired = await asyncio.gather(service.fire_due_timers(), service.fire_due_timers())
    assert sum(fired) == 1
    assert pushed == ["Still there? Just type your first name to get started."]
    assert await service.fire_due_timers() == 0


async def test_answer_cancels_the_silence_timer(store: Store) -> None:
    clock = Clock()
    service = ConversationService(store=store, flows=registry(), clock=clock)
    started = await service.start(channel="web", external_user_id="u1")
    await service.handle(started.conversation.id, TextReceived(text="Dana"))
    clock.now = NOW + timedelta(days=1)
    assert await service.fire_due_timers() == 0


async def test_conversation_stays_on_the_flow_version_it_started_on(store: Store) -> None:
    old = (FLOWS / "default.yaml").read_text(encoding="utf-8")
    service = ConversationService(store=store, flows=registry(old), clock=Clock())
    started = await service.start(channel="web", external_user_id="u1")
    new = old.replace("First, what's your name?", "Who am I talking to?")
    service_v2 = ConversationService(store=store, flows=registry(new), clock=Clock())
    result = await service_v2.handle(started.conversation.id, TextReceived(text="restart"))
    assert "First, what's your name?" in [m.text for m in result.replies]
    fresh = await service_v2.start(channel="web", external_user_id="u2")
    assert "Who am I talking to?" in [m.text for m in fresh.replies]


async def test_the_conversation_row_keeps_the_tier_of_its_lead(store: Store) -> None:
    service = ConversationService(store=store, flows=registry(), clock=Clock())
    started = await service.start(channel="web", external_user_id="u1")
    cid = started.conversation.id
    assert started.conversation.tier == "cold"
    for text in ("Dana Scully", "Acme Corp", "1", "I make the decision", "about 300 people", "churn and reporting",
                 "next quarter", "$50k a year"):
        result = await service.handle(cid, TextReceived(text=text))
    stored, lead = await service.get(cid), await service.lead(cid)
    assert result.conversation.tier == "hot"
    assert stored is not None and lead is not None
    assert stored.tier == lead.tier.value == "hot"


async def test_the_stored_lead_is_the_one_each_turn_recorded(store: Store) -> None:
    """get_lead derives the lead from the saved row: it must equal the LeadUpdated of the engine's own turn,
    and keep the date of the last turn that recorded one."""
    flows, clock = registry(), Clock()
    service = ConversationService(store=store, flows=flows, clock=clock)
    started = await service.start(channel="web", external_user_id="u1")
    cid, state = started.conversation.id, started.conversation.state
    recorded_at, before, quiet = None, await service.lead(cid), 0
    for text in ("Dana Scully", "Acme Corp", "what does it cost?", "1", "I make the decision", "about 300 people",
                 "churn and reporting", "next quarter", "$50k a year", "dana@acme.com", "skip"):
        clock.now += timedelta(minutes=1)
        flow = flows.version(state.flow_id, state.flow_version)
        assert flow is not None
        turn = engine.step(flow, state, TextReceived(text=text), clock.now)
        expected = [effect.lead for effect in turn.effects if isinstance(effect, LeadUpdated)]
        result = await service.handle(cid, TextReceived(text=text))
        state = result.conversation.state
        assert state == turn.state
        lead = await service.lead(cid)
        if expected:
            recorded_at = clock.now
            assert lead == expected[-1]
        else:  # the FAQ answer changes nothing of the lead
            quiet += 1
            assert lead == before
        assert await _lead_date(store, cid) == recorded_at
        before = lead
    assert quiet == 1 and state.status is Status.ENDED


async def _lead_date(store: Store, conversation_id: str) -> datetime | None:
    async with store.transaction() as uow:
        record = await uow.get_lead(conversation_id)
    return None if record is None else record.updated_at


async def test_handoff_goes_to_the_outbox_and_the_lead_is_kept(store: Store) -> None:
    service = ConversationService(store=store, flows=registry(), clock=Clock())
    started = await service.start(channel="web", external_user_id="u1")
    cid = started.conversation.id
    await service.handle(cid, TextReceived(text="I want to talk to a human"))
    async with store.transaction() as uow:
        outbox = await uow.pending_outbox()
        lead = await uow.get_lead(cid)
        log = await uow.list_transitions(cid)
    assert [o.kind for o in outbox] == ["handoff"]
    assert outbox[0].payload["lead"]["flow_id"] == "default"
    assert outbox[0].payload["repeat"] is False
    assert lead is not None and lead.lead.flow_id == "default"
    assert [(t.source, t.dest) for t in log] == [("", "welcome"), ("welcome", "ask_name")]


async def test_take_over_and_give_back(store: Store) -> None:
    service = ConversationService(store=store, flows=registry(), clock=Clock())
    started = await service.start(channel="web", external_user_id="u1")
    cid = started.conversation.id
    taken = await service.take_over(cid, "Sam")
    assert taken.conversation.state.status is Status.HUMAN
    relayed = await service.handle(cid, TextReceived(text="hello Sam"))
    assert relayed.replies == ()
    back = await service.give_back(cid)
    assert back.conversation.state.status is Status.ACTIVE


async def test_handle_from_user_starts_then_continues(store: Store) -> None:
    service = ConversationService(store=store, flows=registry(), clock=Clock())
    first = await service.handle_from_user(channel="telegram", external_user_id="42",
                                           inbound=TextReceived(text="Dana"), channel_message_id="1")
    assert [m.cause_id for m in first.replies] == ["welcome", "ask_name", "ask_company"]
    second = await service.handle_from_user(channel="telegram", external_user_id="42",
                                            inbound=ChoiceMade(option="x"), channel_message_id="2")
    assert second.conversation.id == first.conversation.id
