"""The outermost middleware: request ids, security headers, one access-log line per request, a JSON 500."""

from __future__ import annotations

import logging
import re
import time
import uuid

from starlette.datastructures import Headers, MutableHeaders
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from bot.http.errors import INTERNAL_MESSAGE, ErrorCode, error_response
from bot.http.logs import request_id

log = logging.getLogger("salesbot.http")

REQUEST_ID_HEADER = "x-request-id"
_SANE_REQUEST_ID = re.compile(r"[A-Za-z0-9._:-]{1,128}")
_API_CSP = "default-src 'none'; frame-ancestors 'none'"


def is_api_path(path: str) -> bool:
    """JSON endpoints: never cached, never rendered as a page."""
    return path.startswith("/api/") or path in ("/healthz", "/readyz")


class RequestContextMiddleware:
    """Tags each request with an id (a sane `X-Request-ID` is kept, else one is made) and echoes it.

    Adds the security headers to every response, logs one JSON line per request (path without the query
    string, which may hold a token), and turns an unhandled exception into the fixed 500 body: the traceback
    goes to the log, never to the client.
    """

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        offered = Headers(scope=scope).get(REQUEST_ID_HEADER, "")
        rid = offered if _SANE_REQUEST_ID.fullmatch(offered) else uuid.uuid4().hex
        reset = request_id.set(rid)
        path: str = scope["path"]
        status = 0
        began = time.perf_counter()

        async def tagged_send(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
                headers = MutableHeaders(scope=message)
                headers[REQUEST_ID_HEADER] = rid
                add_security_headers(headers, path)
            await send(message)

        try:
            await self.app(scope, receive, tagged_send)
        except Exception:
            log.exception("unhandled error", extra={"method": scope["method"], "path": path})
            if status == 0:
                response = error_response(500, ErrorCode.INTERNAL_ERROR, INTERNAL_MESSAGE)
                await response(scope, receive, tagged_send)
        finally:
            log.info("request", extra={
                "method": scope["method"], "path": path, "status": status,
                "duration_ms": round((time.perf_counter() - began) * 1000, 1),
                "client": (scope.get("client") or ("", 0))[0],
            })
            request_id.reset(reset)


def add_security_headers(headers: MutableHeaders, path: str) -> None:
    """Headers every response gets; a route may set its own Content-Security-Policy or Cache-Control first."""
    headers.setdefault("x-content-type-options", "nosniff")
    headers.setdefault("referrer-policy", "strict-origin-when-cross-origin")
    headers.setdefault("x-frame-options", "DENY")
    if is_api_path(path):
        headers.setdefault("cache-control", "no-store")
        headers.setdefault("content-security-policy", _API_CSP)
