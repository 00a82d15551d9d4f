"""Rank effect sizes: the rank-biserial correlation and Cliff's delta, with their CIs."""

from __future__ import annotations

import math

import numpy as np
import numpy.typing as npt
from scipy import stats

from crucible.bench._effect_size import make_effect, zcrit
from crucible.bench._errors import DegenerateDataError
from crucible.bench._results import EffectSize
from crucible.bench._validate import as_array, as_pair, check_alpha

__all__ = ["cliffs_delta", "dominance", "rank_biserial"]


def _fisher_z_interval(r: float, se: float, confidence: float) -> tuple[float, float]:
    if abs(r) >= 1.0:
        return math.nan, math.nan  # atanh(±1) is infinite: no interval at complete separation
    z = math.atanh(r)
    crit = zcrit(confidence)
    return math.tanh(z - crit * se), math.tanh(z + crit * se)


def rank_biserial(
    a: npt.ArrayLike,
    b: npt.ArrayLike,
    *,
    paired: bool = False,
    confidence: float = 0.95,
    nan_policy: str = "raise",
) -> EffectSize:
    """Rank-biserial correlation: the effect size of Mann–Whitney U and Wilcoxon signed-rank.

    Independent: r = (U_a - U_b)/(n₁n₂), the share of pairs where a wins minus where b wins.
    Paired (matched pairs): r = (R⁺ - R⁻)/(R⁺ + R⁻) over the ranks of |a - b| (zeros dropped).
    Positive when ``a`` tends to be larger.

    Notes
    -----
    At r = ±1 (complete separation) the CI is NaN: Fisher's z is infinite there.
    CI by Fisher's z: atanh(r) ± z·SE, SE = √((n₁+n₂+1)/(3n₁n₂)) (independent) or
    SE = √((2n³+3n²+n)/6) / (n(n+1)/2) (paired, n non-zero differences).

    References
    ----------
    Kerby, D. S. (2014). The simple difference formula. Comprehensive Psychology 3.
    doi:10.2466/11.IT.3.1. King, B. M. & Minium, E. W. (2008). Statistical Reasoning in the
    Behavioral Sciences (the SEs).

    Validated against: pingouin.mwu and pingouin.wilcoxon (column "RBC").

    Examples
    --------
    >>> round(rank_biserial([3.0, 4.0, 5.0], [1.0, 2.0, 4.0]).value, 4)
    0.6667
    """
    confidence = check_alpha(confidence, "confidence")
    if paired:
        x, y = as_pair(a, b, nan_policy=nan_policy, min_n=1)
        d = x - y
        d = d[d != 0]
        if d.size == 0:
            raise DegenerateDataError(
                "every difference `a - b` is zero; the rank-biserial correlation is undefined"
            )
        ranks = stats.rankdata(np.abs(d))
        total = float(ranks.sum())
        r = float(ranks[d > 0].sum() - ranks[d < 0].sum()) / total
        n = d.size
        se = math.sqrt((2 * n**3 + 3 * n**2 + n) / 6) / (n * (n + 1) / 2)
        low, high = _fisher_z_interval(r, se, confidence)
        return make_effect("rank_biserial", r, low, high, confidence, n, "fisher-z")
    x = as_array(a, "a", nan_policy=nan_policy, min_n=1)
    y = as_array(b, "b", nan_policy=nan_policy, min_n=1)
    r = dominance(x, y)[0]
    n1, n2 = x.size, y.size
    se = math.sqrt((n1 + n2 + 1) / (3 * n1 * n2))
    low, high = _fisher_z_interval(r, se, confidence)
    return make_effect("rank_biserial", r, low, high, confidence, n1 + n2, "fisher-z")


def dominance(x: np.ndarray, y: np.ndarray) -> tuple[float, np.ndarray, np.ndarray, float]:
    """Cliff's δ and its per-observation dominance means, in O(n log n) with sorted arrays.

    Returns δ, d_i. (per x), d_.j (per y) and the number of tied (x, y) pairs.
    """
    ys, xs = np.sort(y), np.sort(x)
    below_x = np.searchsorted(ys, x, side="left")  # y < x_i
    above_x = y.size - np.searchsorted(ys, x, side="right")  # y > x_i
    below_y = np.searchsorted(xs, y, side="left")  # x < y_j
    above_y = x.size - np.searchsorted(xs, y, side="right")  # x > y_j
    di = (below_x - above_x) / y.size
    dj = (above_y - below_y) / x.size
    delta = float((below_x - above_x).sum()) / (x.size * y.size)
    ties = float((y.size - below_x - above_x).sum())
    return delta, di, dj, ties


def cliffs_delta(
    a: npt.ArrayLike,
    b: npt.ArrayLike,
    *,
    confidence: float = 0.95,
    nan_policy: str = "raise",
) -> EffectSize:
    """Cliff's δ = P(a > b) - P(a < b), with Cliff's asymmetric confidence interval.

    Notes
    -----
    Computed from sorted samples in O(n log n). Variance (Cliff 1993, consistent estimator):
    s² = [n₂²Σ(dᵢ. - δ)² + n₁²Σ(d.ⱼ - δ)² - ΣΣ(dᵢⱼ - δ)²] / (n₁n₂(n₁-1)(n₂-1)), floored at
    (1 - δ²)/(n₁n₂ - 1). CI: (δ - δ³ ± z s √((1 - δ²)² + z²s²)) / (1 - δ² + z²s²). At
    |δ| = 1 (complete separation) the CI is NaN and ``method`` says so.

    References
    ----------
    Cliff, N. (1993). Dominance statistics: ordinal analyses to answer ordinal questions.
    Psychological Bulletin 114(3), 494–509. doi:10.1037/0033-2909.114.3.494.

    Validated against: the O(n₁n₂) definition computed with numpy; the value equals
    pingouin.mwu's "RBC".

    Examples
    --------
    >>> round(cliffs_delta([3.0, 4.0, 5.0], [1.0, 2.0, 4.0]).value, 4)
    0.6667
    """
    confidence = check_alpha(confidence, "confidence")
    x = as_array(a, "a", nan_policy=nan_policy, min_n=2)
    y = as_array(b, "b", nan_policy=nan_policy, min_n=2)
    n1, n2 = x.size, y.size
    delta, di, dj, ties = dominance(x, y)
    sum_sq = (n1 * n2 - ties) - 2 * delta * delta * n1 * n2 + n1 * n2 * delta * delta
    raw_var = (
        n2 * n2 * np.sum((di - delta) ** 2) + n1 * n1 * np.sum((dj - delta) ** 2) - sum_sq
    ) / (n1 * n2 * (n1 - 1) * (n2 - 1))
    if abs(delta) == 1.0:
        # Complete separation: Cliff's variance is 0 and his interval collapses or spans
        # [-1, 1]; neither is an honest statement of uncertainty.
        return make_effect(
            "cliffs_delta",
            delta,
            math.nan,
            math.nan,
            confidence,
            n1 + n2,
            "cliff-1993 (undefined at complete separation)",
        )
    var = max(float(raw_var), (1 - delta * delta) / (n1 * n2 - 1))
    s, z = math.sqrt(var), zcrit(confidence)
    d2 = 1 - delta * delta
    root = z * s * math.sqrt(d2 * d2 + z * z * var)
    denom = d2 + z * z * var
    low = (delta - delta**3 - root) / denom
    high = (delta - delta**3 + root) / denom
    return make_effect(
        "cliffs_delta", delta, max(low, -1.0), min(high, 1.0), confidence, n1 + n2, "cliff-1993"
    )
