from __future__ import annotations

import random

import pytest

from crucible.harness import RateLimit
from crucible.harness._ratelimit import ModelLimiter, TokenBucket, backoff_delay


class Clock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


def test_bucket_refills_at_its_rate() -> None:
    clock = Clock()
    bucket = TokenBucket(rate=2.0, capacity=4.0, clock=clock)
    assert [bucket.take(1) for _ in range(4)] == [0.0] * 4
    assert bucket.take(1) == pytest.approx(0.5)
    clock.now = 0.5
    assert bucket.take(1) == 0.0
    clock.now = 100.0
    bucket.take(0)
    assert bucket.level == 4.0  # never above capacity


def test_oversized_requests_wait_for_a_full_bucket_then_go_into_debt() -> None:
    clock = Clock()
    bucket = TokenBucket(rate=1.0, capacity=10.0, clock=clock)
    assert bucket.take(25) == 0.0
    assert bucket.level == -15.0
    assert bucket.take(1) == pytest.approx(16.0)


def test_rpm_limit_spaces_requests() -> None:
    clock = Clock()
    limiter = ModelLimiter(RateLimit(rpm=60), clock=clock)
    waits = [limiter.wait_time(0) for _ in range(61)]
    assert waits[:60] == [0.0] * 60
    assert waits[60] == pytest.approx(1.0)


def test_tpm_uses_estimates_then_actual_usage() -> None:
    clock = Clock()
    limiter = ModelLimiter(RateLimit(tpm=600), clock=clock)  # 10 tokens per second
    assert limiter.wait_time(500) == 0.0
    assert limiter.wait_time(200) == pytest.approx(10.0)  # 100 left, 200 needed
    limiter.settle(estimated=500, actual=100)  # the call used fewer tokens than estimated
    assert limiter.wait_time(200) == 0.0


def test_aimd_halves_on_429_and_recovers_additively() -> None:
    clock = Clock()
    limiter = ModelLimiter(RateLimit(rpm=100), clock=clock)
    limiter.rate_limited(None)
    assert limiter.rpm == 50.0
    limiter.rate_limited(None)
    assert limiter.rpm == 25.0
    for _ in range(25):
        limiter.succeeded()
    assert limiter.rpm == pytest.approx(26.0, abs=0.05)
    for _ in range(10_000):
        limiter.succeeded()
    assert limiter.rpm == 100.0  # never above the configured limit


def test_non_adaptive_limits_keep_their_rate() -> None:
    limiter = ModelLimiter(RateLimit(rpm=100, adaptive=False), clock=Clock())
    limiter.rate_limited(None)
    assert limiter.rpm == 100


def test_retry_after_pauses_every_caller() -> None:
    clock = Clock()
    limiter = ModelLimiter(RateLimit(), clock=clock)
    assert limiter.wait_time(10) == 0.0
    limiter.rate_limited(2.5)
    assert limiter.wait_time(10) == pytest.approx(2.5)
    clock.now = 2.5
    assert limiter.wait_time(10) == 0.0
    assert limiter.throttled == 1


def test_backoff_is_full_jitter_under_an_exponential_cap() -> None:
    rng = random.Random(1)
    for attempt, cap in [(1, 0.5), (2, 1.0), (3, 2.0), (10, 30.0)]:
        delays = [backoff_delay(attempt, 0.5, 30.0, rng) for _ in range(200)]
        assert all(0.0 <= d <= cap for d in delays)
        assert max(delays) > 0.8 * cap  # spread over the whole interval
