"""Streaming change detectors: Page-Hinkley, ADWIN, CUSUM and KSWIN, each ``update(x) -> bool``.

Page-Hinkley, ADWIN and KSWIN follow River's implementations (river 0.26) step for step, so
the same stream and parameters raise the same alarms (checked in the tests); CUSUM is the
tabular two-sided CUSUM of Page (1954) on a standardised stream.
"""

from __future__ import annotations

import collections
import itertools
import math
import random
import warnings
from collections.abc import Iterable
from typing import Any, Protocol

import numpy as np
from scipy import stats

from crucible.production_eval._errors import ProductionEvalError

__all__ = ["ADWIN", "CUSUM", "KSWIN", "Detector", "PageHinkley"]


class Detector(Protocol):
    """A streaming change detector."""

    drift_detected: bool

    def update(self, x: float) -> bool: ...

    def reset(self) -> None: ...

    def with_threshold(self, value: float) -> Detector: ...

    @property
    def threshold_value(self) -> float: ...


def _finite(x: Any, name: str) -> float:
    try:
        value = float(x)
    except (TypeError, ValueError):
        raise ProductionEvalError(f"{name}.update: `x` must be a number, got {x!r}") from None
    if not math.isfinite(value):
        raise ProductionEvalError(
            f"{name}.update: `x` must be finite, got {value!r}; drop missing values before "
            "feeding a detector"
        )
    return value


def _positive(name: str, value: float) -> None:
    if not (isinstance(value, int | float) and math.isfinite(value) and value > 0):
        raise ProductionEvalError(f"`{name}` must be a positive number, got {value!r}")


class PageHinkley:
    """Page-Hinkley test on a fading mean (Page 1954; River's ``drift.PageHinkley``).

    ``threshold`` is λ; ``delta`` the tolerated drift; ``alpha`` the forgetting factor;
    ``mode`` ``"up"``, ``"down"`` or ``"both"``. After an alarm the next update starts afresh.

    Example:
        >>> ph = PageHinkley(threshold=5.0)
        >>> any(ph.update(x) for x in [0.0] * 50 + [1.0] * 50)
        True
    """

    def __init__(
        self,
        min_instances: int = 30,
        delta: float = 0.005,
        threshold: float = 50.0,
        alpha: float = 1 - 0.0001,
        mode: str = "both",
    ) -> None:
        if mode not in ("up", "down", "both"):
            raise ProductionEvalError(f"`mode` must be 'up', 'down' or 'both', got {mode!r}")
        _positive("threshold", threshold)
        self.min_instances = min_instances
        self.delta = delta
        self.threshold = float(threshold)
        self.alpha = alpha
        self.mode = mode
        self.reset()

    def reset(self) -> None:
        self.drift_detected = False
        self._n = 0
        self._mean = 0.0
        self._sum_increase = 0.0
        self._sum_decrease = 0.0
        self._min_increase = math.inf
        self._max_decrease = -1.0

    @property
    def threshold_value(self) -> float:
        return self.threshold

    def with_threshold(self, value: float) -> PageHinkley:
        return PageHinkley(self.min_instances, self.delta, value, self.alpha, self.mode)

    def update(self, x: float) -> bool:
        value = _finite(x, "PageHinkley")
        if self.drift_detected:
            self.reset()
        self._n += 1
        self._mean += (value - self._mean) / self._n
        dev = value - self._mean
        self._sum_increase = self.alpha * self._sum_increase + dev - self.delta
        self._sum_decrease = self.alpha * self._sum_decrease + dev + self.delta
        self._min_increase = min(self._min_increase, self._sum_increase)
        self._max_decrease = max(self._max_decrease, self._sum_decrease)
        if self._n >= self.min_instances:
            up = self._sum_increase - self._min_increase > self.threshold
            down = self._max_decrease - self._sum_decrease > self.threshold
            self.drift_detected = {"up": up, "down": down, "both": up or down}[self.mode]
        return self.drift_detected


class _Bucket:
    __slots__ = ("idx", "total", "variance")

    def __init__(self, max_size: int) -> None:
        self.idx = 0
        self.total = [0.0] * (max_size + 1)
        self.variance = [0.0] * (max_size + 1)

    def insert(self, value: float, variance: float) -> None:
        self.total[self.idx] = value
        self.variance[self.idx] = variance
        self.idx += 1

    def compress(self, k: int) -> None:
        self.total = self.total[k:] + [0.0] * k
        self.variance = self.variance[k:] + [0.0] * k
        self.idx -= k


class ADWIN:
    """ADaptive WINdowing (Bifet & Gavaldà 2007), as River's ``drift.ADWIN`` computes it.

    The window is an exponential histogram of buckets; every ``clock`` updates each cut of the
    window into an older and a newer part is tested with the Hoeffding/Bernstein bound of
    confidence ``delta``. On a change the window drops its oldest buckets; the update after an
    alarm starts a fresh window (River's behaviour).
    """

    def __init__(
        self,
        delta: float = 0.002,
        clock: int = 32,
        max_buckets: int = 5,
        min_window_length: int = 5,
        grace_period: int = 10,
    ) -> None:
        if not 0 < delta < 1:
            raise ProductionEvalError(f"`delta` must be in (0, 1), got {delta!r}")
        self.delta = delta
        self.clock = clock
        self.max_buckets = max_buckets
        self.min_window_length = min_window_length
        self.grace_period = grace_period
        self.reset()

    def reset(self) -> None:
        self.drift_detected = False
        self._buckets: collections.deque[_Bucket] = collections.deque([_Bucket(self.max_buckets)])
        self.total = 0.0
        self.variance = 0.0
        self.width = 0.0
        self._tick = 0

    @property
    def threshold_value(self) -> float:
        return self.delta

    def with_threshold(self, value: float) -> ADWIN:
        return ADWIN(value, self.clock, self.max_buckets, self.min_window_length, self.grace_period)

    @property
    def estimation(self) -> float:
        return self.total / self.width if self.width else 0.0

    def update(self, x: float) -> bool:
        value = _finite(x, "ADWIN")
        if self.drift_detected:
            self.reset()
        self._insert(value)
        self.drift_detected = self._detect()
        return self.drift_detected

    def _insert(self, value: float) -> None:
        self._buckets[0].insert(value, 0.0)
        self.width += 1
        if self.width > 1.0:
            mean = self.total / (self.width - 1.0)
            self.variance += (self.width - 1.0) * (value - mean) * (value - mean) / self.width
        self.total += value
        self._compress()

    def _compress(self) -> None:
        idx = 0
        bucket: _Bucket | None = self._buckets[0]
        while bucket is not None and bucket.idx == self.max_buckets + 1:
            if idx + 1 >= len(self._buckets):
                self._buckets.append(_Bucket(self.max_buckets))
            nxt = self._buckets[idx + 1]
            n = float(2**idx)
            mu1, mu2 = bucket.total[0] / n, bucket.total[1] / n
            total12 = bucket.total[0] + bucket.total[1]
            v12 = bucket.variance[0] + bucket.variance[1] + n * n * (mu1 - mu2) ** 2 / (2 * n)
            nxt.insert(total12, v12)
            bucket.compress(2)
            if nxt.idx <= self.max_buckets:
                break
            idx += 1
            bucket = self._buckets[idx] if idx < len(self._buckets) else None

    def _delete(self) -> float:
        bucket = self._buckets[-1]
        n = float(2 ** (len(self._buckets) - 1))
        u, v = bucket.total[0], bucket.variance[0]
        mu = u / n
        self.width -= n
        self.total -= u
        mu_window = self.total / self.width
        self.variance -= v + n * self.width * (mu - mu_window) ** 2 / (n + self.width)
        bucket.compress(1)
        if bucket.idx == 0:
            self._buckets.pop()
        return n

    def _cut(self, n0: float, n1: float, delta_mean: float) -> bool:
        delta_prime = math.log(2 * math.log(self.width) / self.delta)
        m_recip = 1.0 / (n0 - self.min_window_length + 1) + 1.0 / (n1 - self.min_window_length + 1)
        epsilon = (
            math.sqrt(2 * m_recip * (self.variance / self.width) * delta_prime)
            + 2 / 3 * delta_prime * m_recip
        )
        return abs(delta_mean) > epsilon

    def _detect(self) -> bool:
        change = False
        self._tick += 1
        if self._tick % self.clock != 0 or self.width <= self.grace_period:
            return False
        reduce = True
        while reduce:
            reduce = False
            done = False
            n0, n1, u0, u1 = 0.0, self.width, 0.0, self.total
            for idx in range(len(self._buckets) - 1, -1, -1):
                if done:
                    break
                bucket = self._buckets[idx]
                size = float(2**idx)
                for k in range(bucket.idx):
                    n0 += size
                    n1 -= size
                    u0 += bucket.total[k]
                    u1 -= bucket.total[k]
                    if idx == 0 and k == bucket.idx - 1:
                        done = True
                        break
                    if (
                        n1 >= self.min_window_length
                        and n0 >= self.min_window_length
                        and self._cut(n0, n1, u0 / n0 - u1 / n1)
                    ):
                        reduce = change = True
                        if self.width > 0:
                            n0 -= self._delete()
                            done = True
                            break
        return change


class CUSUM:
    """Two-sided tabular CUSUM (Page 1954) on the stream standardised by a warm-up.

    The first ``min_instances`` values estimate the in-control mean and standard deviation
    (unless ``mean``/``std`` are given); then ``S⁺ = max(0, S⁺ + z - k)`` and
    ``S⁻ = max(0, S⁻ - z - k)`` with ``z`` the standardised value, and an alarm when either
    exceeds ``threshold`` (``h``, in standard deviations). The textbook setting ``k = 0.5``,
    ``h = 5`` has an in-control ARL of about 465 for independent normal data; skewed or
    correlated LLM metrics need :func:`calibrate`. River 0.26 has no CUSUM detector.
    """

    def __init__(
        self,
        threshold: float = 5.0,
        k: float = 0.5,
        min_instances: int = 30,
        mean: float | None = None,
        std: float | None = None,
    ) -> None:
        _positive("threshold", threshold)
        if min_instances < 2 and (mean is None or std is None):
            raise ProductionEvalError(f"`min_instances` must be >= 2, got {min_instances!r}")
        self.threshold = float(threshold)
        self.k = k
        self.min_instances = min_instances
        self.mean = mean
        self.std = std
        self.reset()

    def reset(self) -> None:
        self.drift_detected = False
        self._warm: list[float] = []
        self._mu = self.mean
        self._sd = self.std
        self.s_pos = 0.0
        self.s_neg = 0.0

    @property
    def threshold_value(self) -> float:
        return self.threshold

    def with_threshold(self, value: float) -> CUSUM:
        return CUSUM(value, self.k, self.min_instances, self.mean, self.std)

    def update(self, x: float) -> bool:
        value = _finite(x, "CUSUM")
        if self.drift_detected:
            self.reset()
        if self._mu is None or self._sd is None:
            self._warm.append(value)
            if len(self._warm) >= self.min_instances:
                arr = np.asarray(self._warm)
                self._mu = float(arr.mean()) if self.mean is None else self.mean
                sd = float(arr.std(ddof=1)) if self.std is None else self.std
                self._sd = sd if sd > 0 else 1e-12
            return False
        z = (value - self._mu) / self._sd
        self.s_pos = max(0.0, self.s_pos + z - self.k)
        self.s_neg = max(0.0, self.s_neg - z - self.k)
        self.drift_detected = self.s_pos > self.threshold or self.s_neg > self.threshold
        return self.drift_detected


class KSWIN:
    """Kolmogorov-Smirnov windowing (Raab et al. 2020), as River's ``drift.KSWIN`` computes it.

    A window of ``window_size`` values; its last ``stat_size`` are compared by a two-sample KS
    test with ``stat_size`` values sampled (seeded) from the rest; an alarm when the p-value is
    ``<= alpha`` and the statistic exceeds 0.1.
    """

    def __init__(
        self,
        alpha: float = 0.005,
        window_size: int = 100,
        stat_size: int = 30,
        seed: int | None = None,
        window: Iterable[float] | None = None,
    ) -> None:
        if not 0 < alpha < 1:
            raise ProductionEvalError(f"`alpha` must be in (0, 1), got {alpha!r}")
        if window_size < stat_size:
            raise ProductionEvalError(
                f"`stat_size` ({stat_size}) must be smaller than `window_size` ({window_size})"
            )
        self.alpha = alpha
        self.window_size = window_size
        self.stat_size = stat_size
        self.seed = seed
        self.reset()
        if window:
            self.window.extend(window)

    def reset(self) -> None:
        self.drift_detected = False
        self.p_value = 0.0
        self.n = 0
        self.window: collections.deque[float] = collections.deque(maxlen=self.window_size)
        self._rng = random.Random(self.seed)

    @property
    def threshold_value(self) -> float:
        return self.alpha

    def with_threshold(self, value: float) -> KSWIN:
        return KSWIN(value, self.window_size, self.stat_size, self.seed)

    def update(self, x: float) -> bool:
        value = _finite(x, "KSWIN")
        if self.drift_detected:
            self.reset()
        self.n += 1
        self.window.append(value)
        if len(self.window) < self.window_size:
            self.drift_detected = False
            return False
        cut = self.window_size - self.stat_size
        sample = [self.window[r] for r in self._rng.sample(range(cut), self.stat_size)]
        recent = list(itertools.islice(self.window, cut, self.window_size))
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", category=RuntimeWarning)
            result = stats.ks_2samp(sample, recent, method="auto")
        st, self.p_value = float(result.statistic), float(result.pvalue)
        if self.p_value <= self.alpha and st > 0.1:
            self.drift_detected = True
            self.window = collections.deque(recent, maxlen=self.window_size)
        else:
            self.drift_detected = False
        return self.drift_detected
