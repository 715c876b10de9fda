"""The load generator of bench/webchat.py: simulated prospects, each on its own keep-alive connection.

A prospect starts a session, answers the default flow's questions one at a time (waiting for each reply, and
optionally a think time before each answer), then starts over, until the measured window ends.
"""

from __future__ import annotations

import asyncio
import collections
import random
import time
from dataclasses import dataclass, field

from bench.webchat_http import SCRIPT, Connection, HttpError, MessageRequests, parse_session, session_request
from bench.webchat_procs import CpuMeter, ServerProcess

MAX_CONVERSATIONS_PER_PROSPECT = 100_000  # a bound; the time window ends the loop long before
MAX_ERRORS_PER_PROSPECT = 50
GRACE_SECONDS = 30.0  # how long past its window a phase may take before it is cancelled


@dataclass(frozen=True, kw_only=True)
class LoadResult:
    seconds: float
    latencies: list[float]  # per message, sorted, seconds
    session_latencies: list[float]  # per new session, sorted, seconds
    errors: dict[str, int]
    completed: int  # conversations that reached the flow's end as expected
    wrong: int  # conversations whose last reply was not the expected end
    server_cpu: float  # fraction of one core, over the window
    generator_cpu: float

    @property
    def rate(self) -> float:
        return len(self.latencies) / self.seconds

    @property
    def session_rate(self) -> float:
        return len(self.session_latencies) / self.seconds

    @staticmethod
    def combine(results: list[LoadResult]) -> LoadResult:
        """Several measured windows of the same server as one: counts add up, CPU shares are time-weighted."""
        seconds = sum(r.seconds for r in results)
        errors: collections.Counter[str] = collections.Counter()
        for result in results:
            errors.update(result.errors)
        return LoadResult(
            seconds=seconds, latencies=sorted(x for r in results for x in r.latencies),
            session_latencies=sorted(x for r in results for x in r.session_latencies), errors=dict(errors),
            completed=sum(r.completed for r in results), wrong=sum(r.wrong for r in results),
            server_cpu=sum(r.server_cpu * r.seconds for r in results) / seconds,
            generator_cpu=max(r.generator_cpu for r in results))


@dataclass(kw_only=True)
class _Recorder:
    start: float
    end: float
    latencies: list[float] = field(default_factory=list)
    session_latencies: list[float] = field(default_factory=list)
    errors: collections.Counter[str] = field(default_factory=collections.Counter)
    completed: int = 0
    wrong: int = 0

    def inside(self, done: float) -> bool:
        return self.start <= done <= self.end


class LoadRun:
    """`prospects` conversations in parallel against one server for `warmup + seconds`; measures the last part."""

    def __init__(self, server: ServerProcess, *, prospects: int, seconds: float, warmup: float,
                 think: tuple[float, float] | None, expect_end: bytes | None, seed: int = 1) -> None:
        self._server = server
        self._port = server.port
        self._prospects = prospects
        self._think = think
        self._expect_end = expect_end
        self._seed = seed
        self._seconds = seconds
        self._warmup = warmup
        self._session_request = session_request(server.port)

    async def run(self) -> LoadResult:
        start = time.perf_counter() + self._warmup
        self._rec = _Recorder(start=start, end=start + self._seconds)
        meter = CpuMeter(self._server)
        workers = [asyncio.ensure_future(self._prospect(i)) for i in range(self._prospects)]
        try:
            await asyncio.sleep(self._warmup)
            meter.start()
            await asyncio.sleep(self._seconds)
            meter.stop()
            await asyncio.wait_for(asyncio.gather(*workers), GRACE_SECONDS)
        finally:
            for worker in workers:
                worker.cancel()
            await asyncio.gather(*workers, return_exceptions=True)
        rec = self._rec
        return LoadResult(seconds=self._seconds, latencies=sorted(rec.latencies),
                          session_latencies=sorted(rec.session_latencies), errors=dict(rec.errors),
                          completed=rec.completed, wrong=rec.wrong, server_cpu=meter.server,
                          generator_cpu=meter.generator)

    async def _prospect(self, index: int) -> None:
        rng = random.Random(self._seed * 100_003 + index)
        if self._think is not None:  # spread the first messages over one think time
            await asyncio.sleep(rng.uniform(0, self._think[1]))
        connection = await Connection.open(self._port)
        errors = 0
        try:
            for number in range(MAX_CONVERSATIONS_PER_PROSPECT):
                if time.perf_counter() >= self._rec.end:
                    return
                try:
                    await self._conversation(connection, rng, f"p{index}-{number}")
                except (OSError, HttpError, asyncio.IncompleteReadError, ValueError, KeyError) as exc:
                    self._rec.errors[type(exc).__name__] += 1
                    errors += 1
                    if errors >= MAX_ERRORS_PER_PROSPECT:
                        return
                    connection.close()
                    await asyncio.sleep(0.1)
                    connection = await Connection.open(self._port)
        finally:
            connection.close()

    async def _conversation(self, connection: Connection, rng: random.Random, tag: str) -> None:
        rec = self._rec
        sent = time.perf_counter()
        response = await connection.request(self._session_request)
        done = time.perf_counter()
        if response.status != 201:
            rec.errors[f"POST /sessions -> {response.status}"] += 1
            await asyncio.sleep(0.05)
            return
        if rec.inside(done):
            rec.session_latencies.append(done - sent)
        session_id, token = parse_session(response.body)
        requests = MessageRequests(self._port, session_id, token, tag)
        for index in range(len(SCRIPT)):
            if self._think is not None:
                await asyncio.sleep(rng.uniform(*self._think))
            if time.perf_counter() >= rec.end:
                return
            request = requests.message(index)
            sent = time.perf_counter()
            response = await connection.request(request)
            done = time.perf_counter()
            if response.status != 200:
                rec.errors[f"POST /messages -> {response.status}"] += 1
                return
            if rec.inside(done):
                rec.latencies.append(done - sent)
        if self._expect_end is None or self._expect_end in response.body:
            rec.completed += 1
        else:
            rec.wrong += 1


def percentile(sorted_values: list[float], fraction: float) -> float:
    """Nearest-rank percentile of an already sorted list (nan when empty)."""
    if not sorted_values:
        return float("nan")
    rank = max(0, min(len(sorted_values) - 1, round(fraction * len(sorted_values)) - 1))
    return sorted_values[rank]
