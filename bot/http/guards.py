"""Request guards that run before any route: allowed origins, the per-address rate, the body size limit."""

from __future__ import annotations

import contextlib
from collections.abc import Iterable
from urllib.parse import urlsplit

from starlette.datastructures import Headers
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from bot.http.errors import ErrorCode, error_response
from bot.http.ratelimit import TokenBucketLimiter

_UNSAFE_METHODS = frozenset({"POST", "PUT", "PATCH", "DELETE"})
_BODYLESS_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})


def origin_of(url: str) -> str:
    """`https://chat.example.com:8443/x` -> `https://chat.example.com:8443`."""
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}".lower()


class OriginGuardMiddleware:
    """Refuses state-changing requests sent by a web page the operator did not allow (403 `origin_not_allowed`).

    Allowed: no Origin header (curl, servers), the server's own origin, a same-origin request (the Origin's
    host is the Host the request was sent to), the listed origins, or anything when `*` is listed.
    """

    def __init__(self, app: ASGIApp, *, allowed: Iterable[str]) -> None:
        self.app = app
        self._allowed = frozenset(origin.lower() for origin in allowed)
        self._any = "*" in self._allowed

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and scope["method"] in _UNSAFE_METHODS and not self._any:
            headers = Headers(scope=scope)
            origin = headers.get("origin")
            if origin is not None and not self._permits(origin.lower(), headers.get("host", "").lower()):
                response = error_response(403, ErrorCode.ORIGIN_NOT_ALLOWED,
                                          "This site may not use the chat; the operator can add it to "
                                          "WEBCHAT_ALLOWED_ORIGINS.")
                await response(scope, receive, send)
                return
        await self.app(scope, receive, send)

    def _permits(self, origin: str, host: str) -> bool:
        return origin in self._allowed or (bool(host) and urlsplit(origin).netloc == host)


class IpRateLimitMiddleware:
    """At most N API requests per minute per client address (429 `rate_limited` with Retry-After)."""

    def __init__(self, app: ASGIApp, *, limiter: TokenBucketLimiter, prefix: str = "/api/") -> None:
        self.app = app
        self._limiter = limiter
        self._prefix = prefix

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and scope["method"] != "OPTIONS" and scope["path"].startswith(self._prefix):
            client = scope.get("client")
            wait = self._limiter.acquire(client[0] if client else "unknown")
            if wait:
                response = error_response(429, ErrorCode.RATE_LIMITED,
                                          f"Too many requests; try again in {wait} seconds.",
                                          {"retry-after": str(wait)})
                await response(scope, receive, send)
                return
        await self.app(scope, receive, send)


class _BodyTooLarge(Exception):
    """Raised into the app by the counting `receive` once the body passes the limit."""


class BodyLimitMiddleware:
    """413 `body_too_large` for bodies over `max_bytes`, counted while reading (Content-Length may lie or be
    absent with chunked encoding), so an oversized body is never buffered whole."""

    def __init__(self, app: ASGIApp, *, max_bytes: int) -> None:
        self.app = app
        self._max = max_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["method"] in _BODYLESS_METHODS:  # keeps long GETs (streams) light
            await self.app(scope, receive, send)
            return
        declared = Headers(scope=scope).get("content-length", "")
        if declared.isascii() and declared.isdigit() and int(declared) > self._max:
            await self._refuse(scope, receive, send)
            return
        received = 0
        exceeded = False
        forwarded = False

        async def counting_receive() -> Message:
            nonlocal received, exceeded
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > self._max:
                    exceeded = True
                    raise _BodyTooLarge
            return message

        async def guarded_send(message: Message) -> None:
            nonlocal forwarded
            if exceeded:  # whatever the app answers to the aborted read, the client gets the 413 below
                return
            forwarded = True
            await send(message)

        with contextlib.suppress(_BodyTooLarge):  # when the app did not turn it into an error response itself
            await self.app(scope, counting_receive, guarded_send)
        if exceeded and not forwarded:
            await self._refuse(scope, receive, send)

    async def _refuse(self, scope: Scope, receive: Receive, send: Send) -> None:
        response = error_response(413, ErrorCode.BODY_TOO_LARGE,
                                  f"The request body is larger than {self._max} bytes; send a shorter message.",
                                  {"connection": "close"})
        await response(scope, receive, send)
