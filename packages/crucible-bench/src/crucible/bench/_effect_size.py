"""Standardised mean differences with CIs, the noncentral η² interval, and effect-size words."""

from __future__ import annotations

import math
from collections.abc import Callable

import numpy as np
import numpy.typing as npt
from scipy import optimize, special, stats

from crucible.bench._errors import BenchInputError, DegenerateDataError
from crucible.bench._results import EffectSize
from crucible.bench._validate import as_array, as_pair, check_alpha

__all__ = [
    "cohen_d",
    "glass_delta",
    "hedges_g",
    "interpret",
    "make_effect",
    "ncf_eta_interval",
    "noncentral_bounds",
    "zcrit",
]

COHEN = "Cohen (1988)"
ROMANO = "Romano et al. (2006)"
CHEN = "Chen, Cohen & Chen (2010)"

_THRESHOLDS: dict[str, tuple[str, tuple[float, float, float]]] = {
    "cohen_d": (COHEN, (0.2, 0.5, 0.8)),
    "hedges_g": (COHEN, (0.2, 0.5, 0.8)),
    "glass_delta": (COHEN, (0.2, 0.5, 0.8)),
    "d_z": (COHEN, (0.2, 0.5, 0.8)),
    "cohen_h": (COHEN, (0.2, 0.5, 0.8)),
    "rank_biserial": (ROMANO, (0.147, 0.33, 0.474)),
    "cliffs_delta": (ROMANO, (0.147, 0.33, 0.474)),
    "eta_squared": (COHEN, (0.01, 0.06, 0.14)),
    "partial_eta_squared": (COHEN, (0.01, 0.06, 0.14)),
    "omega_squared": (COHEN, (0.01, 0.06, 0.14)),
    "epsilon_squared": (COHEN, (0.01, 0.06, 0.14)),
    "kendall_w": (COHEN, (0.1, 0.3, 0.5)),
    "eta_squared_q": (COHEN, (0.01, 0.06, 0.14)),
    "odds_ratio": (CHEN, (1.68, 3.47, 6.71)),
    "cramers_v": (COHEN, (0.1, 0.3, 0.5)),
}


def interpret(name: str, value: float, *, df: int = 1) -> tuple[str, str]:
    """Magnitude of an effect size in words, and the convention used.

    Cohen (1988) for d, g, Glass's Δ, d_z, h (0.2/0.5/0.8), η², ω², ε² (0.01/0.06/0.14) and
    Cramér's V (0.1/0.3/0.5 divided by √df, df = min(rows, cols) - 1); Romano et al. (2006)
    for rank-biserial r and Cliff's δ (0.147/0.33/0.474); Chen, Cohen & Chen (2010) for odds
    ratios (1.68/3.47/6.71, symmetric in OR and 1/OR).
    """
    if name not in _THRESHOLDS:
        raise BenchInputError(
            f"`name` must be one of {', '.join(sorted(_THRESHOLDS))}; got {name!r}"
        )
    convention, cuts = _THRESHOLDS[name]
    if math.isnan(value):
        return "undefined", convention
    size = abs(value)
    if name == "odds_ratio":
        size = max(value, 1 / value) if value > 0 else math.inf
    if name == "cramers_v":
        cuts = (cuts[0] / math.sqrt(df), cuts[1] / math.sqrt(df), cuts[2] / math.sqrt(df))
    words = ("negligible", "small", "medium", "large")
    level = sum(size >= c for c in cuts)
    return words[level], convention


def make_effect(
    name: str,
    value: float,
    low: float,
    high: float,
    confidence: float,
    n: int,
    method: str,
    *,
    df: int = 1,
) -> EffectSize:
    """Build an :class:`EffectSize` with its interpretation."""
    words, convention = interpret(name, value, df=df)
    return EffectSize(name, value, low, high, confidence, n, method, words, convention)


def _tcrit(confidence: float, df: float) -> float:
    return float(stats.t.ppf(0.5 + confidence / 2, df))


def zcrit(confidence: float) -> float:
    return float(stats.norm.ppf(0.5 + confidence / 2))


def cohen_d(
    a: npt.ArrayLike,
    b: npt.ArrayLike | None = None,
    *,
    paired: bool = False,
    mu: float = 0.0,
    confidence: float = 0.95,
    nan_policy: str = "raise",
) -> EffectSize:
    """Cohen's d: a standardised mean difference, with a confidence interval.

    Two independent samples: (mean(a) - mean(b)) / pooled SD. One sample: (mean(a) - mu) / SD.
    Paired (``paired=True``): d_z = mean(a - b) / SD(a - b).

    Notes
    -----
    CI: d ± t_{1-α/2, df} · SE with SE = √((n₁+n₂)/(n₁n₂) + d²/(2(n₁+n₂))), df = n₁+n₂-2
    (independent), or SE = √(1/n + d²/(2n)), df = n-1 (one-sample, d_z) (Hedges & Olkin 1985).
    Zero variance raises :class:`DegenerateDataError` (d would be infinite or undefined).

    References
    ----------
    Cohen, J. (1988). Statistical Power Analysis for the Behavioral Sciences, 2nd ed.
    Hedges, L. V. & Olkin, I. (1985). Statistical Methods for Meta-Analysis. Academic Press.

    Validated against: pingouin.compute_effsize(eftype="cohen"), pingouin.compute_esci.

    Examples
    --------
    >>> round(cohen_d([5.0, 6.0, 7.0, 8.0], [4.0, 5.0, 5.5, 6.0]).value, 4)
    1.2563
    """
    confidence = check_alpha(confidence, "confidence")
    if b is None:
        x = as_array(a, "a", nan_policy=nan_policy, min_n=2)
        return _one_sample_d(x - mu, "cohen_d", confidence)
    if paired:
        x, y = as_pair(a, b, nan_policy=nan_policy)
        return _one_sample_d(x - y, "d_z", confidence)
    x = as_array(a, "a", nan_policy=nan_policy, min_n=2)
    y = as_array(b, "b", nan_policy=nan_policy, min_n=2)
    d = _pooled_d(x, y)
    n1, n2 = x.size, y.size
    se = math.sqrt((n1 + n2) / (n1 * n2) + d * d / (2 * (n1 + n2)))
    crit = _tcrit(confidence, n1 + n2 - 2)
    return make_effect(
        "cohen_d", d, d - crit * se, d + crit * se, confidence, n1 + n2, "normal-approx"
    )


def _pooled_d(x: np.ndarray, y: np.ndarray) -> float:
    n1, n2 = x.size, y.size
    pooled = ((n1 - 1) * x.var(ddof=1) + (n2 - 1) * y.var(ddof=1)) / (n1 + n2 - 2)
    if pooled == 0:
        raise DegenerateDataError(
            "`a` and `b` have zero variance; a standardised difference is undefined"
        )
    return float((x.mean() - y.mean()) / math.sqrt(pooled))


def _one_sample_d(diff: np.ndarray, name: str, confidence: float) -> EffectSize:
    sd = float(diff.std(ddof=1))
    if sd == 0:
        raise DegenerateDataError(
            f"the data for {name} have zero variance; the effect size is undefined"
        )
    n = diff.size
    d = float(diff.mean()) / sd
    se = math.sqrt(1 / n + d * d / (2 * n))
    crit = _tcrit(confidence, n - 1)
    return make_effect(name, d, d - crit * se, d + crit * se, confidence, n, "normal-approx")


def hedges_g(
    a: npt.ArrayLike,
    b: npt.ArrayLike,
    *,
    confidence: float = 0.95,
    nan_policy: str = "raise",
) -> EffectSize:
    """Hedges' g: Cohen's d of two independent samples with the small-sample correction.

    Notes
    -----
    g = d · (1 - 3/(4(n₁+n₂) - 9)); its CI uses the SE of Cohen's d evaluated at g.

    References
    ----------
    Hedges, L. V. (1981). Distribution theory for Glass's estimator of effect size and related
    estimators. J. Educational Statistics 6(2), 107–128. doi:10.3102/10769986006002107.

    Validated against: pingouin.compute_effsize(eftype="hedges"), pingouin.compute_esci.

    Examples
    --------
    >>> round(hedges_g([5.0, 6.0, 7.0, 8.0], [4.0, 5.0, 5.5, 6.0]).value, 4)
    1.0924
    """
    confidence = check_alpha(confidence, "confidence")
    x = as_array(a, "a", nan_policy=nan_policy, min_n=2)
    y = as_array(b, "b", nan_policy=nan_policy, min_n=2)
    n1, n2 = x.size, y.size
    g = _pooled_d(x, y) * (1 - 3 / (4 * (n1 + n2) - 9))
    se = math.sqrt((n1 + n2) / (n1 * n2) + g * g / (2 * (n1 + n2)))
    crit = _tcrit(confidence, n1 + n2 - 2)
    return make_effect(
        "hedges_g", g, g - crit * se, g + crit * se, confidence, n1 + n2, "normal-approx"
    )


def glass_delta(
    a: npt.ArrayLike,
    control: npt.ArrayLike,
    *,
    confidence: float = 0.95,
    nan_policy: str = "raise",
) -> EffectSize:
    """Glass's Δ: (mean(a) - mean(control)) / SD(control).

    Use it when the treatment may change the spread, so only the control SD is a fair unit.

    Notes
    -----
    CI: Δ ± z · √((n₁+n₂)/(n₁n₂) + Δ²/(2(n₂-1))) (normal approximation).

    References
    ----------
    Glass, G. V. (1976). Primary, secondary and meta-analysis of research. Educational
    Researcher 5(10), 3–8. Algina, J., Keselman, H. J. & Penfield, R. D. (2006). Educational
    and Psychological Measurement 66(6), 945–960.

    Validated against: the formula evaluated with numpy (no library computes it).

    Examples
    --------
    >>> round(glass_delta([5.0, 6.0, 7.0, 8.0], [4.0, 5.0, 5.5, 6.0]).value, 4)
    1.6102
    """
    confidence = check_alpha(confidence, "confidence")
    x = as_array(a, "a", nan_policy=nan_policy, min_n=2)
    y = as_array(control, "control", nan_policy=nan_policy, min_n=2)
    sd = float(y.std(ddof=1))
    if sd == 0:
        raise DegenerateDataError("`control` has zero variance; Glass's delta is undefined")
    n1, n2 = x.size, y.size
    delta = float(x.mean() - y.mean()) / sd
    se = math.sqrt((n1 + n2) / (n1 * n2) + delta * delta / (2 * (n2 - 1)))
    crit = zcrit(confidence)
    return make_effect(
        "glass_delta",
        delta,
        delta - crit * se,
        delta + crit * se,
        confidence,
        n1 + n2,
        "normal-approx",
    )


def noncentral_bounds(cdf: Callable[[float], float], confidence: float) -> tuple[float, float]:
    """Noncentrality bounds λ with cdf(λ) = 1-α/2 (low) and α/2 (high); cdf decreases in λ."""
    tail = (1 - confidence) / 2

    def solve(target: float) -> float:
        if cdf(0.0) <= target:
            return 0.0
        hi = 10.0
        while cdf(hi) > target:
            hi *= 2
            if hi > 1e9:
                return math.inf
        return float(optimize.brentq(lambda lam: cdf(lam) - target, 0.0, hi, xtol=1e-12))

    return solve(1 - tail), solve(tail)


def ncf_eta_interval(
    f: float, df1: float, df2: float, n: int, confidence: float
) -> tuple[float, float]:
    """CI of (partial) η² by inverting the noncentral F distribution (Steiger 2004)."""
    lo, hi = noncentral_bounds(lambda lam: float(special.ncfdtr(df1, df2, lam, f)), confidence)
    return lo / (lo + n), (hi / (hi + n) if math.isfinite(hi) else 1.0)
