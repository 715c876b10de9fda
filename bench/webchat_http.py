"""A minimal HTTP/1.1 keep-alive client for bench/webchat.py: pre-built requests, hand-parsed responses.

httpx spends ~100 µs of Python per request; one core of load generator must outrun one server worker, so this
client only writes bytes and reads the status line, the headers and a Content-Length body.
"""

from __future__ import annotations

import asyncio
import json
from dataclasses import dataclass

HOST = "127.0.0.1"  # the benchmark never talks to anything else
SCRIPT = (  # the default flow, answered from the first question to the end (a hot lead)
    "Dana Scully", "Acme Corp", "1", "I make the decision", "about 300 people", "churn and reporting",
    "next quarter", "$50k a year", "dana@acme.com", "skip",
)
SCRIPT_JSON = tuple(json.dumps(text).encode() for text in SCRIPT)


class HttpError(Exception):
    """The server answered something this client does not handle (or closed the connection)."""


@dataclass(frozen=True, kw_only=True)
class Response:
    status: int
    body: bytes


class Connection:
    """One keep-alive connection; one request at a time."""

    def __init__(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.reader = reader
        self.writer = writer

    @classmethod
    async def open(cls, port: int) -> Connection:
        reader, writer = await asyncio.open_connection(HOST, port)
        return cls(reader, writer)

    async def request(self, data: bytes) -> Response:
        """Send a pre-built request and read the whole response."""
        self.writer.write(data)
        head = await self.reader.readuntil(b"\r\n\r\n")
        status, length = parse_head(head)
        if length is None:
            raise HttpError(f"response without Content-Length: {head[:200]!r}")
        return Response(status=status, body=await self.reader.readexactly(length) if length else b"")

    def close(self) -> None:
        self.writer.close()


def parse_head(head: bytes) -> tuple[int, int | None]:
    """The status code and the Content-Length (None when absent) of a response head."""
    if not head.startswith(b"HTTP/1.1 "):
        raise HttpError(f"not an HTTP/1.1 response: {head[:100]!r}")
    status = int(head[9:12])
    lower = head.lower()
    at = lower.find(b"\r\ncontent-length:")
    if at < 0:
        return status, None
    end = lower.find(b"\r\n", at + 17)
    return status, int(lower[at + 17:end])


def post_json(port: int, path: str, body: bytes, token: str | None = None) -> bytes:
    """A complete POST request with a JSON body."""
    auth = f"Authorization: Bearer {token}\r\n" if token else ""
    return (f"POST {path} HTTP/1.1\r\nHost: {HOST}:{port}\r\n{auth}Content-Type: application/json\r\n"
            f"Content-Length: {len(body)}\r\n\r\n").encode() + body


def get(port: int, path: str) -> bytes:
    return f"GET {path} HTTP/1.1\r\nHost: {HOST}:{port}\r\n\r\n".encode()


class MessageRequests:
    """The requests of one conversation: its path and token are formatted once, each message appends a body."""

    def __init__(self, port: int, session_id: str, token: str, tag: str) -> None:
        self._head = (f"POST /api/chat/sessions/{session_id}/messages HTTP/1.1\r\nHost: {HOST}:{port}\r\n"
                      f"Authorization: Bearer {token}\r\nContent-Type: application/json\r\n").encode()
        self._tag = tag.encode()

    def message(self, index: int) -> bytes:
        """The request for SCRIPT[index], with a client_message_id unique in the session."""
        body = b'{"text":%s,"client_message_id":"%s-%d"}' % (SCRIPT_JSON[index], self._tag, index)
        return self._head + b"Content-Length: %d\r\n\r\n" % len(body) + body


def session_request(port: int) -> bytes:
    return post_json(port, "/api/chat/sessions", b'{"source":"bench"}')


def parse_session(body: bytes) -> tuple[str, str]:
    """The session id and token of a `POST /api/chat/sessions` response."""
    data = json.loads(body)
    return str(data["session_id"]), str(data["token"])
