"""One window of production values compared with the baseline, one-sided toward degradation."""

from __future__ import annotations

from typing import Any

import attrs
import numpy as np

from crucible.bench import mann_whitney, proportions_ztest, ttest
from crucible.production_eval._signals import MetricKind, Signal

__all__ = ["WindowEvidence", "compare_window"]

_N_BOOT = 1000


@attrs.frozen
class WindowEvidence:
    """The comparison of one window with the baseline for one metric.

    ``estimate`` and ``baseline`` are the metric in the window and in the baseline; ``ci_low``
    and ``ci_high`` bound window - baseline; ``violated`` means the one-sided test toward
    degradation has ``p_value < alpha`` and the difference exceeds ``min_effect``.
    """

    metric: str
    test: str
    n: int
    estimate: float
    baseline: float
    difference: float
    ci_low: float
    ci_high: float
    p_value: float
    violated: bool

    def to_dict(self) -> dict[str, Any]:
        return attrs.asdict(self)


def _quantile_diff(q: float) -> Any:
    def stat(a: np.ndarray, b: np.ndarray, axis: int = -1) -> np.ndarray:
        return np.asarray(np.quantile(a, q, axis=axis) - np.quantile(b, q, axis=axis))

    return stat


def compare_window(
    signal: Signal,
    baseline: np.ndarray,
    window: np.ndarray,
    *,
    alpha: float,
    min_effect: float = 0.0,
    seed: int = 0,
    continuous_test: str = "welch",
) -> WindowEvidence:
    """Compare ``window`` values with ``baseline`` values of ``signal`` (one-sided).

    Proportions: two-proportion z test (crucible.bench.proportions_ztest). Means: Welch's t
    test, or the Mann-Whitney U test with ``continuous_test="mann-whitney"`` (the interval
    stays Welch's, of the mean difference). Quantiles: percentile bootstrap interval of the quantile difference (1 000
    resamples, seeded); its p-value is the bootstrap share of differences on the good side.
    """
    worse = "greater" if signal.higher_is_worse else "less"
    n = int(window.size)
    if signal.kind is MetricKind.PROPORTION:
        k_w, k_b = int(np.round(window.sum())), int(np.round(baseline.sum()))
        res = proportions_ztest([k_w, k_b], [n, baseline.size], alternative=worse)
        two = proportions_ztest([k_w, k_b], [n, baseline.size], confidence=1 - 2 * alpha)
        est, base = float(window.mean()), float(baseline.mean())
        test, p, lo, hi = res.test, res.p_value, two.ci_low, two.ci_high
    elif signal.kind is MetricKind.MEAN and continuous_test == "mann-whitney":
        res = mann_whitney(window, baseline, alternative=worse)
        two = ttest(window, baseline, confidence=1 - 2 * alpha)
        est, base = float(window.mean()), float(baseline.mean())
        test, p, lo, hi = res.test, res.p_value, two.ci_low, two.ci_high
    elif signal.kind is MetricKind.MEAN:
        res = ttest(window, baseline, alternative=worse)
        two = ttest(window, baseline, confidence=1 - 2 * alpha)
        est, base = float(window.mean()), float(baseline.mean())
        test, p, lo, hi = res.test, res.p_value, two.ci_low, two.ci_high
    else:
        q = signal.quantile
        est, base = float(np.quantile(window, q)), float(np.quantile(baseline, q))
        stat = _quantile_diff(q)
        # One percentile bootstrap gives both the interval and the one-sided p-value.
        rng = np.random.default_rng(seed)
        wb = rng.choice(window, size=(_N_BOOT, n), replace=True)
        bb = rng.choice(baseline, size=(_N_BOOT, baseline.size), replace=True)
        diffs = stat(wb, bb, axis=1)
        lo, hi = (float(v) for v in np.quantile(diffs, [alpha, 1 - alpha]))
        good = (diffs <= 0).mean() if signal.higher_is_worse else (diffs >= 0).mean()
        test = f"bootstrap q{q:g} difference"
        p = float((good * _N_BOOT + 1) / (_N_BOOT + 1))
    diff = est - base
    practical = diff > min_effect if signal.higher_is_worse else diff < -min_effect
    return WindowEvidence(
        signal.name,
        test,
        n,
        est,
        base,
        diff,
        float(lo),
        float(hi),
        float(p),
        bool(p < alpha and practical),
    )
