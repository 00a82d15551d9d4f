"""Client-side rate limiting: token buckets for requests and tokens per minute, AIMD on 429s,
``Retry-After`` pauses, and exponential backoff with full jitter."""

from __future__ import annotations

import asyncio
import random
import time
from collections.abc import Callable

from crucible.harness._limits import RateLimit

__all__ = ["ModelLimiter", "TokenBucket", "backoff_delay"]

Clock = Callable[[], float]


class TokenBucket:
    """A bucket of ``capacity`` tokens refilled at ``rate`` tokens per second.

    ``take(n)`` removes ``n`` tokens if the bucket holds them and returns 0, else returns the
    seconds until it will; ``give(n)`` returns tokens (or takes more when ``n`` < 0: the level
    may go negative, a debt later refills repay). Requests larger than the capacity are
    admitted once the bucket is full, so they are never starved.

    Example:
        >>> now = [0.0]
        >>> bucket = TokenBucket(rate=1.0, capacity=2.0, clock=lambda: now[0])
        >>> bucket.take(2), bucket.take(1)
        (0.0, 1.0)
        >>> now[0] = 1.0
        >>> bucket.take(1)
        0.0
    """

    def __init__(self, rate: float, capacity: float, *, clock: Clock = time.monotonic) -> None:
        self.rate = float(rate)
        self.capacity = float(capacity)
        self._clock = clock
        self.level = float(capacity)
        self._at = clock()

    def _refill(self) -> None:
        now = self._clock()
        self.level = min(self.capacity, self.level + (now - self._at) * self.rate)
        self._at = now

    def set_rate(self, rate: float) -> None:
        self._refill()
        self.rate = float(rate)

    def take(self, n: float) -> float:
        self._refill()
        need = min(float(n), self.capacity)
        if self.level >= need:
            self.level -= float(n)
            return 0.0
        return (need - self.level) / self.rate

    def give(self, n: float) -> None:
        self._refill()
        self.level = min(self.capacity, self.level + float(n))


def backoff_delay(attempt: int, base_s: float, max_s: float, rng: random.Random) -> float:
    """Full-jitter exponential backoff: U(0, min(max_s, base_s * 2**(attempt-1))) (Brooker 2015).

    Example:
        >>> 0.0 <= backoff_delay(3, 0.5, 30.0, random.Random(0)) <= 2.0
        True
    """
    cap = min(max_s, base_s * 2 ** max(0, attempt - 1))
    return rng.uniform(0.0, cap)


class ModelLimiter:
    """The rate limits of one ``provider:model``.

    Requests take one token of the RPM bucket and their estimated tokens from the TPM bucket
    before they start; :meth:`settle` corrects the TPM bucket with actual usage. With
    ``adaptive`` limits a 429 halves the request rate (never below 1 per minute) and each
    success adds back ``1/rate`` of a request per minute, so the rate grows by about one
    request per minute per minute (AIMD). :meth:`pause` makes every caller wait for a
    provider's ``Retry-After``.
    """

    def __init__(self, limit: RateLimit, *, clock: Clock = time.monotonic) -> None:
        self.limit = limit
        self._clock = clock
        self.rpm = limit.rpm
        self._requests = (
            TokenBucket(limit.rpm / 60.0, limit.rpm, clock=clock) if limit.rpm else None
        )
        self._tokens = TokenBucket(limit.tpm / 60.0, limit.tpm, clock=clock) if limit.tpm else None
        self._paused_until = 0.0
        self._lock = asyncio.Lock()
        self.throttled = 0

    def wait_time(self, tokens: int) -> float:
        """Seconds to wait before a call of ``tokens`` estimated tokens may start (0: go now,
        and the buckets were charged)."""
        now = self._clock()
        if now < self._paused_until:
            return self._paused_until - now
        if self._requests is not None:
            wait = self._requests.take(1)
            if wait > 0:
                return wait
        if self._tokens is not None:
            wait = self._tokens.take(tokens)
            if wait > 0:
                if self._requests is not None:
                    self._requests.give(1)
                return wait
        return 0.0

    async def acquire(self, tokens: int) -> float:
        """Wait until a call may start; returns the seconds waited."""
        if self._requests is None and self._tokens is None and self._paused_until == 0.0:
            return 0.0  # unlimited and never throttled: no lock, no clock
        waited = 0.0
        async with self._lock:
            while True:
                wait = self.wait_time(tokens)
                if wait <= 0:
                    return waited
                waited += wait
                await asyncio.sleep(wait)

    def settle(self, estimated: int, actual: int | None) -> None:
        """Correct the TPM bucket once a call's actual token usage is known."""
        if self._tokens is not None and actual is not None:
            self._tokens.give(estimated - actual)

    def succeeded(self) -> None:
        if self.limit.adaptive and self.rpm is not None and self._requests is not None:
            ceiling = float(self.limit.rpm or self.rpm)
            if self.rpm < ceiling:
                self.rpm = min(ceiling, self.rpm + 1.0 / max(self.rpm, 1.0))
                self._requests.set_rate(self.rpm / 60.0)

    def rate_limited(self, retry_after_s: float | None) -> None:
        """Record a 429: pause for ``Retry-After`` and, if adaptive, halve the request rate."""
        self.throttled += 1
        if retry_after_s is not None and retry_after_s > 0:
            self._paused_until = max(self._paused_until, self._clock() + retry_after_s)
        if self.limit.adaptive and self.rpm is not None and self._requests is not None:
            self.rpm = max(1.0, self.rpm / 2.0)
            self._requests.set_rate(self.rpm / 60.0)
