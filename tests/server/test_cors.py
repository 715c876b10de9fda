"""CorsMiddleware answers as Starlette's CORSMiddleware does; it adds a light path for requests without Origin."""

from __future__ import annotations

from typing import Any

import pytest
from starlette.middleware.cors import CORSMiddleware
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from bot.http.cors import CorsMiddleware, vary_origin

SETTINGS: dict[str, Any] = {"allow_methods": ["GET", "POST"], "allow_headers": ["Authorization", "Content-Type"],
                            "expose_headers": ["Retry-After", "X-Request-ID"], "max_age": 600}
RESPONSE_HEADERS = [
    [],
    [(b"content-type", b"application/json")],
    [(b"vary", b"Accept-Encoding"), (b"content-type", b"text/plain")],
    [(b"vary", b"Accept-Encoding"), (b"x-one", b"1"), (b"vary", b"Cookie"), (b"x-two", b"2"), (b"vary", b"Accept")],
]
REQUESTS = [
    ("POST", []),
    ("GET", [(b"host", b"bot.example")]),
    ("OPTIONS", [(b"access-control-request-method", b"POST")]),  # no Origin: not a preflight
    ("POST", [(b"origin", b"https://shop.example")]),
    ("POST", [(b"Origin", b"https://evil.example")]),
    ("OPTIONS", [(b"origin", b"https://shop.example"), (b"access-control-request-method", b"POST")]),
]


def _responder(headers: list[tuple[bytes, bytes]]) -> ASGIApp:
    async def app(scope: Scope, receive: Receive, send: Send) -> None:
        await send({"type": "http.response.start", "status": 200, "headers": list(headers)})
        await send({"type": "http.response.body", "body": b"ok"})
    return app


async def _answer(middleware: ASGIApp, method: str, headers: list[tuple[bytes, bytes]]) -> list[Message]:
    sent: list[Message] = []

    async def receive() -> Message:
        return {"type": "http.request", "body": b"", "more_body": False}

    async def send(message: Message) -> None:
        sent.append(message)

    await middleware({"type": "http", "method": method, "path": "/api/x", "headers": list(headers)}, receive, send)
    return sent


@pytest.mark.parametrize("allowed", [["https://shop.example"], ["*"]])
@pytest.mark.parametrize("response_headers", RESPONSE_HEADERS)
@pytest.mark.parametrize(("method", "request_headers"), REQUESTS)
async def test_every_answer_is_the_librarys(allowed: list[str], response_headers: list[tuple[bytes, bytes]],
                                            method: str, request_headers: list[tuple[bytes, bytes]]) -> None:
    ours = CorsMiddleware(_responder(response_headers), allow_origins=allowed, **SETTINGS)
    theirs = CORSMiddleware(_responder(response_headers), allow_origins=allowed, **SETTINGS)
    answer = await _answer(ours, method, request_headers)
    assert answer == await _answer(theirs, method, request_headers)
    assert [message["type"] for message in answer] == ["http.response.start", "http.response.body"]


def test_origin_is_added_to_one_vary_header() -> None:
    assert vary_origin([]) == [(b"vary", b"Origin")]
    assert vary_origin([(b"vary", b"Cookie"), (b"a", b"1"), (b"vary", b"Accept")]) == [
        (b"vary", b"Cookie, Accept, Origin"), (b"a", b"1")]
