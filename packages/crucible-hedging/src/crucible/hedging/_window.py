"""A sliding window of latencies with exact empirical quantiles and survival in bounded memory."""

from __future__ import annotations

import bisect
import math
from collections import deque

from crucible.core import ConfigurationError

__all__ = ["LatencyWindow"]


class LatencyWindow:
    """The last ``size`` observed latencies, kept both in arrival order and sorted.

    Memory is bounded by ``size``; an update costs O(size) in the worst case (a list insert and
    removal, both memmoves) and a quantile or survival lookup O(log size). Old observations
    fall out of the window, so the estimate follows a drifting provider.

    Example:
        >>> w = LatencyWindow(size=100)
        >>> for v in range(1, 101):
        ...     w.add(float(v))
        >>> w.quantile(0.95)
        95.0
    """

    __slots__ = ("_fifo", "_size", "_sorted")

    def __init__(self, size: int = 1000) -> None:
        if isinstance(size, bool) or not isinstance(size, int) or size < 1:
            raise ConfigurationError(f"`window` must be an int >= 1, got {size!r}")
        self._size = size
        self._fifo: deque[float] = deque()
        self._sorted: list[float] = []

    @property
    def size(self) -> int:
        """The window's capacity."""
        return self._size

    def __len__(self) -> int:
        return len(self._fifo)

    def add(self, value_ms: float) -> None:
        """Record one latency (ms); the oldest one leaves a full window."""
        if not math.isfinite(value_ms) or value_ms < 0:
            raise ConfigurationError(f"a latency must be a finite number >= 0, got {value_ms!r}")
        if len(self._fifo) == self._size:
            old = self._fifo.popleft()
            del self._sorted[bisect.bisect_left(self._sorted, old)]
        self._fifo.append(value_ms)
        bisect.insort(self._sorted, value_ms)

    def quantile(self, p: float) -> float:
        """The empirical ``p``-quantile (the smallest value with at least ``p`` of the mass at or
        below it, i.e. the inverse of the empirical CDF, Hyndman & Fan (1996) type 1)."""
        if not 0.0 < p < 1.0:
            raise ConfigurationError(f"quantile `p` must be in (0, 1), got {p!r}")
        if not self._sorted:
            raise ConfigurationError("the latency window is empty: observe some calls first")
        n = len(self._sorted)
        index = max(0, math.ceil(p * n - 1e-9) - 1)
        return self._sorted[min(index, n - 1)]

    def sf(self, t_ms: float) -> float:
        """The empirical survival function, the share of observations strictly above ``t_ms``."""
        n = len(self._sorted)
        if n == 0:
            raise ConfigurationError("the latency window is empty: observe some calls first")
        return (n - bisect.bisect_right(self._sorted, t_ms)) / n

    def values(self) -> list[float]:
        """The observations, sorted (a copy)."""
        return list(self._sorted)
