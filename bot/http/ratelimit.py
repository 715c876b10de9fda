"""Token-bucket rate limits per key (a session, a client address), in memory, bounded in size."""

from __future__ import annotations

import math
from collections import OrderedDict
from collections.abc import Callable


class TokenBucketLimiter:
    """`per_minute` requests per key, in bursts of up to `per_minute`; refills continuously.

    One process only: each worker counts its own requests. Keeps at most `max_keys` buckets and forgets the
    least recently used first, so a flood of new keys cannot grow memory without bound.
    """

    __slots__ = ("_buckets", "_capacity", "_clock", "_max_keys", "_rate")

    def __init__(self, *, per_minute: int, clock: Callable[[], float], max_keys: int = 100_000) -> None:
        if per_minute < 1:
            raise ValueError(f"per_minute must be at least 1, got {per_minute}")
        self._capacity = float(per_minute)
        self._rate = per_minute / 60.0  # tokens per second
        self._clock = clock
        self._max_keys = max_keys
        self._buckets: OrderedDict[str, tuple[float, float]] = OrderedDict()  # key -> (tokens, at)

    def acquire(self, key: str) -> int:
        """Take one token for `key`. Returns 0 when allowed, else the seconds to wait (for Retry-After)."""
        now = self._clock()
        tokens, at = self._buckets.pop(key, (self._capacity, now))
        tokens = min(self._capacity, tokens + (now - at) * self._rate)
        if tokens >= 1.0:
            self._remember(key, tokens - 1.0, now)
            return 0
        self._remember(key, tokens, now)
        return max(1, math.ceil((1.0 - tokens) / self._rate))

    def __len__(self) -> int:
        return len(self._buckets)

    def _remember(self, key: str, tokens: float, now: float) -> None:
        self._buckets[key] = (tokens, now)  # re-inserted last: the OrderedDict is in least-recently-used order
        while len(self._buckets) > self._max_keys:
            self._buckets.popitem(last=False)
