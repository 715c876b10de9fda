"""The web-chat API, in-process: every endpoint, every status row of docs/webchat-api.md, dedup and paging."""

from __future__ import annotations

import re
from typing import Any

import httpx
import pytest

from bot.http.tokens import SessionTokens
from tests.server.conftest import API, SECRET, Chat, Server, build, client_for

MESSAGE_KEYS = {"id", "direction", "author", "created_at", "text", "options", "buttons", "multiple", "state"}


def error_of(response: httpx.Response) -> dict[str, Any]:
    body = response.json()
    assert set(body) == {"error"}, body
    assert set(body["error"]) == {"code", "message"}, body
    error: dict[str, Any] = body["error"]
    return error


# ---------------------------------------------------------------- the happy path


async def test_create_session_returns_token_flow_and_first_messages(client: httpx.AsyncClient) -> None:
    response = await client.post(API, json={"source": "pricing-page", "utm_campaign": "spring"})
    assert response.status_code == 201
    body = response.json()
    assert set(body) == {"session_id", "token", "flow", "messages"}
    assert body["flow"] == "default"
    assert re.fullmatch(re.escape(body["session_id"]) + r"\.[A-Za-z0-9_-]{43}", body["token"])
    assert [m["state"] for m in body["messages"]] == ["welcome", "ask_name"]
    for message in body["messages"]:
        assert set(message) == MESSAGE_KEYS
        assert message["direction"] == "out" and message["author"] == "bot"
        assert message["created_at"].endswith("+00:00")
    assert body["messages"][0]["id"] < body["messages"][1]["id"]


async def test_session_attributes_are_kept_with_the_conversation(server: Server, client: httpx.AsyncClient) -> None:
    chat = await Chat.open(client, source="pricing-page", locale="de", utm_source="news\x00letter", utm_term="")
    record = await server.service.get(chat.session_id)
    assert record is not None
    assert record.channel == "web"
    assert dict(record.attributes) == {"source": "pricing-page", "locale": "de", "utm_source": "newsletter"}


@pytest.mark.parametrize("body", [None, b"", b"{}"])
async def test_a_session_needs_no_body(client: httpx.AsyncClient, body: bytes | None) -> None:
    headers = {"content-type": "application/json"} if body else {}
    response = await client.post(API, content=body, headers=headers)
    assert response.status_code == 201, response.text


async def test_a_session_can_name_a_flow(client: httpx.AsyncClient) -> None:
    response = await client.post(API, json={"flow": "fitness"})
    assert response.status_code == 201
    assert response.json()["flow"] == "fitness"


async def test_text_and_choice_messages_get_replies(client: httpx.AsyncClient) -> None:
    chat = await Chat.open(client)
    first = await chat.say("Dana Scully")
    assert set(first) == {"inbound", "messages", "duplicate"}
    assert first["duplicate"] is False
    inbound = first["inbound"]
    assert inbound["direction"] == "in" and inbound["author"] == "prospect" and inbound["text"] == "Dana Scully"
    assert inbound["state"] is None and inbound["options"] == []
    assert [m["state"] for m in first["messages"]] == ["ask_company"]
    role = await chat.say("Acme Corp")
    options = role["messages"][-1]["options"]
    assert options and {"id", "label"} == set(options[0])
    picked = await chat.choose(options[0]["id"])
    assert picked["inbound"]["text"] == options[0]["label"]  # stored as what the prospect saw
    assert picked["messages"], picked


async def test_the_same_client_message_id_is_processed_once(server: Server, client: httpx.AsyncClient) -> None:
    chat = await Chat.open(client)
    first = await chat.say("Dana", client_message_id="retry-me")
    again = await chat.say("Dana", client_message_id="retry-me")
    assert again["duplicate"] is True
    assert again["inbound"] == first["inbound"]
    assert again["messages"] == first["messages"]
    history = await chat.history()
    assert [m["text"] for m in history if m["direction"] == "in"] == ["Dana"]


async def test_client_message_ids_are_scoped_to_their_session(client: httpx.AsyncClient) -> None:
    one, two = await Chat.open(client), await Chat.open(client)
    first = await one.say("Dana", client_message_id="c-1")
    second = await two.say("Fox", client_message_id="c-1")
    assert second["duplicate"] is False
    assert second["inbound"]["id"] != first["inbound"]["id"]


async def test_history_lists_both_directions_in_order_and_pages_with_after(client: httpx.AsyncClient) -> None:
    chat = await Chat.open(client)
    await chat.say("Dana")
    await chat.say("Acme Corp")
    history = await chat.history()
    ids = [m["id"] for m in history]
    assert ids == sorted(ids) and len(ids) == len(set(ids))
    assert {m["direction"] for m in history} == {"in", "out"}
    assert [m["id"] for m in await chat.history(after=ids[2])] == ids[3:]
    assert await chat.history(after=ids[-1]) == []


# ---------------------------------------------------------------- 401 and 404


async def test_message_endpoints_need_the_session_token(client: httpx.AsyncClient) -> None:
    chat = await Chat.open(client)
    other = await Chat.open(client)
    tampered = chat.token[:-2] + ("A" if chat.token[-2] != "A" else "B") + chat.token[-1]
    forged = SessionTokens("another-secret-of-enough-length-0123456789").sign(chat.session_id)
    body = {"text": "hi", "client_message_id": "c-1"}
    refused: list[dict[bytes, bytes]] = [
        {}, {b"authorization": b"Bearer "}, {b"authorization": f"Bearer {tampered}".encode()},
        {b"authorization": f"Bearer {forged}".encode()}, {b"authorization": f"Bearer {other.token}".encode()},
        {b"authorization": f"Basic {chat.token}".encode()}, {b"authorization": chat.token.encode()},
        {b"authorization": b"Bearer no-dot-at-all"}, {b"authorization": "Bearer ünïcode.sig".encode("latin-1")},
    ]
    for headers in refused:
        posted = await client.post(f"{chat.url}/messages", json=body, headers=headers)
        listed = await client.get(f"{chat.url}/messages", headers=headers)
        streamed = await client.get(f"{chat.url}/events", headers=headers)
        for response in (posted, listed, streamed):
            assert response.status_code == 401, (headers, response.text)
            assert error_of(response)["code"] == "unauthorized"
            assert response.headers["www-authenticate"] == "Bearer"
    assert await chat.history() == chat.first  # nothing was stored by the refused requests


async def test_a_valid_token_for_a_session_that_does_not_exist_is_404(client: httpx.AsyncClient) -> None:
    token = SessionTokens(SECRET).sign("f" * 32)
    headers = {"authorization": f"Bearer {token}"}
    url = f"{API}/{'f' * 32}"
    responses = [
        await client.post(f"{url}/messages", json={"text": "hi", "client_message_id": "c-1"}, headers=headers),
        await client.get(f"{url}/messages", headers=headers),
        await client.get(f"{url}/events", headers=headers),
    ]
    for response in responses:
        assert response.status_code == 404, response.text
        assert error_of(response)["code"] == "not_found"


async def test_unknown_flow_is_404(client: httpx.AsyncClient) -> None:
    response = await client.post(API, json={"flow": "no_such_flow"})
    assert response.status_code == 404
    assert "no_such_flow" in error_of(response)["message"]


async def test_unknown_path_is_a_json_404_and_wrong_method_a_json_405(client: httpx.AsyncClient) -> None:
    response = await client.get("/api/chat/nothing-here")
    assert response.status_code == 404
    assert error_of(response)["code"] == "not_found"
    wrong = await client.put(API)
    assert wrong.status_code == 405
    assert error_of(wrong)["code"] == "method_not_allowed"
    assert "POST" in wrong.headers["allow"]


# ---------------------------------------------------------------- 400 and 422


async def test_invalid_json_is_400_never_500(client: httpx.AsyncClient) -> None:
    chat = await Chat.open(client)
    for raw in (b"{not json", b'{"text": "hi",', b"\xff\xfe\x00", b"[1, 2"):
        response = await client.post(f"{chat.url}/messages", content=raw,
                                     headers={**chat.auth, "content-type": "application/json"})
        assert response.status_code == 400, (raw, response.text)
        assert error_of(response)["code"] == "invalid_json"
    response = await client.post(API, content=b"{oops", headers={"content-type": "application/json"})
    assert response.status_code == 400


@pytest.mark.parametrize("body", [
    {"client_message_id": "c-1"},
    {"text": "hi"},
    {"text": "hi", "choice": "x", "client_message_id": "c-1"},
    {"text": 42, "client_message_id": "c-1"},
    {"text": "   ", "client_message_id": "c-1"},
    {"text": "hi", "client_message_id": "has spaces"},
    {"text": "hi", "client_message_id": "x" * 101},
    {"choice": "<script>", "client_message_id": "c-1"},
    [1, 2, 3],
    "just a string",
])
async def test_wrong_fields_are_invalid_request(client: httpx.AsyncClient, body: Any) -> None:
    chat = await Chat.open(client)
    response = await client.post(f"{chat.url}/messages", json=body, headers=chat.auth)
    assert response.status_code == 422, response.text
    error = error_of(response)
    assert error["code"] == "invalid_request"
    assert error["message"].endswith(".")


async def test_a_body_without_a_json_content_type_says_how_to_fix_it(client: httpx.AsyncClient) -> None:
    chat = await Chat.open(client)
    response = await client.post(f"{chat.url}/messages", content=b'{"text": "hi", "client_message_id": "c-1"}',
                                 headers={**chat.auth, "content-type": "text/plain"})
    assert response.status_code == 422
    assert "Content-Type: application/json" in error_of(response)["message"]


async def test_a_message_over_the_limit_is_message_too_long() -> None:
    server = build(webchat_max_message_chars=50)
    async with client_for(server.app) as client:
        chat = await Chat.open(client)
        response = await chat.post({"text": "x" * 51, "client_message_id": "c-1"})
        assert response.status_code == 422
        error = error_of(response)
        assert error["code"] == "message_too_long"
        assert "50 characters" in error["message"]
        assert (await chat.post({"text": "y" * 50, "client_message_id": "c-2"})).status_code == 200


@pytest.mark.parametrize("query", ["after=-1", "after=abc", "after=1.5"])
async def test_a_bad_after_is_invalid_request(client: httpx.AsyncClient, query: str) -> None:
    chat = await Chat.open(client)
    for path in ("messages", "events"):
        response = await client.get(f"{chat.url}/{path}?{query}", headers=chat.auth)
        assert response.status_code == 422, response.text
        assert error_of(response)["code"] == "invalid_request"


async def test_invalid_session_fields_are_invalid_request(client: httpx.AsyncClient) -> None:
    for body in ({"flow": "../etc/passwd"}, {"source": "x" * 201}, {"locale": 5}):
        response = await client.post(API, json=body)
        assert response.status_code == 422, body
        assert error_of(response)["code"] == "invalid_request"


# ---------------------------------------------------------------- 413


async def test_a_body_over_the_limit_is_413_by_content_length(client: httpx.AsyncClient) -> None:
    chat = await Chat.open(client)
    big = b'{"text": "' + b"x" * 20_000 + b'", "client_message_id": "c-1"}'
    response = await client.post(f"{chat.url}/messages", content=big,
                                 headers={**chat.auth, "content-type": "application/json"})
    assert response.status_code == 413
    assert error_of(response)["code"] == "body_too_large"
    assert await chat.history() == chat.first


async def test_a_streamed_body_over_the_limit_is_413_while_reading(server: Server,
                                                                    client: httpx.AsyncClient) -> None:
    chat = await Chat.open(client)
    sent = 0

    async def chunks() -> Any:  # no Content-Length: chunked, counted as it arrives
        nonlocal sent
        yield b'{"text": "'
        for _ in range(1000):
            sent += 1
            yield b"x" * 1024
        yield b'", "client_message_id": "c-1"}'

    response = await client.post(f"{chat.url}/messages", content=chunks(),
                                 headers={**chat.auth, "content-type": "application/json"})
    assert response.status_code == 413
    assert error_of(response)["code"] == "body_too_large"
    assert "16384 bytes" in error_of(response)["message"]
    assert await chat.history() == chat.first


# ---------------------------------------------------------------- 429


async def test_per_session_rate_limit_answers_429_with_retry_after() -> None:
    server = build(webchat_session_rate=2)
    async with client_for(server.app) as client:
        chat = await Chat.open(client)
        other = await Chat.open(client)
        await chat.say("Dana")
        await chat.say("Acme")
        response = await chat.post({"text": "third", "client_message_id": "c-9"})
        assert response.status_code == 429
        assert error_of(response)["code"] == "rate_limited"
        assert int(response.headers["retry-after"]) == 30
        assert "30 seconds" in error_of(response)["message"]
        await other.say("Fox")  # another session has its own budget


async def test_per_ip_rate_limit_answers_429_with_retry_after() -> None:
    server = build(webchat_ip_rate=3)
    async with client_for(server.app) as client, client_for(server.app, client_ip="127.0.0.2") as neighbour:
        for _ in range(3):
            assert (await client.post(API)).status_code == 201
        response = await client.post(API)
        assert response.status_code == 429
        assert error_of(response)["code"] == "rate_limited"
        assert int(response.headers["retry-after"]) >= 1
        assert (await neighbour.post(API)).status_code == 201
        assert (await client.get("/healthz")).status_code == 200  # operations endpoints are not limited


# ---------------------------------------------------------------- service failures


class BrokenStore:
    """A store whose database is gone."""

    def transaction(self) -> Any:
        from bot.errors import StorageError  # noqa: PLC0415

        raise StorageError("could not connect to server at db.internal:5432 (password=hunter2)")

    async def ping(self) -> None:
        from bot.errors import StorageError  # noqa: PLC0415

        raise StorageError("could not connect to server at db.internal:5432")

    async def close(self) -> None:
        return None


async def test_a_database_failure_is_503_without_its_text(server: Server, client: httpx.AsyncClient) -> None:
    chat = await Chat.open(client)
    server.service.store = BrokenStore()
    response = await chat.post({"text": "Dana", "client_message_id": "c-1"})
    assert response.status_code == 503
    assert error_of(response)["code"] == "unavailable"
    assert "db.internal" not in response.text and "hunter2" not in response.text
    assert (await client.post(API)).status_code == 503
    assert (await client.get("/readyz")).status_code == 503
    assert (await client.get("/healthz")).status_code == 200


async def test_an_unexpected_error_is_a_fixed_500(server: Server, client: httpx.AsyncClient) -> None:
    chat = await Chat.open(client)

    async def explode(*_args: Any, **_kwargs: Any) -> Any:
        raise RuntimeError("internal detail: /etc/secret")

    server.service.handle = explode  # type: ignore[method-assign]
    response = await chat.post({"text": "Dana", "client_message_id": "c-1"})
    assert response.status_code == 500
    assert error_of(response) == {"code": "internal_error",
                                  "message": "Something went wrong on our side. Please try again in a moment."}
    assert "x-request-id" in response.headers and response.headers["x-frame-options"] == "DENY"


# ---------------------------------------------------------------- operations and the spec


async def test_health_and_readiness(client: httpx.AsyncClient) -> None:
    assert (await client.get("/healthz")).json() == {"status": "ok"}
    ready = await client.get("/readyz")
    assert ready.status_code == 200
    assert ready.json() == {"status": "ready", "database": "ok"}


async def test_readiness_fails_once_shutdown_began(server: Server, client: httpx.AsyncClient) -> None:
    server.hub.close()
    assert (await client.get("/readyz")).status_code == 503


async def test_openapi_documents_the_endpoints_with_models_and_errors(client: httpx.AsyncClient) -> None:
    spec = (await client.get("/openapi.json")).json()
    paths = spec["paths"]
    create = paths["/api/chat/sessions"]["post"]
    assert create["responses"]["201"]["content"]["application/json"]["schema"]["$ref"].endswith("/SessionCreated")
    send = paths["/api/chat/sessions/{session_id}/messages"]["post"]
    assert send["requestBody"]["content"]["application/json"]["schema"]["$ref"].endswith("/MessageIn")
    assert send["responses"]["200"]["content"]["application/json"]["schema"]["$ref"].endswith("/TurnOut")
    for status in ("400", "401", "403", "404", "413", "422", "429"):
        assert send["responses"][status]["content"]["application/json"]["schema"]["$ref"].endswith("/ErrorOut")
    assert "text/event-stream" in paths["/api/chat/sessions/{session_id}/events"]["get"]["responses"]["200"]["content"]
    history = paths["/api/chat/sessions/{session_id}/messages"]["get"]
    assert history["responses"]["200"]["content"]["application/json"]["schema"]["$ref"].endswith("/HistoryOut")
    assert {"/healthz", "/readyz"} <= set(paths)
    schemas = spec["components"]["schemas"]
    assert set(schemas["MessageOut"]["properties"]) == MESSAGE_KEYS
    assert "HTTPBearer" in spec["components"]["securitySchemes"]
    assert (await client.get("/docs")).status_code == 200
