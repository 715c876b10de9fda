"""The edge: CORS and allowed origins, security headers, request ids, static files, hostile input, logs."""

from __future__ import annotations

import io
import json
import logging
from pathlib import Path

import httpx
import pytest

from bot.http.logs import JsonFormatter, configure_json_logging, request_id
from bot.server import DEMO_PAGE_CSP
from tests.server.conftest import API, BASE_URL, SECRET, Chat, build, client_for

ALLOWED = "https://www.example.com"
EVIL = "https://evil.example.net"


# ---------------------------------------------------------------- CORS and origins


async def test_preflight_from_an_allowed_origin_is_answered() -> None:
    server = build(webchat_allowed_origins=(ALLOWED,))
    async with client_for(server.app) as client:
        response = await client.options(f"{API}/abc/messages", headers={
            "origin": ALLOWED, "access-control-request-method": "POST",
            "access-control-request-headers": "authorization, content-type"})
        assert response.status_code == 200
        assert response.headers["access-control-allow-origin"] == ALLOWED
        assert "authorization" in response.headers["access-control-allow-headers"].lower()
        assert "POST" in response.headers["access-control-allow-methods"]


async def test_preflight_from_another_origin_gets_no_cors_headers() -> None:
    server = build(webchat_allowed_origins=(ALLOWED,))
    async with client_for(server.app) as client:
        response = await client.options(API, headers={"origin": EVIL, "access-control-request-method": "POST"})
        assert response.status_code == 400
        assert "access-control-allow-origin" not in response.headers


async def test_posts_from_allowed_origins_pass_and_get_cors_headers() -> None:
    server = build(webchat_allowed_origins=(ALLOWED,))
    async with client_for(server.app) as client:
        for origin in (ALLOWED, BASE_URL):
            response = await client.post(API, headers={"origin": origin})
            assert response.status_code == 201, origin
            assert response.headers["access-control-allow-origin"] == origin
            assert "retry-after" in response.headers["access-control-expose-headers"].lower()


async def test_a_post_from_a_disallowed_origin_is_403() -> None:
    server = build(webchat_allowed_origins=(ALLOWED,))
    async with client_for(server.app) as client:
        for origin in (EVIL, "null", "http://www.example.com", "https://www.example.com.evil.net"):
            response = await client.post(API, headers={"origin": origin})
            assert response.status_code == 403, origin
            assert response.json()["error"]["code"] == "origin_not_allowed"
            assert "WEBCHAT_ALLOWED_ORIGINS" in response.json()["error"]["message"]
            assert response.headers["x-content-type-options"] == "nosniff"


async def test_same_origin_and_originless_requests_are_allowed() -> None:
    server = build()
    async with client_for(server.app) as client:
        assert (await client.post(API)).status_code == 201  # curl, servers: no Origin
        same_host = await client.post(API, headers={"origin": "http://127.0.0.1:8000", "host": "127.0.0.1:8000"})
        assert same_host.status_code == 201
        by_name = await client.post(API, headers={"origin": "http://localhost:8000", "host": "localhost:8000"})
        assert by_name.status_code == 201  # the demo page opened as localhost talks to itself


async def test_star_allows_any_origin() -> None:
    server = build(webchat_allowed_origins=("*",))
    async with client_for(server.app) as client:
        response = await client.post(API, headers={"origin": EVIL})
        assert response.status_code == 201
        assert response.headers["access-control-allow-origin"] == "*"


# ---------------------------------------------------------------- headers and request ids


SECURITY_HEADERS = {
    "x-content-type-options": "nosniff",
    "referrer-policy": "strict-origin-when-cross-origin",
    "x-frame-options": "DENY",
}


async def test_every_response_has_the_security_headers() -> None:
    server = build(webchat_ip_rate=2)
    async with client_for(server.app) as client:
        responses = [await client.post(API), await client.get("/healthz"), await client.get("/nowhere"),
                     await client.post(API, headers={"origin": EVIL}), await client.post(API, content=b"x" * 20_000),
                     await client.post(API)]
        assert [r.status_code for r in responses] == [201, 200, 404, 403, 413, 429]
        for response in responses:
            for name, value in SECURITY_HEADERS.items():
                assert response.headers[name] == value, (response.request.url, name)
            assert response.headers["x-request-id"]
        for response in (responses[0], responses[1], responses[5]):
            assert response.headers["cache-control"] == "no-store"
            assert response.headers["content-security-policy"] == "default-src 'none'; frame-ancestors 'none'"


async def test_a_sane_request_id_is_echoed_and_anything_else_replaced(client: httpx.AsyncClient) -> None:
    kept = await client.get("/healthz", headers={"x-request-id": "lb-1234.abc:9_Z"})
    assert kept.headers["x-request-id"] == "lb-1234.abc:9_Z"
    for bad in ("a b", "x" * 200, "<script>", ""):
        replaced = await client.get("/healthz", headers={"x-request-id": bad})
        assert replaced.headers["x-request-id"] != bad
        assert len(replaced.headers["x-request-id"]) == 32
    one, two = await client.get("/healthz"), await client.get("/healthz")
    assert one.headers["x-request-id"] != two.headers["x-request-id"]


# ---------------------------------------------------------------- static files


@pytest.fixture
def static_dir(tmp_path: Path) -> Path:
    folder = tmp_path / "static"
    folder.mkdir()
    (folder / "widget.js").write_text("/* widget */\n", encoding="utf-8")
    (folder / "index.html").write_text("<!doctype html><title>demo</title>\n", encoding="utf-8")
    return folder


async def test_the_widget_script_is_served_to_any_site(static_dir: Path) -> None:
    server = build(static_dir=static_dir)
    async with client_for(server.app) as client:
        response = await client.get("/widget.js", headers={"origin": EVIL})
        assert response.status_code == 200
        assert response.headers["content-type"].startswith("application/javascript")
        assert response.headers["access-control-allow-origin"] == "*"
        assert response.headers["cache-control"] == "public, max-age=300"
        assert response.headers["etag"]
        assert response.text == "/* widget */\n"


async def test_the_demo_page_has_a_strict_content_security_policy(static_dir: Path) -> None:
    server = build(static_dir=static_dir)
    async with client_for(server.app) as client:
        response = await client.get("/")
        assert response.status_code == 200
        assert response.headers["content-type"].startswith("text/html")
        assert response.headers["content-security-policy"] == DEMO_PAGE_CSP
        assert "'unsafe-eval'" not in DEMO_PAGE_CSP
        assert response.headers["x-frame-options"] == "DENY"


async def test_missing_static_files_are_404(tmp_path: Path) -> None:
    server = build(static_dir=tmp_path)
    async with client_for(server.app) as client:
        for path in ("/widget.js", "/"):
            response = await client.get(path)
            assert response.status_code == 404
            assert response.json()["error"]["code"] == "not_found"


# ---------------------------------------------------------------- hostile input


HOSTILE = [
    "\x00\x01\x02\x1b[31mred\x7f",
    "<script>alert(1)</script>",
    "<img src=x onerror=alert(1)>",
    "'; DROP TABLE messages; --",
    "🙂‍↔️🇺🇦👩🏽‍💻",
    "שלום עולם, مرحبا",
    "\u202egnp.exe",
    "line one\nline two\r\n\tindented",
    "{{ 7 * 7 }} {% raw %}",
    "\ufeff\u200b\u2028\u2029",
]


@pytest.mark.parametrize("text", HOSTILE)
async def test_hostile_texts_are_answered_without_a_500(client: httpx.AsyncClient, text: str) -> None:
    chat = await Chat.open(client)
    response = await chat.post({"text": text, "client_message_id": "c-1"})
    assert response.status_code in (200, 422), response.text
    if response.status_code == 200:
        stored = response.json()["inbound"]["text"]
        assert "\x00" not in stored and "\x1b" not in stored
        assert "<script>" not in text or stored == text  # stored as plain text; rendering escapes it


async def test_lone_surrogates_and_nul_in_json_are_cleaned(client: httpx.AsyncClient) -> None:
    chat = await Chat.open(client)
    raw = b'{"text": "a\\ud800b\\u0000c", "client_message_id": "c-1"}'
    response = await client.post(f"{chat.url}/messages", content=raw,
                                 headers={**chat.auth, "content-type": "application/json"})
    assert response.status_code == 200, response.text
    assert response.json()["inbound"]["text"] == "a\ufffdbc"


async def test_100_kb_of_text_is_413_or_message_too_long_never_500() -> None:
    text = "x" * 100_000
    for limit, status, code in ((16_384, 413, "body_too_large"), (1_000_000, 422, "message_too_long")):
        server = build(webchat_max_body_bytes=limit)
        async with client_for(server.app) as client:
            chat = await Chat.open(client)
            response = await chat.post({"text": text, "client_message_id": "c-1"})
            assert response.status_code == status
            assert response.json()["error"]["code"] == code


async def test_choice_ids_that_are_not_options_get_a_reprompt(client: httpx.AsyncClient) -> None:
    chat = await Chat.open(client)
    reply = await chat.choose("not_an_option")
    assert reply["messages"]


# ---------------------------------------------------------------- logs


def test_json_log_lines_carry_the_request_id_and_hide_secrets() -> None:
    record = logging.LogRecord("salesbot.test", logging.INFO, __file__, 1, "hello %s", ("world",), None)
    record.session = "abc"
    record.token = "abc.signature"
    reset = request_id.set("req-1")
    try:
        line = json.loads(JsonFormatter().format(record))
    finally:
        request_id.reset(reset)
    assert line["msg"] == "hello world" and line["level"] == "INFO" and line["logger"] == "salesbot.test"
    assert line["request_id"] == "req-1" and line["session"] == "abc"
    assert line["token"] == "[redacted]"


async def test_access_logs_are_json_and_never_contain_tokens_or_prospect_text() -> None:
    stream = io.StringIO()
    root = logging.getLogger()
    saved = (list(root.handlers), root.level)
    configure_json_logging("INFO", stream)
    try:
        server = build()
        async with client_for(server.app) as client:
            chat = await Chat.open(client)
            await chat.say("my secret plan", client_message_id="c-1")
            await client.get(f"{chat.url}/messages?token={chat.token}", headers=chat.auth)
    finally:
        root.handlers[:] = saved[0]
        root.setLevel(saved[1])
    # httpx is the test's client, not the server: its own request log is not the server's to judge.
    lines = [line for line in map(json.loads, stream.getvalue().splitlines()) if line["logger"] != "httpx"]
    requests = [line for line in lines if line["msg"] == "request"]
    assert len(requests) == 3
    assert {line["status"] for line in requests} == {200, 201}
    assert all(line["request_id"] and "duration_ms" in line for line in requests)
    text = "\n".join(json.dumps(line) for line in lines)
    assert chat.token not in text and chat.token.split(".")[1] not in text
    assert "my secret plan" not in text
    assert SECRET not in text
