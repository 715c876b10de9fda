"""POST .../messages, POST /sessions and GET .../events are served by plain Starlette routes ahead of FastAPI;
each must answer exactly as the FastAPI route it shadows, inside the same middleware."""

from __future__ import annotations

import asyncio
import gc
import inspect
import json
import os
from typing import Any

import pytest

from tests.server.conftest import API, build, client_for, eventually, parse_stream

MESSAGES = API + "/{session_id}/messages"
EVENTS = API + "/{session_id}/events"
JSON = {"content-type": "application/json"}

CASES: list[tuple[str, bytes, dict[str, str], bool, int]] = [
    # (what, body, headers, with the session's token, the status both routes answer)
    ("a message", b'{"text": "Dana", "client_message_id": "c-1"}', JSON, True, 200),
    ("a choice", b'{"choice": "founder", "client_message_id": "c-1"}', JSON, True, 200),
    ("json with a charset", b'{"text": "Dana", "client_message_id": "c-1"}',
     {"content-type": "application/json; charset=utf-8"}, True, 200),
    ("vendor json", b'{"text": "Dana", "client_message_id": "c-1"}', {"content-type": "application/x+json"}, True,
     200),
    ("escaped lone surrogate and NUL", b'{"text": "a\\ud800b\\u0000c", "client_message_id": "c-1"}', JSON, True,
     200),
    ("no token", b'{"text": "Dana", "client_message_id": "c-1"}', JSON, False, 401),
    ("a basic token", b'{"text": "Dana", "client_message_id": "c-1"}', {**JSON, "authorization": "Basic x"}, False,
     401),
    ("empty body", b"", JSON, True, 422),
    ("invalid json", b'{"text": ', JSON, True, 400),
    ("bytes in no encoding", b"\xff\xfe\x00", JSON, True, 400),
    ("no content type", b'{"text": "Dana", "client_message_id": "c-1"}', {}, True, 422),
    ("text/plain", b'{"text": "Dana", "client_message_id": "c-1"}', {"content-type": "text/plain"}, True, 422),
    ("a list", b"[1, 2]", JSON, True, 422),
    ("a number", b"42", JSON, True, 422),
    ("missing id", b'{"text": "Dana"}', JSON, True, 422),
    ("both fields", b'{"text": "a", "choice": "b", "client_message_id": "c-1"}', JSON, True, 422),
    ("text not a string", b'{"text": 42, "client_message_id": "c-1"}', JSON, True, 422),
    ("blank text", b'{"text": "  ", "client_message_id": "c-1"}', JSON, True, 422),
    ("bad id", b'{"text": "a", "client_message_id": "has spaces"}', JSON, True, 422),
    ("no token and a bad body", b"[1]", JSON, False, 422),
]


async def _answer(fast: bool, body: bytes, headers: dict[str, str], with_token: bool) -> tuple[int, Any]:
    server = build()
    if not fast:  # what the documented FastAPI route answers on its own
        server.app.serve_fast([], [])
    async with client_for(server.app) as client:
        created = (await client.post(API, json={})).json()
        auth = {"authorization": f"Bearer {created['token']}"} if with_token else {}
        response = await client.post(MESSAGES.format(session_id=created["session_id"]), content=body,
                                     headers={**auth, **headers})
    data = response.json()
    for message in [data.get("inbound"), *data.get("messages", [])]:
        if message:  # ids and times differ between the two servers
            message.pop("created_at")
    return response.status_code, data


def test_the_fast_routes_are_served_ahead_of_the_documented_ones() -> None:
    app = build().app
    assert [route.path for route in app.fast_routes] == [MESSAGES, API, EVENTS]
    created = app.openapi()["paths"][API]["post"]
    assert created["responses"]["201"]["content"]["application/json"]["schema"] == {
        "$ref": "#/components/schemas/SessionCreated"}
    post = app.openapi()["paths"][MESSAGES]["post"]
    assert post["requestBody"]["content"]["application/json"]["schema"] == {"$ref": "#/components/schemas/MessageIn"}
    assert post["responses"]["200"]["content"]["application/json"]["schema"] == {
        "$ref": "#/components/schemas/TurnOut"}
    assert post["security"] == [{"HTTPBearer": []}]


@pytest.mark.parametrize(("what", "body", "headers", "with_token", "status"), CASES, ids=[c[0] for c in CASES])
async def test_the_fast_route_answers_like_the_fastapi_route(what: str, body: bytes, headers: dict[str, str],
                                                            with_token: bool, status: int) -> None:
    fast = await _answer(True, body, headers, with_token)
    documented = await _answer(False, body, headers, with_token)

    assert fast == documented, json.dumps([fast, documented], indent=1)
    assert fast[0] == status, fast


async def test_the_route_still_serves_its_other_methods() -> None:
    server = build()
    async with client_for(server.app) as client:
        created = (await client.post(API, json={})).json()
        url = MESSAGES.format(session_id=created["session_id"])
        history = await client.get(url, headers={"authorization": f"Bearer {created['token']}"})
        wrong = await client.put(url)
    assert history.status_code == 200 and len(history.json()["messages"]) == 2
    assert wrong.status_code == 405 and wrong.json()["error"]["code"] == "method_not_allowed"
    assert "POST" in wrong.headers["allow"]


async def test_the_fast_route_runs_inside_the_apps_middleware() -> None:
    """Request ids, security headers and CORS as on every route; one per-address rate for both paths."""
    server = build(webchat_ip_rate=3, webchat_allowed_origins=("https://shop.example",))
    async with client_for(server.app) as client:
        created = (await client.post(API, json={})).json()  # FastAPI: 1 of 3
        url = MESSAGES.format(session_id=created["session_id"])
        auth = {"authorization": f"Bearer {created['token']}", "origin": "https://shop.example"}
        sent = await client.post(url, json={"text": "Dana", "client_message_id": "c-1"}, headers=auth)  # 2 of 3
        history = await client.get(url, headers=auth)  # the same path with GET goes to FastAPI: 3 of 3
        limited = await client.post(url, json={"text": "Acme", "client_message_id": "c-2"}, headers=auth)
        evil = await client.post(url, json={"text": "x", "client_message_id": "c-3"},
                                 headers={**auth, "origin": "https://evil.example"})
    assert (sent.status_code, history.status_code, limited.status_code) == (200, 200, 429)
    assert evil.status_code == 403
    assert limited.headers["retry-after"]
    for response in (sent, limited):
        assert len(response.headers["x-request-id"]) == 32
        assert response.headers["x-content-type-options"] == "nosniff"
        assert response.headers["cache-control"] == "no-store"
        assert response.headers["access-control-allow-origin"] == "https://shop.example"
    assert [m["text"] for m in history.json()["messages"]][-2:] == ["Dana", sent.json()["messages"][-1]["text"]]


SESSION_CASES: list[tuple[str, bytes, dict[str, str], int]] = [
    # (what, body, headers, the status both routes answer)
    ("no body", b"", {}, 201),
    ("no body but a JSON type", b"", JSON, 201),
    ("an empty object", b"{}", JSON, 201),
    ("null", b"null", JSON, 201),
    ("a flow and a source", b'{"flow": "default", "source": "pricing page", "utm_source": "ads"}', JSON, 201),
    ("context with control characters", b'{"source": "a\\u0000b\\u001f", "locale": " en "}', JSON, 201),
    ("context with a lone surrogate", b'{"source": "a\\ud800"}', JSON, 422),
    ("unknown fields", b'{"colour": "red"}', JSON, 201),
    ("an unknown flow", b'{"flow": "nope"}', JSON, 404),
    ("a flow id with spaces", b'{"flow": "a b"}', JSON, 422),
    ("a long source", b'{"source": "' + b"x" * 201 + b'"}', JSON, 422),
    ("invalid json", b'{"flow": ', JSON, 400),
    ("a list", b"[1]", JSON, 422),
    ("a string", b'"default"', JSON, 422),
    ("text/plain", b"{}", {"content-type": "text/plain"}, 422),
    ("no content type", b"{}", {}, 422),
]


async def _session_answer(fast: bool, body: bytes, headers: dict[str, str]) -> tuple[int, Any]:
    server = build()
    if not fast:
        server.app.serve_fast([], [])
    async with client_for(server.app) as client:
        response = await client.post(API, content=body, headers=headers)
    data = response.json()
    conversation = await server.service.get(data["session_id"]) if "session_id" in data else None
    stored = (conversation.channel, dict(conversation.attributes)) if conversation else None
    for key in ("session_id", "token"):  # random per server
        data.pop(key, None)
    for message in data.get("messages", []):
        message.pop("created_at")
    return response.status_code, (data, stored)


@pytest.mark.parametrize(("what", "body", "headers", "status"), SESSION_CASES, ids=[c[0] for c in SESSION_CASES])
async def test_the_fast_session_route_answers_like_the_fastapi_route(what: str, body: bytes, headers: dict[str, str],
                                                                    status: int) -> None:
    fast = await _session_answer(True, body, headers)
    documented = await _session_answer(False, body, headers)
    assert fast == documented
    assert fast[0] == status, what


EVENT_CASES: list[tuple[str, str, dict[str, str], int]] = [
    # (what, query, headers ("{token}" is the session's), the status both routes answer)
    ("a bearer token", "", {"authorization": "Bearer {token}"}, 200),
    ("a bearer token and after=0", "?after=0", {"authorization": "Bearer {token}"}, 200),
    ("a query token", "?token={token}&after=0", {}, 200),
    ("a basic header and a query token", "?token={token}&after=0", {"authorization": "Basic x"}, 200),
    ("the header wins over the query", "?token=wrong&after=0", {"authorization": "Bearer {token}"}, 200),
    ("a wrong header and a good query token", "?token={token}", {"authorization": "Bearer wrong"}, 401),
    ("no token", "?after=0", {}, 401),
    ("the last of two afters", "?token={token}&after=7&after=0", {}, 200),
    ("Last-Event-ID wins over after", "?token={token}&after=7", {"last-event-id": "0"}, 200),
    ("a blank Last-Event-ID", "?token={token}&after=0", {"last-event-id": " "}, 200),
    ("a bad Last-Event-ID", "?token={token}", {"last-event-id": "abc"}, 422),
    ("a negative after", "?token={token}&after=-1", {}, 422),
    ("after not a number", "?token={token}&after=abc", {}, 422),
    ("after a fraction", "?token={token}&after=1.5", {}, 422),
    ("an empty after", "?token={token}&after=", {}, 422),
    ("a bad after and no token", "?after=x", {}, 422),
]


async def _events_answer(fast: bool, query: str, headers: dict[str, str]) -> tuple[int, dict[str, str], Any]:
    server = build()
    if not fast:
        server.app.serve_fast([], [])
    async with client_for(server.app) as client:
        created = (await client.post(API, json={})).json()
        token, session_id = created["token"], created["session_id"]
        url = EVENTS.format(session_id=session_id) + query.format(token=token)
        task = asyncio.create_task(client.get(url, headers={k: v.format(token=token) for k, v in headers.items()}))
        await eventually(lambda: server.hub.count(session_id) > 0 or task.done())
        server.hub.close()  # ends an open stream; httpx hands a response over only once it is complete
        async with asyncio.timeout(5):
            response = await task
    kept = {name: response.headers.get(name, "") for name in (
        "content-type", "cache-control", "x-accel-buffering", "retry-after", "www-authenticate")}
    body = parse_stream(response.text) if response.status_code == 200 else response.json()
    return response.status_code, kept, body


@pytest.mark.parametrize(("what", "query", "headers", "status"), EVENT_CASES, ids=[c[0] for c in EVENT_CASES])
async def test_the_fast_event_stream_route_answers_like_the_fastapi_route(what: str, query: str,
                                                                         headers: dict[str, str],
                                                                         status: int) -> None:
    fast = await _events_answer(True, query, headers)
    documented = await _events_answer(False, query, headers)
    assert fast == documented
    assert fast[0] == status, what


async def test_a_head_request_for_the_stream_is_refused_as_by_the_documented_route() -> None:
    server = build()
    async with client_for(server.app) as client:
        created = (await client.post(API, json={})).json()
        response = await client.head(EVENTS.format(session_id=created["session_id"]),
                                     headers={"authorization": f"Bearer {created['token']}"})
    assert response.status_code == 405
    assert server.hub.count() == 0


def _alive_coroutines_of(package: str) -> int:
    marker = f"{os.sep}{package}{os.sep}"
    return sum(1 for o in gc.get_objects() if inspect.iscoroutine(o) and marker in o.cr_code.co_filename)


@pytest.mark.parametrize("fast", [True, False], ids=["fast route", "documented route"])
async def test_an_open_stream_keeps_no_fastapi_layer_alive(fast: bool) -> None:
    """Every open widget holds a stream, and everything a stream keeps alive the garbage collector walks again
    and again: through the fast route, none of FastAPI's layers stay (through FastAPI, sixteen coroutines)."""
    server = build()
    if not fast:
        server.app.serve_fast([], [])
    async with client_for(server.app) as client:
        chats = [(await client.post(API, json={})).json() for _ in range(3)]
        before = _alive_coroutines_of("fastapi")
        tasks = [asyncio.create_task(client.get(EVENTS.format(session_id=chat["session_id"]),
                                                headers={"authorization": f"Bearer {chat['token']}"}))
                 for chat in chats]
        await eventually(lambda: server.hub.count() == 3)
        held = (_alive_coroutines_of("fastapi") - before) / 3
        server.hub.close()
        async with asyncio.timeout(5):
            assert [r.status_code for r in await asyncio.gather(*tasks)] == [200, 200, 200]
    assert held == 0 if fast else held >= 10
