"""The request guard that runs before any route: allowed origins, the per-address rate, the body size limit."""

from __future__ import annotations

import contextlib
from collections.abc import Iterable
from urllib.parse import urlsplit

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from bot.http.errors import ErrorCode, error_response
from bot.http.ratelimit import TokenBucketLimiter

_UNSAFE_METHODS = frozenset({"POST", "PUT", "PATCH", "DELETE"})
_BODYLESS_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})


def origin_of(url: str) -> str:
    """`https://chat.example.com:8443/x` -> `https://chat.example.com:8443`."""
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}".lower()


class RequestGuardMiddleware:
    """The checks every request passes before any route, in one pass over its headers:

    1. Allowed origins: a state-changing request sent by a web page the operator did not allow gets 403
       `origin_not_allowed`. Allowed: no Origin header (curl, servers), the server's own origin, a same-origin
       request (the Origin's host is the Host the request was sent to), the listed origins, or anything when
       `*` is listed.
    2. The per-address rate: at most N API requests per minute per client address (429 `rate_limited` with
       Retry-After).
    3. The body size: 413 `body_too_large` for bodies over `max_bytes`, counted while reading (Content-Length
       may lie or be absent with chunked encoding), so an oversized body is never buffered whole.
    """

    def __init__(self, app: ASGIApp, *, allowed: Iterable[str], limiter: TokenBucketLimiter, max_bytes: int,
                 prefix: str = "/api/") -> None:
        self.app = app
        self._allowed = frozenset(origin.lower() for origin in allowed)
        self._any = "*" in self._allowed
        self._limiter = limiter
        self._max = max_bytes
        self._prefix = prefix

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        method: str = scope["method"]
        origin = host = declared = None
        for raw_key, value in scope["headers"]:  # the first of each, as Starlette's Headers.get reads them
            key = raw_key.lower()
            if key == b"origin":
                origin = value if origin is None else origin
            elif key == b"host":
                host = value if host is None else host
            elif key == b"content-length":
                declared = value if declared is None else declared
        if origin is not None and method in _UNSAFE_METHODS and not self._any and not self._permits(
                origin.decode("latin-1").lower(), (host or b"").decode("latin-1").lower()):
            response = error_response(403, ErrorCode.ORIGIN_NOT_ALLOWED, "This site may not use the chat; the "
                                      "operator can add it to WEBCHAT_ALLOWED_ORIGINS.")
            await response(scope, receive, send)
            return
        if method != "OPTIONS" and scope["path"].startswith(self._prefix):
            client = scope.get("client")
            wait = self._limiter.acquire(client[0] if client else "unknown")
            if wait:
                response = error_response(429, ErrorCode.RATE_LIMITED,
                                          f"Too many requests; try again in {wait} seconds.",
                                          {"retry-after": str(wait)})
                await response(scope, receive, send)
                return
        if method in _BODYLESS_METHODS:  # keeps long GETs (streams) light
            await self.app(scope, receive, send)
        elif declared is not None and declared.isdigit() and int(declared) > self._max:
            await self._refuse(scope, receive, send)
        else:
            await self._limit_body(scope, receive, send)

    def _permits(self, origin: str, host: str) -> bool:
        return origin in self._allowed or (bool(host) and urlsplit(origin).netloc == host)

    async def _limit_body(self, scope: Scope, receive: Receive, send: Send) -> None:
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


class _BodyTooLarge(Exception):
    """Raised into the app by the counting `receive` once the body passes the limit."""
