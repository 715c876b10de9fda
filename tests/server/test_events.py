"""The event hub: fan-out per session, bounded queues, slow streams closed, shutdown wakes everyone."""

from __future__ import annotations

import asyncio
import gc
import tracemalloc
from datetime import timedelta

from bot.channels.events import EventHub
from bot.engine.types import ConversationState
from storage.repository import Author, ConversationRecord, Direction, MessageRecord
from tests.conftest import NOW


def conversation(cid: str) -> ConversationRecord:
    state = ConversationState(flow_id="f", flow_version="v", channel="web", state="s", started_at=NOW, updated_at=NOW)
    return ConversationRecord(id=cid, channel="web", external_user_id="u", state=state, created_at=NOW,
                              updated_at=NOW)


def message(cid: str, mid: int) -> MessageRecord:
    return MessageRecord(id=mid, conversation_id=cid, direction=Direction.OUT, author=Author.BOT, text=f"m{mid}",
                         created_at=NOW + timedelta(seconds=mid))


async def test_messages_go_to_every_stream_of_their_session_only() -> None:
    hub = EventHub()
    one, two, elsewhere = hub.subscribe("a"), hub.subscribe("a"), hub.subscribe("b")
    await hub.publish(conversation("a"), [message("a", 1), message("a", 2)])
    assert [m.id for m in await one.next(1)] == [1, 2]
    assert [m.id for m in await two.next(1)] == [1, 2]
    assert await elsewhere.next(0.01) == []
    assert hub.count("a") == 2 and hub.count() == 3


async def test_a_waiting_stream_wakes_on_a_push_and_times_out_when_quiet() -> None:
    hub = EventHub()
    subscription = hub.subscribe("a")
    waiting = asyncio.create_task(subscription.next(5))
    await asyncio.sleep(0)
    await hub.publish(conversation("a"), [message("a", 7)])
    async with asyncio.timeout(1):
        assert [m.id for m in await waiting] == [7]
    assert await subscription.next(0.01) == []
    assert not subscription.closed


async def test_a_stream_that_falls_behind_is_closed_so_it_reconnects() -> None:
    hub = EventHub(queue_limit=3)
    slow = hub.subscribe("a")
    fine = hub.subscribe("a")
    await hub.publish(conversation("a"), [message("a", 1), message("a", 2)])
    assert [m.id for m in await fine.next(1)] == [1, 2]
    await hub.publish(conversation("a"), [message("a", 3), message("a", 4)])
    assert slow.closed and not fine.closed
    assert [m.id for m in await slow.next(1)] == [1, 2]  # what it had, then the end
    assert await slow.next(1) == []


async def test_close_ends_every_stream_at_once_and_later_ones_at_birth() -> None:
    hub = EventHub()
    subscriptions = [hub.subscribe(f"s{n}") for n in range(50)]
    waiting = [asyncio.create_task(s.next(60)) for s in subscriptions]
    await asyncio.sleep(0)
    hub.close()
    async with asyncio.timeout(1):
        assert await asyncio.gather(*waiting) == [[]] * 50
    assert all(s.closed for s in subscriptions)
    assert hub.subscribe("late").closed
    await hub.publish(conversation("s1"), [message("s1", 1)])  # nobody listens any more: no error


async def test_unsubscribing_forgets_the_session() -> None:
    hub = EventHub()
    subscription = hub.subscribe("a")
    hub.unsubscribe(subscription)
    hub.unsubscribe(subscription)  # twice is harmless
    assert hub.count() == 0
    assert hub._sessions == {}


async def test_ten_thousand_waiting_streams_stay_small() -> None:
    hub = EventHub()
    gc.collect()
    tracemalloc.start()
    try:
        before = tracemalloc.get_traced_memory()[0]
        subscriptions = [hub.subscribe(f"session-{n:05d}") for n in range(10_000)]
        waiting = [asyncio.create_task(s.next(60)) for s in subscriptions]
        await asyncio.sleep(0)
        used = tracemalloc.get_traced_memory()[0] - before
    finally:
        tracemalloc.stop()
    hub.close()
    await asyncio.gather(*waiting)
    # Measured: ~0.4 KB per subscription, ~1.7 KB with the waiting task that stands in for the response generator
    # (~2.3 KB when the wait went through asyncio.wait_for).
    assert used / 10_000 < 2048, f"{used / 10_000:.0f} bytes per stream"
