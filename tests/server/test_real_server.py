"""A real uvicorn server on 127.0.0.1 (port 0): keep-alive, a live event stream, resume, graceful shutdown."""

from __future__ import annotations

import asyncio
import socket
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager
from datetime import timedelta
from typing import Any

import httpx
import pytest

from bot.channels.events import EventHub
from bot.server import SalesbotServer, create_app, server_config
from bot.service import ConversationService
from storage.memory import InMemoryStore
from tests.server.conftest import Chat, Clock, Event, eventually, make_settings, registry


class GatedStore(InMemoryStore):
    """An in-memory store whose transactions can be held open, to catch a turn in flight."""

    def __init__(self) -> None:
        super().__init__()
        self.gate: asyncio.Event | None = None
        self.entered = asyncio.Event()

    @asynccontextmanager
    async def transaction(self) -> AsyncIterator[Any]:
        async with super().transaction() as uow:
            if self.gate is not None:
                self.entered.set()
                await self.gate.wait()
            yield uow


class Harness:
    def __init__(self) -> None:
        self.clock = Clock()
        self.store = GatedStore()
        self.service = ConversationService(store=self.store, flows=registry(), clock=self.clock)
        self.hub = EventHub()
        self.app = create_app(make_settings(), service=self.service, hub=self.hub, ping_interval=0.2)


@asynccontextmanager
async def running(harness: Harness) -> AsyncIterator[tuple[str, SalesbotServer, asyncio.Task[None]]]:
    """Serve the app on a socket bound here to 127.0.0.1 port 0; stop as a signal would, bounded in time."""
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    server = SalesbotServer(server_config(harness.app), hub=harness.hub, handle_signals=False)
    task = asyncio.create_task(server.serve(sockets=[sock]))
    try:
        await eventually(lambda: server.started or task.done())
        assert not task.done(), "the server did not start"
        yield f"http://127.0.0.1:{port}", server, task
    finally:
        server.should_exit = True
        async with asyncio.timeout(10):
            await task
        sock.close()


async def read_event(lines: AsyncIterator[str], seen: list[str] | None = None) -> Event:
    """The next `message` event of a stream (comments and `retry:` are skipped, or collected in `seen`)."""
    fields: dict[str, str] = {}
    async with asyncio.timeout(5):
        async for line in lines:
            if line == "":
                if "data" in fields:
                    import json  # noqa: PLC0415

                    return Event(id=int(fields["id"]), event=fields["event"], data=json.loads(fields["data"]))
                fields = {}
            elif line.startswith(":") or line.startswith("retry:"):
                if seen is not None:
                    seen.append(line)
            else:
                name, _, value = line.partition(": ")
                fields[name] = value
    raise AssertionError("the stream ended before an event arrived")


def ids(messages: Iterator[dict[str, Any]] | list[dict[str, Any]]) -> list[int]:
    return [m["id"] for m in messages]


async def test_keep_alive_live_push_and_resume_over_a_real_socket() -> None:
    harness = Harness()
    async with running(harness) as (url, server, _task), httpx.AsyncClient(base_url=url) as http:
        chat = await Chat.open(http)
        assert len(await chat.history()) == 2
        assert len(await chat.history(after=chat.first[0]["id"])) == 1
        assert len(server.server_state.connections) == 1  # three requests, one kept-alive connection
        last = chat.first[-1]["id"]

        seen: list[str] = []
        async with http.stream("GET", f"{chat.url}/events", params={"after": str(last)}, headers=chat.auth) as sse:
            assert sse.status_code == 200
            assert sse.headers["content-type"].startswith("text/event-stream")
            lines = sse.aiter_lines()
            await eventually(lambda: harness.hub.count(chat.session_id) == 1)
            harness.clock.now += timedelta(minutes=31)
            assert await harness.service.fire_due_timers() == 1
            pushed = await read_event(lines, seen)
            assert pushed.event == "message" and pushed.id > last
            assert pushed.data["author"] == "bot" and "Still there?" in pushed.data["text"]
            async with asyncio.timeout(5):  # quiet now: pings (every 0.2 s here) keep the stream open
                async for line in lines:
                    if line == ": ping":
                        break
        assert seen[0] == "retry: 3000"
        await eventually(lambda: harness.hub.count(chat.session_id) == 0)

        reply = await chat.say("Dana")
        newer = [reply["inbound"]["id"], *ids(reply["messages"])]
        async with http.stream("GET", f"{chat.url}/events", params={"after": "0"},
                               headers={**chat.auth, "last-event-id": str(pushed.id)}) as again:
            lines = again.aiter_lines()
            resumed = [await read_event(lines) for _ in newer]
        history_after_push = [m["id"] for m in await chat.history(after=pushed.id)]
        assert [e.id for e in resumed] == history_after_push
        assert pushed.id not in [e.id for e in resumed]
        assert set(newer) <= set(history_after_push)


async def test_graceful_shutdown_finishes_the_turn_in_flight_and_ends_streams() -> None:
    harness = Harness()
    async with running(harness) as (url, server, task), httpx.AsyncClient(base_url=url) as http, \
            httpx.AsyncClient(base_url=url) as streaming:
        chat = await Chat.open(http)
        async with streaming.stream("GET", f"{chat.url}/events", headers=chat.auth) as sse:
            await eventually(lambda: harness.hub.count(chat.session_id) == 1)
            harness.store.gate = asyncio.Event()
            in_flight = asyncio.create_task(chat.post({"text": "Dana", "client_message_id": "c-1"}))
            async with asyncio.timeout(5):
                await harness.store.entered.wait()

            server.should_exit = True  # what SIGINT/SIGTERM do
            async with asyncio.timeout(3):  # the open stream ends at once instead of holding the shutdown up
                async for _line in sse.aiter_lines():
                    pass
            await asyncio.sleep(0.3)
            assert not task.done() and not in_flight.done()  # draining: waiting for the turn
            with pytest.raises(httpx.ConnectError):
                async with httpx.AsyncClient(base_url=url) as late:
                    await late.get("/healthz")

            harness.store.gate.set()
            harness.store.gate = None
            async with asyncio.timeout(5):
                response = await in_flight
        assert response.status_code == 200
        assert response.json()["inbound"]["text"] == "Dana"
        async with asyncio.timeout(10):
            await task
    history = await harness.service.history(chat.session_id)
    assert [m.text for m in history if m.direction == "in"] == ["Dana"]
    assert history[-1].id == response.json()["messages"][-1]["id"]
