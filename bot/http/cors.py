"""Starlette's CORSMiddleware, with a light path for the requests it has nothing to do for."""

from __future__ import annotations

from collections.abc import Iterable

from starlette.middleware.cors import CORSMiddleware
from starlette.types import Message, Receive, Scope, Send

_ORIGIN = b"origin"
_VARY = b"vary"


class CorsMiddleware(CORSMiddleware):
    """CORSMiddleware (same settings, same answers), except for HTTP requests that carry no Origin header.

    Those are not cross-origin requests (browsers send Origin on every cross-origin request, and on every
    POST), so the library only adds `Origin` to the response's Vary header. It does so through its header
    classes, whose lookups raise and catch a KeyError for each header that is absent: for an API client, more
    work than the rest of the middleware stack. This does the same to the raw headers. Requests with an Origin
    header, preflights included, go to the library unchanged.
    """

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or any(key.lower() == _ORIGIN for key, _ in scope["headers"]):
            await super().__call__(scope, receive, send)
            return

        async def vary_send(message: Message) -> None:
            if message["type"] == "http.response.start":
                message["headers"] = vary_origin(message.get("headers", ()))
            await send(message)

        await self.app(scope, receive, vary_send)


def vary_origin(headers: Iterable[tuple[bytes, bytes]]) -> list[tuple[bytes, bytes]]:
    """Response headers with `Origin` added to Vary, as the library's MutableHeaders does it: the Vary values
    joined into the first Vary header, followed by Origin; any later Vary headers dropped."""
    listed = list(headers)
    found = [index for index, (key, _) in enumerate(listed) if key == _VARY]
    if not found:
        listed.append((_VARY, b"Origin"))
        return listed
    value = b", ".join([*(listed[index][1] for index in found), b"Origin"])
    for index in reversed(found[1:]):
        del listed[index]
    listed[found[0]] = (_VARY, value)
    return listed
