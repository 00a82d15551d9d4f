"""The test behind each gate requirement, on paired per-item values of candidate and baseline.

Difference requirements on bounded scores use an anytime-valid empirical-Bernstein confidence
sequence of the paired difference (valid at every look); other means a normal-mixture sequence
with a plug-in scale. Ratio requirements (latency quantiles, cost) and absolute quantiles use a
paired percentile bootstrap, with the level split over the planned looks (Bonferroni), which
keeps repeated looks valid. Fixed-sample p-values (paired t, exact binomial, bootstrap) are
reported beside the decision for the report and the multiplicity correction.
"""

from __future__ import annotations

import math
from typing import Any

import attrs
import numpy as np
from scipy import stats

from crucible.bench import BenchError, bootstrap_ci, confidence_sequence, power, ttest
from crucible.production_eval._requirements import GATE_METRICS, BoundKind, Requirement

__all__ = ["RequirementResult", "Status", "test_requirement"]

_BOUNDED = {"score", "error"}
_N_BOOT = 2000


class Status:
    PASS = "pass"
    FAIL = "fail"
    UNDECIDED = "undecided"


@attrs.frozen
class RequirementResult:
    """The evidence on one requirement at the last look.

    ``estimate`` is the difference, ratio or candidate value the requirement bounds; ``ci_low``
    and ``ci_high`` its interval at the level that decided; ``p_value`` the fixed-sample
    one-sided p-value of "the requirement holds" against "it does not"; ``adjusted_p_value``
    after the multiplicity correction; ``power`` the power at this n to show the requirement
    for the planned effect (NaN where no closed form exists: bootstrap tests).
    """

    requirement: str
    metric: str
    status: str
    reason: str
    estimate: float
    ci_low: float
    ci_high: float
    p_value: float
    adjusted_p_value: float
    power: float
    n: int
    method: str

    def to_dict(self) -> dict[str, Any]:
        return attrs.asdict(self)


def _stat(name: str, x: np.ndarray, axis: int = -1) -> np.ndarray:
    if name == "mean":
        return np.asarray(np.mean(x, axis=axis))
    return np.asarray(np.quantile(x, int(name[1:]) / 100, axis=axis))


def _decide(req: Requirement, lo: float, hi: float, bound: float) -> tuple[str, str]:
    good_side = lo > bound if req.higher_is_better else hi < bound
    bad_side = hi < bound if req.higher_is_better else lo > bound
    if good_side:
        return (
            Status.PASS,
            f"interval [{lo:.4g}, {hi:.4g}] is entirely on the good side of {bound:.4g}",
        )
    if bad_side:
        return (
            Status.FAIL,
            f"interval [{lo:.4g}, {hi:.4g}] is entirely on the bad side of {bound:.4g}",
        )
    return Status.UNDECIDED, f"interval [{lo:.4g}, {hi:.4g}] still contains {bound:.4g}"


def test_requirement(
    req: Requirement,
    cand: np.ndarray,
    base: np.ndarray,
    *,
    alpha: float,
    looks: int,
    sequential: bool,
    mde: float,
    seed: int,
) -> RequirementResult:
    """Test ``req`` on paired arrays (same items, same order) at one-sided level ``alpha``."""
    column, statistic = GATE_METRICS[req.metric]
    n = int(cand.size)
    alt = "greater" if req.higher_is_better else "less"
    look_alpha = alpha / looks if sequential else alpha
    pw = math.nan
    if req.kind is BoundKind.DIFFERENCE and statistic == "mean":
        d = cand - base
        bound = req.value
        est = float(d.mean())
        if sequential:
            if column in _BOUNDED:
                cs = confidence_sequence(cand, base, bounds=(0, 1), confidence=1 - 2 * alpha)
            else:
                sd = float(d.std(ddof=1)) if n > 1 and d.std() > 0 else 1.0
                cs = confidence_sequence(
                    d, method="normal-mixture", sigma=sd, confidence=1 - 2 * alpha
                )
            lo, hi, method = cs.ci_low, cs.ci_high, f"anytime-valid CS ({cs.method})"
        else:
            t2 = _safe_ttest(d, bound, "two-sided", 1 - 2 * alpha)
            lo, hi, method = t2[1], t2[2], "paired t interval"
        p = _safe_ttest(d, bound, alt, 0.95)[0]
        sd = float(d.std(ddof=1)) if n > 1 else math.nan
        if n > 2 and sd > 0:
            effect = max(abs(bound), mde) / sd
            pw = power(
                "paired-t",
                effect=effect if alt == "greater" else -effect,
                n=n,
                alpha=alpha,
                alternative=alt,
            ).power
    elif req.kind is BoundKind.ABSOLUTE and statistic == "mean":
        bound, est = req.value, float(cand.mean())
        if column in _BOUNDED and np.isin(cand, (0.0, 1.0)).all():
            k = int(cand.sum())
            p = float(
                stats.binomtest(k, n, min(max(bound, 1e-12), 1 - 1e-12), alternative=alt).pvalue
            )
            if sequential:
                cs = confidence_sequence(cand, bounds=(0, 1), confidence=1 - 2 * alpha)
                lo, hi, method = cs.ci_low, cs.ci_high, f"anytime-valid CS ({cs.method})"
            else:
                ci = stats.binomtest(k, n).proportion_ci(1 - 2 * alpha, method="wilson")
                lo, hi, method = float(ci.low), float(ci.high), "exact binomial / Wilson interval"
        else:
            p = _safe_ttest(cand, bound, alt, 0.95)[0]
            _, lo, hi = _safe_ttest(cand, bound, "two-sided", 1 - 2 * look_alpha)
            method = "one-sample t interval"
    else:
        rng_seed = seed
        if req.kind is BoundKind.RATIO:
            bound = req.value

            def fn(a: np.ndarray, b: np.ndarray, axis: int = -1) -> np.ndarray:
                return np.asarray(
                    _stat(statistic, a, axis) / np.maximum(_stat(statistic, b, axis), 1e-12)
                )

            est = float(fn(cand, base))
        elif req.kind is BoundKind.DIFFERENCE:
            bound = req.value

            def fn(a: np.ndarray, b: np.ndarray, axis: int = -1) -> np.ndarray:
                return np.asarray(_stat(statistic, a, axis) - _stat(statistic, b, axis))

            est = float(fn(cand, base))
        else:
            bound = req.value

            def fn(a: np.ndarray, b: np.ndarray, axis: int = -1) -> np.ndarray:
                return _stat(statistic, a, axis)

            est = float(fn(cand, base))
        ci = bootstrap_ci(
            cand,
            base,
            statistic=fn,
            paired=True,
            method="percentile",
            confidence=1 - 2 * look_alpha,
            n_boot=_N_BOOT,
            seed=rng_seed,
        )
        lo, hi = float(ci.ci_low), float(ci.ci_high)
        rng = np.random.default_rng(rng_seed)
        idx = rng.integers(0, n, size=(_N_BOOT, n))
        reps = fn(cand[idx], base[idx], axis=1)
        if not (math.isfinite(lo) and math.isfinite(hi)):
            # A degenerate bootstrap (every replicate equal, e.g. identical latencies): the
            # replicates' own percentiles are the interval.
            lo, hi = (float(v) for v in np.quantile(reps, [look_alpha, 1 - look_alpha]))
        null_side = reps <= bound if req.higher_is_better else reps >= bound
        p = float((null_side.sum() + 1) / (_N_BOOT + 1))
        method = "paired percentile bootstrap" + (f" (alpha / {looks} looks)" if sequential else "")
    status, reason = _decide(req, lo, hi, bound)
    return RequirementResult(
        req.text,
        req.metric,
        status,
        reason,
        est,
        float(lo),
        float(hi),
        float(p),
        float(p),
        float(pw),
        n,
        method,
    )


def _safe_ttest(
    d: np.ndarray, mu: float, alt: str, confidence: float
) -> tuple[float, float, float]:
    if d.size < 2 or float(np.ptp(d)) == 0.0:
        # Every difference equal: no spread, the interval is the value itself.
        value = float(d.mean()) if d.size else math.nan
        if alt == "two-sided":
            p = 0.0 if value != mu else 1.0
        else:
            p = 0.0 if (value > mu) == (alt == "greater") and value != mu else 1.0
        return p, value, value
    try:
        res = ttest(d, mu=mu, alternative=alt, confidence=confidence)
    except BenchError:
        return math.nan, math.nan, math.nan
    return float(res.p_value), float(res.ci_low), float(res.ci_high)
