"""The event-stream phase of bench/webchat.py: thousands of open SSE streams on one server worker.

Creates sessions, opens up to 10 streams per session (the server's limit), confirms each with its first bytes
(`retry: 3000`), and measures the server's resident memory before, while open and after closing them.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
import urllib.parse
from collections import Counter
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import TypeVar

from bench.webchat_http import HOST, Connection, HttpError, get, parse_head, parse_session, session_request
from bench.webchat_procs import ServerProcess

STREAMS_PER_SESSION = 10  # the server's limit (docs/webchat-api.md)
OPEN_TIMEOUT = 30.0  # seconds for one stream to connect and send its first bytes
PING_INTERVAL = 15.0  # the server's `: ping` interval
T = TypeVar("T")


@dataclass(frozen=True, kw_only=True)
class Stream:
    reader: asyncio.StreamReader
    writer: asyncio.StreamWriter
    opened_at: float


@dataclass(frozen=True, kw_only=True)
class StreamsResult:
    sessions: int
    session_seconds: float
    wanted: int
    opened: int
    failures: dict[str, int]
    open_seconds: float
    rss_before: int
    rss_open: int
    rss_closed: int
    hold_seconds: float
    idle_server_cpu: float  # fraction of one core with no traffic, before opening the streams
    hold_server_cpu: float  # fraction of one core while the streams sat idle
    pings_sampled: int  # 0 when the hold was shorter than the ping interval
    pings_seen: int

    @property
    def bytes_per_stream(self) -> float:
        return (self.rss_open - self.rss_before) / max(self.opened, 1)


async def create_sessions(port: int, count: int, parallel: int = 50) -> list[tuple[str, str]]:
    """`count` sessions (id, token), made over `parallel` keep-alive connections."""
    made: list[tuple[str, str]] = []
    request = session_request(port)

    async def worker(share: int) -> None:
        connection = await Connection.open(port)
        try:
            for _ in range(share):
                response = await connection.request(request)
                if response.status != 201:
                    raise HttpError(f"POST /api/chat/sessions -> {response.status}: {response.body[:200]!r}")
                made.append(parse_session(response.body))
        finally:
            connection.close()

    shares = [count // parallel + (1 if i < count % parallel else 0) for i in range(parallel)]
    await asyncio.gather(*(worker(share) for share in shares if share))
    return made


async def open_stream(port: int, session_id: str, token: str) -> Stream:
    """Open one event stream and read up to its first event (`retry: 3000`)."""
    reader, writer = await asyncio.open_connection(HOST, port)
    try:
        query = urllib.parse.quote(token, safe="")
        writer.write(get(port, f"/api/chat/sessions/{session_id}/events?token={query}"))
        status, _length = parse_head(await reader.readuntil(b"\r\n\r\n"))
        if status != 200:
            raise HttpError(f"status {status}")
        first = await reader.readuntil(b"\n\n")  # the chunk-size line, then `retry: 3000`
        if b"retry:" not in first:
            raise HttpError(f"stream began with {first[:80]!r}, not retry:")
    except BaseException:
        writer.close()
        raise
    return Stream(reader=reader, writer=writer, opened_at=time.monotonic())


async def open_streams(port: int, sessions: list[tuple[str, str]], wanted: int, parallel: int = 200,
                       ) -> tuple[list[Stream], Counter[str]]:
    """Open `wanted` streams, STREAMS_PER_SESSION per session, at most `parallel` connecting at once."""
    targets = [sessions[i // STREAMS_PER_SESSION] for i in range(wanted)]
    streams: list[Stream] = []
    failures: Counter[str] = Counter()
    position = iter(range(len(targets)))

    async def worker() -> None:
        for index in position:  # shared iterator: each index taken once
            session_id, token = targets[index]
            try:
                streams.append(await asyncio.wait_for(open_stream(port, session_id, token), OPEN_TIMEOUT))
            except (OSError, HttpError, asyncio.IncompleteReadError, asyncio.LimitOverrunError,
                    TimeoutError) as exc:
                failures[str(exc)[:60] if isinstance(exc, HttpError) else type(exc).__name__] += 1

    await asyncio.gather(*(worker() for _ in range(min(parallel, wanted))))
    return streams, failures


async def sample_pings(streams: list[Stream], sample: int) -> tuple[int, int]:
    """Of the first `sample` streams, how many received a `: ping` (waiting until each is due)."""
    chosen = streams[:sample]

    async def pinged(stream: Stream) -> bool:
        due = stream.opened_at + PING_INTERVAL + 3.0 - time.monotonic()
        with contextlib.suppress(TimeoutError, OSError, asyncio.IncompleteReadError, asyncio.LimitOverrunError):
            await asyncio.wait_for(stream.reader.readuntil(b": ping"), max(due, 0.5))
            return True
        return False

    results = await asyncio.gather(*(pinged(stream) for stream in chosen))
    return len(chosen), sum(results)


async def run_streams(server: ServerProcess, *, wanted: int, hold: float,
                      while_open: Callable[[], Awaitable[T]]) -> tuple[StreamsResult, T]:
    """The whole phase. `while_open` (e.g. a latency probe) runs after the hold, with the streams still open."""
    sessions_needed = -(-wanted // STREAMS_PER_SESSION)
    started = time.perf_counter()
    sessions = await create_sessions(server.port, sessions_needed)
    session_seconds = time.perf_counter() - started
    idle_started, idle_cpu_started = time.perf_counter(), server.cpu_seconds()
    await asyncio.sleep(2.0)
    idle_cpu = (server.cpu_seconds() - idle_cpu_started) / (time.perf_counter() - idle_started)
    rss_before = server.rss_bytes()

    started = time.perf_counter()
    streams, failures = await open_streams(server.port, sessions, wanted)
    open_seconds = time.perf_counter() - started
    try:
        hold_started = time.perf_counter()
        cpu_started = server.cpu_seconds()
        await asyncio.sleep(hold)
        hold_cpu = (server.cpu_seconds() - cpu_started) / (time.perf_counter() - hold_started)
        rss_open = server.rss_bytes()
        probe = await while_open()
        sampled, seen = await sample_pings(streams, 200) if hold >= PING_INTERVAL else (0, 0)
    finally:
        for stream in streams:
            stream.writer.close()
    await asyncio.sleep(3.0)  # let the server notice the disconnects and drop the streams
    return StreamsResult(
        sessions=len(sessions), session_seconds=session_seconds, wanted=wanted, opened=len(streams),
        failures=dict(failures), open_seconds=open_seconds, rss_before=rss_before, rss_open=rss_open,
        rss_closed=server.rss_bytes(), hold_seconds=hold, idle_server_cpu=idle_cpu, hold_server_cpu=hold_cpu,
        pings_sampled=sampled, pings_seen=seen), probe
