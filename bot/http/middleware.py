"""The outermost middleware: request ids, security headers, one access-log line per request, a JSON 500."""

from __future__ import annotations

import itertools
import logging
import re
import secrets
import time
from collections.abc import Iterable

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from bot.http.errors import INTERNAL_MESSAGE, ErrorCode, error_response
from bot.http.logs import request_id

log = logging.getLogger("salesbot.http")

REQUEST_ID_HEADER = "x-request-id"
_REQUEST_ID_KEY = REQUEST_ID_HEADER.encode("latin-1")
_SANE_REQUEST_ID = re.compile(r"[A-Za-z0-9._:-]{1,128}")
_API_CSP = "default-src 'none'; frame-ancestors 'none'"
_SECURITY_HEADERS = (
    ("x-content-type-options", "nosniff"),
    ("referrer-policy", "strict-origin-when-cross-origin"),
    ("x-frame-options", "DENY"),
)
_API_HEADERS = (("cache-control", "no-store"), ("content-security-policy", _API_CSP))


def _raw(pairs: tuple[tuple[str, str], ...]) -> tuple[tuple[bytes, bytes], ...]:
    return tuple((name.encode("latin-1"), value.encode("latin-1")) for name, value in pairs)


_RAW_SECURITY = _raw(_SECURITY_HEADERS)
_RAW_API = _raw(_SECURITY_HEADERS + _API_HEADERS)


def is_api_path(path: str) -> bool:
    """JSON endpoints: never cached, never rendered as a page."""
    return path.startswith("/api/") or path in ("/healthz", "/readyz")


class RequestIds:
    """Request ids: 32 hex digits, a random per-process prefix and a counter, so unique across workers and
    restarts without asking the OS for randomness on every request."""

    def __init__(self) -> None:
        self._prefix = secrets.token_hex(8)
        self._counter = itertools.count(1)

    def __call__(self) -> str:
        return f"{self._prefix}{next(self._counter):016x}"


class RequestContextMiddleware:
    """Tags each request with an id (a sane `X-Request-ID` is kept, else one is made) and echoes it.

    Adds the security headers to every response, logs one JSON line per request (path without the query
    string, which may hold a token), and turns an unhandled exception into the fixed 500 body: the traceback
    goes to the log, never to the client.
    """

    def __init__(self, app: ASGIApp) -> None:
        self.app = app
        self._new_id = RequestIds()

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        offered = _header(scope, _REQUEST_ID_KEY)
        rid = offered if offered and _SANE_REQUEST_ID.fullmatch(offered) else self._new_id()
        reset = request_id.set(rid)
        path: str = scope["path"]
        extra = _RAW_API if is_api_path(path) else _RAW_SECURITY
        status = 0
        began = time.perf_counter()

        async def tagged_send(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
                message["headers"] = _with_headers(message.get("headers", ()), rid, extra)
            await send(message)

        try:
            await self.app(scope, receive, tagged_send)
        except Exception:
            log.exception("unhandled error", extra={"method": scope["method"], "path": path})
            if status == 0:
                response = error_response(500, ErrorCode.INTERNAL_ERROR, INTERNAL_MESSAGE)
                await response(scope, receive, tagged_send)
        finally:
            if log.isEnabledFor(logging.INFO):
                log.info("request", extra={
                    "method": scope["method"], "path": path, "status": status,
                    "duration_ms": round((time.perf_counter() - began) * 1000, 1),
                    "client": (scope.get("client") or ("", 0))[0],
                })
            request_id.reset(reset)


def _header(scope: Scope, name: bytes) -> str:
    """The first value of a request header ("" when absent), read straight from the ASGI scope."""
    for key, value in scope["headers"]:
        if key.lower() == name:
            return str(value.decode("latin-1"))
    return ""


def _with_headers(headers: Iterable[tuple[bytes, bytes]], rid: str,
                  defaults: tuple[tuple[bytes, bytes], ...]) -> list[tuple[bytes, bytes]]:
    """The response headers with the request id (replacing any) and each default header the route did not
    set itself (a route may set its own Content-Security-Policy or Cache-Control)."""
    kept = [(key, value) for key, value in headers if key.lower() != _REQUEST_ID_KEY]
    present = {key.lower() for key, _ in kept}
    kept.append((_REQUEST_ID_KEY, rid.encode("latin-1")))
    kept.extend(pair for pair in defaults if pair[0] not in present)
    return kept
