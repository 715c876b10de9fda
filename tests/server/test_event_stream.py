"""The /events stream in-process: catch-up, live pushes, resume points, pings, limits and the end of a stream.

httpx's ASGI transport hands over a response only once it is complete, so each test ends the stream itself
(the hub's shutdown `close()`, as the server does) and then reads everything that was sent.
"""

from __future__ import annotations

import asyncio
from datetime import timedelta

import httpx
import pytest

from tests.server.conftest import Chat, Server, build, client_for, eventually, parse_stream


async def open_stream(server: Server, client: httpx.AsyncClient, chat: Chat, query: str = "",
                      headers: dict[str, str] | None = None) -> asyncio.Task[httpx.Response]:
    """Start reading the stream; returns once the server has subscribed it."""
    before = server.hub.count(chat.session_id)
    task = asyncio.create_task(client.get(f"{chat.url}/events{query}", headers=headers or chat.auth))
    await eventually(lambda: server.hub.count(chat.session_id) > before or task.done())
    return task


async def fire_follow_up(server: Server) -> int:
    """Thirty-one minutes of silence: the flow's follow-up timer fires and pushes a message."""
    server.clock.now += timedelta(minutes=31)
    return await server.service.fire_due_timers()


async def finish(server: Server, task: asyncio.Task[httpx.Response]) -> httpx.Response:
    server.hub.close()
    async with asyncio.timeout(5):
        return await task


async def test_catch_up_after_an_id_then_live_pushes(server: Server, client: httpx.AsyncClient) -> None:
    chat = await Chat.open(client)
    await chat.say("Dana")
    stored = await chat.history()
    task = await open_stream(server, client, chat, f"?after={stored[1]['id']}")
    assert await fire_follow_up(server) == 0  # answered: the ask_name reminder was cancelled
    chat2 = await Chat.open(client)
    task2 = await open_stream(server, client, chat2, "?after=0")
    assert await fire_follow_up(server) == 1
    response, response2 = await finish(server, task), await finish(server, task2)
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/event-stream")
    assert response.headers["cache-control"] == "no-store"
    assert "content-length" not in response.headers
    events, other = parse_stream(response.text)
    assert other[0] == "retry: 3000"
    assert [e.id for e in events] == [m["id"] for m in stored[2:]]
    assert all(e.event == "message" and e.data == m for e, m in zip(events, stored[2:], strict=True))
    events2, _ = parse_stream(response2.text)
    first_two = [m["id"] for m in chat2.first]
    assert [e.id for e in events2][:2] == first_two
    pushed = events2[2:]
    assert len(pushed) == 1 and pushed[0].data["direction"] == "out" and pushed[0].id > first_two[-1]
    assert "Still there?" in pushed[0].data["text"]


async def test_without_a_resume_point_only_live_messages_come(server: Server, client: httpx.AsyncClient) -> None:
    chat = await Chat.open(client)
    task = await open_stream(server, client, chat)
    await fire_follow_up(server)
    events, _ = parse_stream((await finish(server, task)).text)
    assert len(events) == 1 and events[0].id > chat.first[-1]["id"]


async def test_last_event_id_wins_over_after(server: Server, client: httpx.AsyncClient) -> None:
    chat = await Chat.open(client)
    await chat.say("Dana")
    stored = await chat.history()
    task = await open_stream(server, client, chat, "?after=0",
                             headers={**chat.auth, "last-event-id": str(stored[2]["id"])})
    events, _ = parse_stream((await finish(server, task)).text)
    assert [e.id for e in events] == [stored[3]["id"]]


async def test_a_message_already_sent_in_the_catch_up_is_not_sent_again(server: Server,
                                                                        client: httpx.AsyncClient) -> None:
    chat = await Chat.open(client)
    task = await open_stream(server, client, chat, "?after=0")
    record = await server.service.get(chat.session_id)
    assert record is not None
    old = await server.service.history(chat.session_id)
    await asyncio.sleep(0.05)  # let the catch-up finish
    await server.hub.publish(record, old)  # as if pushed while the history was being read
    events, _ = parse_stream((await finish(server, task)).text)
    assert [e.id for e in events] == [m.id for m in old]


async def test_the_token_can_be_a_query_parameter_for_event_source(server: Server,
                                                                   client: httpx.AsyncClient) -> None:
    chat = await Chat.open(client)
    task = await open_stream(server, client, chat, f"?token={chat.token}&after=0", headers={})
    response = await finish(server, task)
    assert response.status_code == 200
    assert len(parse_stream(response.text)[0]) == 2


async def test_pings_keep_a_quiet_stream_open() -> None:
    server = build(ping_interval=0.02)
    async with client_for(server.app) as client:
        chat = await Chat.open(client)
        task = await open_stream(server, client, chat)
        await asyncio.sleep(0.15)
        _, other = parse_stream((await finish(server, task)).text)
        assert other.count(": ping") >= 2


async def test_a_stream_that_falls_behind_is_closed(server: Server, client: httpx.AsyncClient) -> None:
    chat = await Chat.open(client)
    record = await server.service.get(chat.session_id)
    assert record is not None
    stored = await server.service.history(chat.session_id)
    subscription = server.hub.subscribe(chat.session_id)  # a stream that never reads
    for _ in range(60):
        await server.hub.publish(record, stored)
    assert subscription.closed
    server.hub.unsubscribe(subscription)


async def test_too_many_streams_of_one_session_are_refused(server: Server, client: httpx.AsyncClient) -> None:
    chat = await Chat.open(client)
    tasks = [await open_stream(server, client, chat) for _ in range(10)]
    refused = await client.get(f"{chat.url}/events", headers=chat.auth)
    assert refused.status_code == 429
    assert refused.headers["retry-after"] == "5"
    server.hub.close()
    async with asyncio.timeout(5):
        await asyncio.gather(*tasks)


@pytest.mark.parametrize("value", ["abc", "-3", "1e3", "²"])
async def test_a_bad_last_event_id_is_invalid_request(client: httpx.AsyncClient, value: str) -> None:
    chat = await Chat.open(client)
    headers = {b"authorization": chat.auth["authorization"].encode(), b"last-event-id": value.encode()}
    response = await client.get(f"{chat.url}/events", headers=headers)
    assert response.status_code == 422
    assert response.json()["error"]["code"] == "invalid_request"


async def test_closing_the_hub_ends_streams_promptly(server: Server, client: httpx.AsyncClient) -> None:
    chat = await Chat.open(client)
    tasks = [await open_stream(server, client, chat) for _ in range(3)]
    server.hub.close()
    async with asyncio.timeout(1):
        responses = await asyncio.gather(*tasks)
    assert [r.status_code for r in responses] == [200, 200, 200]
    assert server.hub.count() == 0
