"""The adaptive policy: choose the hedge delay that minimises a tail quantile under a cost cap.

With independent attempts drawn from one latency distribution with survival ``S``, a call hedged
once at delay ``d`` finishes after ``t`` with probability

    P(T > t) = S(t)              for t <= d
    P(T > t) = S(t) * S(t - d)   for t > d

and the hedge fires (an extra request) with probability ``S(d)``. The adaptive policy plugs the
Kaplan-Meier estimate of the survival of recent primary latencies into this formula and picks
``d``. Kaplan-Meier, because the slowest primaries are exactly the ones a winning hedge cancels:
their latency is only known to exceed the time they ran (right-censored).
"""

from __future__ import annotations

import bisect
import math
from collections import deque
from collections.abc import Callable

import attrs

from crucible.core import ConfigurationError
from crucible.hedging._policy import Observation, PolicyName, Work

__all__ = [
    "AdaptiveDelay",
    "AdaptiveFit",
    "SurvivalWindow",
    "adaptive",
    "hedged_quantile",
    "hedged_sf",
]


def hedged_sf(sf: Callable[[float], float], t_ms: float, delay_ms: float) -> float:
    """P(T > t) for a call hedged once at ``delay_ms`` with independent, identically distributed
    attempts of survival ``sf``.

    Example:
        >>> sf = lambda t: max(0.0, 1 - t / 100)  # uniform on [0, 100] ms
        >>> round(hedged_sf(sf, 80, 50), 6)  # S(80) * S(30) = 0.2 * 0.7
        0.14
    """
    if t_ms <= delay_ms:
        return sf(t_ms)
    return sf(t_ms) * sf(t_ms - delay_ms)


def hedged_quantile(
    sf: Callable[[float], float], q: float, delay_ms: float, *, upper_ms: float
) -> float:
    """The ``q``-quantile of hedged latency: the smallest ``t`` with ``hedged_sf(t) <= 1 - q``,
    found by bisection on ``[0, upper_ms]`` (``upper_ms`` must bound the answer, e.g. the
    unhedged ``q``-quantile). ``delay_ms = inf`` gives the unhedged quantile.

    Example:
        >>> sf = lambda t: max(0.0, 1 - t / 100)
        >>> round(hedged_quantile(sf, 0.99, 50, upper_ms=100), 2)  # (1 - t/100)(1.5 - t/100) = 0.01
        98.07
    """
    if not 0.0 < q < 1.0:
        raise ConfigurationError(f"quantile `q` must be in (0, 1), got {q!r}")
    target = 1.0 - q
    lo, hi = 0.0, float(upper_ms)
    if hedged_sf(sf, hi, delay_ms) > target:
        raise ConfigurationError(
            f"`upper_ms`={upper_ms} is below the hedged {q}-quantile; pass a larger bound"
        )
    for _ in range(200):
        mid = (lo + hi) / 2
        if hedged_sf(sf, mid, delay_ms) > target:
            lo = mid
        else:
            hi = mid
        if hi - lo <= 1e-9 * max(1.0, hi):
            break
    return hi


class SurvivalWindow:
    """The last ``size`` latencies, some right-censored, and their Kaplan-Meier survival curve.

    ``S(t) = prod over event times t_i <= t of (1 - d_i / n_i)`` with ``d_i`` answers at ``t_i``
    and ``n_i`` observations still running just before it (Kaplan & Meier, JASA 1958). Beyond the
    last observation the curve is taken to be 0 (Efron's tail completion), so quantiles exist.

    Example:
        >>> w = SurvivalWindow(10)
        >>> for t, done in [(1, True), (2, False), (3, True), (4, True)]:
        ...     w.add(t, completed=done)
        >>> [round(w.sf(t), 3) for t in (0.5, 1, 2.5, 3, 4)]  # 3/4, then 3/4 * 1/2
        [1.0, 0.75, 0.75, 0.375, 0.0]
    """

    __slots__ = ("_curve", "_data", "_negated", "_size", "_times")

    def __init__(self, size: int = 2000) -> None:
        if isinstance(size, bool) or not isinstance(size, int) or size < 1:
            raise ConfigurationError(f"`window` must be an int >= 1, got {size!r}")
        self._size = size
        self._data: deque[tuple[float, bool]] = deque(maxlen=size)
        self._times: list[float] = []
        self._curve: list[float] = []
        self._negated: list[float] = []

    def __len__(self) -> int:
        return len(self._data)

    def add(self, latency_ms: float, *, completed: bool) -> None:
        """Record one latency; ``completed=False`` means it only ran that long (censored)."""
        if not math.isfinite(latency_ms) or latency_ms < 0:
            raise ConfigurationError(f"a latency must be a finite number >= 0, got {latency_ms!r}")
        self._data.append((float(latency_ms), completed))
        self._times = []

    def _fit(self) -> None:
        if self._times or not self._data:
            return
        ordered = sorted(self._data, key=lambda pair: (pair[0], not pair[1]))
        at_risk = len(ordered)
        survival = 1.0
        times: list[float] = []
        curve: list[float] = []
        i = 0
        while i < len(ordered):
            t = ordered[i][0]
            events = leaving = 0
            while i < len(ordered) and ordered[i][0] == t:
                events += ordered[i][1]
                leaving += 1
                i += 1
            if events:
                survival *= 1.0 - events / at_risk
                times.append(t)
                curve.append(survival)
            at_risk -= leaving
        last = ordered[-1][0]
        if not times or times[-1] < last or curve[-1] > 0.0:
            times.append(last)
            curve.append(0.0)
        self._times, self._curve = times, curve
        self._negated = [-v for v in curve]

    def sf(self, t_ms: float) -> float:
        """The Kaplan-Meier estimate of P(T > t)."""
        if not self._data:
            raise ConfigurationError("the latency window is empty: observe some calls first")
        self._fit()
        k = bisect.bisect_right(self._times, t_ms)
        return 1.0 if k == 0 else self._curve[k - 1]

    def quantile(self, p: float) -> float:
        """The smallest observed time with ``S(t) <= 1 - p``."""
        if not 0.0 < p < 1.0:
            raise ConfigurationError(f"quantile `p` must be in (0, 1), got {p!r}")
        if not self._data:
            raise ConfigurationError("the latency window is empty: observe some calls first")
        self._fit()
        # The curve is non-increasing: bisect on its negation for the first S(t) <= 1 - p.
        k = bisect.bisect_left(self._negated, -(1.0 - p + 1e-12))
        return self._times[min(k, len(self._times) - 1)]

    def max(self) -> float:
        """The largest observation."""
        return max(v for v, _ in self._data)


@attrs.frozen(slots=True)
class AdaptiveFit:
    """The delay the adaptive policy chose, and what it predicts for it.

    Attributes:
        delay_ms: the chosen single-hedge delay.
        predicted_ms: the predicted hedged latency quantile (the objective) at that delay.
        predicted_extra_rate: the predicted share of calls that fire a hedge, ``S(delay)``.
        unhedged_ms: the same quantile without hedging, for comparison.
        samples: how many observations the fit used.
    """

    delay_ms: float
    predicted_ms: float
    predicted_extra_rate: float
    unhedged_ms: float
    samples: int


@attrs.define(slots=True)
class AdaptiveDelay:
    """Minimise the ``quantile`` of hedged latency subject to ``S(d) <= max_extra_rate``.

    Among the candidate delays whose predicted quantile is within ``tolerance`` (relative) of the
    best, the *largest* is chosen: the same tail for fewer extra requests. Candidates are the
    Kaplan-Meier quantiles of the window from ``1 - max_extra_rate`` up to 0.999. The fit is redone
    every ``refit_every`` observations, so its cost is amortised.
    """

    quantile: float
    max_extra_rate: float
    tolerance: float
    window: SurvivalWindow
    min_samples: int
    refit_every: int
    initial_delay_ms: float
    fit: AdaptiveFit | None = None
    _since_fit: int = 0

    @property
    def name(self) -> str:
        return PolicyName.ADAPTIVE.value

    def delay_ms(self, level: int, work: Work | None = None) -> float:
        if level < 1:
            raise ConfigurationError(f"hedge `level` is 1-based, got {level}")
        base = self.initial_delay_ms if self.fit is None else self.fit.delay_ms
        return base * level

    def observe(self, observation: Observation) -> None:
        if observation.attempt != 0:
            return
        self.window.add(observation.latency_ms, completed=observation.completed)
        self._since_fit += 1
        if len(self.window) >= self.min_samples and (
            self.fit is None or self._since_fit >= self.refit_every
        ):
            self.refit()

    def refit(self) -> AdaptiveFit:
        """Choose the delay from the current window (see the class docstring)."""
        window = self.window
        sf = window.sf
        upper = window.max() * 2 + 1.0
        unhedged = hedged_quantile(sf, self.quantile, math.inf, upper_ms=upper)
        low = 1.0 - self.max_extra_rate
        steps = 24
        levels = sorted({low + (0.999 - low) * i / steps for i in range(steps + 1)})
        scored: list[tuple[float, float]] = []
        for level in levels:
            if not 0.0 < level < 1.0:
                continue
            d = window.quantile(level)
            scored.append((d, hedged_quantile(sf, self.quantile, d, upper_ms=upper)))
        best = min(score for _, score in scored)
        delay, predicted = max(
            (d, s) for d, s in scored if s <= best * (1.0 + self.tolerance) + 1e-12
        )
        self.fit = AdaptiveFit(delay, predicted, sf(delay), unhedged, len(window))
        self._since_fit = 0
        return self.fit


def adaptive(
    *,
    quantile: float = 0.99,
    max_extra_rate: float = 0.1,
    tolerance: float = 0.01,
    window: int = 2000,
    min_samples: int = 200,
    refit_every: int = 50,
    initial_delay_ms: float = math.inf,
) -> AdaptiveDelay:
    """A delay chosen online to minimise a tail quantile of hedged latency under a cap on the
    extra-request rate, from the analytic hedged-latency formula on the learned (Kaplan-Meier)
    distribution.

    Args:
        quantile: the latency quantile to minimise (0.99 = P99).
        max_extra_rate: the largest acceptable share of calls that fire a hedge.
        tolerance: relative slack within which a larger (cheaper) delay is preferred.
        window: recent primary latencies kept.
        min_samples: observations before the first fit (no hedging before, unless
            ``initial_delay_ms`` is set).
        refit_every: observations between fits.

    Raises:
        ConfigurationError: if an argument is out of range (the message names it).

    Example:
        >>> policy = adaptive(max_extra_rate=0.05, min_samples=100)
        >>> for ms in range(1, 201):
        ...     policy.observe(Observation(float(ms), completed=True))
        >>> policy.fit.predicted_extra_rate <= 0.05
        True
    """
    if not isinstance(quantile, int | float) or not 0.0 < quantile < 1.0:
        raise ConfigurationError(f"`quantile` must be in (0, 1), e.g. 0.99; got {quantile!r}")
    if not isinstance(max_extra_rate, int | float) or not 0.0 < max_extra_rate < 1.0:
        raise ConfigurationError(
            f"`max_extra_rate` must be in (0, 1), e.g. 0.1 for 10 % extra requests; got {max_extra_rate!r}"
        )
    if not isinstance(tolerance, int | float) or not tolerance >= 0:
        raise ConfigurationError(f"`tolerance` must be >= 0, got {tolerance!r}")
    for name, value in (("min_samples", min_samples), ("refit_every", refit_every)):
        if isinstance(value, bool) or not isinstance(value, int) or value < 1:
            raise ConfigurationError(f"`{name}` must be an int >= 1, got {value!r}")
    if not isinstance(initial_delay_ms, int | float) or not initial_delay_ms >= 0:
        raise ConfigurationError(
            f"`initial_delay_ms` must be a number of milliseconds >= 0, got {initial_delay_ms!r}"
        )
    return AdaptiveDelay(
        float(quantile),
        float(max_extra_rate),
        float(tolerance),
        SurvivalWindow(window),
        min_samples,
        refit_every,
        float(initial_delay_ms),
    )
