"""A Server-Sent Events response that stays small: no task group, one tiny task watching for the disconnect."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable, Mapping

from starlette.responses import Response
from starlette.types import Receive, Scope, Send


class EventStreamResponse(Response):
    """Streams `events` as `text/event-stream` until they end or the client goes away.

    Starlette's StreamingResponse runs the body in an anyio task group to notice a disconnect; at ten thousand
    open streams that group costs about 9 KB each. Here one bare task waits for `http.disconnect` and calls
    `on_close`, which must make `events` finish (e.g. by closing the subscription it waits on).
    """

    media_type = "text/event-stream"

    def __init__(self, events: AsyncIterator[bytes], *, on_close: Callable[[], None],
                 headers: Mapping[str, str] | None = None) -> None:
        # Not Response.__init__: it would set an empty body and so a Content-Length of 0.
        self.status_code = 200
        self.background = None
        self.init_headers(headers)
        self._events = events
        self._on_close = on_close

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        watcher = asyncio.ensure_future(_until_disconnect(receive))
        watcher.add_done_callback(lambda _done: self._on_close())
        try:
            await send({"type": "http.response.start", "status": self.status_code, "headers": self.raw_headers})
            async for chunk in self._events:
                await send({"type": "http.response.body", "body": chunk, "more_body": True})
            await send({"type": "http.response.body", "body": b"", "more_body": False})
        except OSError:  # ASGI 2.4 servers raise on a send after the client left: nothing more to do
            pass
        finally:
            watcher.cancel()
            self._on_close()
            await _aclose(self._events)


async def _until_disconnect(receive: Receive) -> None:
    while (await receive())["type"] != "http.disconnect":
        pass


async def _aclose(events: AsyncIterator[bytes]) -> None:
    close = getattr(events, "aclose", None)
    if close is not None:
        await close()
