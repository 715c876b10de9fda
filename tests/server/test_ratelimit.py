"""Token buckets: the burst, the refill, Retry-After, and bounded memory."""

from __future__ import annotations

import pytest

from bot.http.ratelimit import TokenBucketLimiter


class Ticker:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def test_a_full_minute_of_burst_then_one_token_every_interval() -> None:
    ticker = Ticker()
    limiter = TokenBucketLimiter(per_minute=30, clock=ticker)
    assert [limiter.acquire("s") for _ in range(30)] == [0] * 30
    assert limiter.acquire("s") == 2  # 30/min refills one every 2 seconds
    ticker.now += 1.0
    assert limiter.acquire("s") == 1
    ticker.now += 1.0
    assert limiter.acquire("s") == 0
    assert limiter.acquire("other") == 0


def test_retry_after_is_whole_seconds_and_at_least_one() -> None:
    ticker = Ticker()
    limiter = TokenBucketLimiter(per_minute=1, clock=ticker)
    assert limiter.acquire("s") == 0
    assert limiter.acquire("s") == 60
    ticker.now += 59.5
    assert limiter.acquire("s") == 1
    ticker.now += 0.5
    assert limiter.acquire("s") == 0


def test_refused_attempts_do_not_use_tokens() -> None:
    ticker = Ticker()
    limiter = TokenBucketLimiter(per_minute=60, clock=ticker)
    for _ in range(60):
        limiter.acquire("s")
    for _ in range(100):
        assert limiter.acquire("s") == 1
    ticker.now += 1.0
    assert limiter.acquire("s") == 0


def test_memory_is_bounded_by_forgetting_the_least_recently_used() -> None:
    limiter = TokenBucketLimiter(per_minute=1, clock=Ticker(), max_keys=100)
    limiter.acquire("busy")
    for n in range(1000):
        limiter.acquire(f"ip-{n}")
        if n % 10 == 0:
            assert limiter.acquire("busy") == 60  # recently used: still remembered (and refused)
    assert len(limiter) == 100


def test_a_zero_rate_is_a_programming_error() -> None:
    with pytest.raises(ValueError, match="per_minute must be at least 1, got 0"):
        TokenBucketLimiter(per_minute=0, clock=Ticker())
