"""Effect sizes with confidence intervals, and their magnitude in words."""

from __future__ import annotations

import math
from collections.abc import Callable

import numpy as np
import numpy.typing as npt
from scipy import optimize, special, stats

from crucible.bench._errors import BenchInputError, DegenerateDataError
from crucible.bench._results import EffectSize
from crucible.bench._validate import as_array, as_counts, as_pair, check_alpha

__all__ = [
    "cliffs_delta",
    "cohen_d",
    "cohen_h",
    "cramers_v",
    "glass_delta",
    "hedges_g",
    "interpret",
    "odds_ratio",
    "rank_biserial",
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


def _zcrit(confidence: float) -> float:
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
    crit = _zcrit(confidence)
    return make_effect(
        "glass_delta",
        delta,
        delta - crit * se,
        delta + crit * se,
        confidence,
        n1 + n2,
        "normal-approx",
    )


def _fisher_z_interval(r: float, se: float, confidence: float) -> tuple[float, float]:
    if abs(r) >= 1.0:
        return math.nan, math.nan  # atanh(±1) is infinite: no interval at complete separation
    z = math.atanh(r)
    crit = _zcrit(confidence)
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
    r = _dominance(x, y)[0]
    n1, n2 = x.size, y.size
    se = math.sqrt((n1 + n2 + 1) / (3 * n1 * n2))
    low, high = _fisher_z_interval(r, se, confidence)
    return make_effect("rank_biserial", r, low, high, confidence, n1 + n2, "fisher-z")


def _dominance(x: np.ndarray, y: np.ndarray) -> tuple[float, np.ndarray, np.ndarray, float]:
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
    delta, di, dj, ties = _dominance(x, y)
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
    s, z = math.sqrt(var), _zcrit(confidence)
    d2 = 1 - delta * delta
    root = z * s * math.sqrt(d2 * d2 + z * z * var)
    denom = d2 + z * z * var
    low = (delta - delta**3 - root) / denom
    high = (delta - delta**3 + root) / denom
    return make_effect(
        "cliffs_delta", delta, max(low, -1.0), min(high, 1.0), confidence, n1 + n2, "cliff-1993"
    )


def cohen_h(
    successes_a: int, n_a: int, successes_b: int, n_b: int, *, confidence: float = 0.95
) -> EffectSize:
    """Cohen's h = 2·asin√p_a - 2·asin√p_b for two proportions, with a normal CI.

    Notes
    -----
    The arcsine transform stabilises the variance: SE(h) = √(1/n_a + 1/n_b).

    References
    ----------
    Cohen, J. (1988). Statistical Power Analysis for the Behavioral Sciences, ch. 6.

    Validated against: statsmodels.stats.proportion.proportion_effectsize.

    Examples
    --------
    >>> round(cohen_h(60, 100, 45, 100).value, 4)
    0.3015
    """
    confidence = check_alpha(confidence, "confidence")
    counts = as_counts([successes_a, n_a, successes_b, n_b], "counts")
    if counts[1] < 1 or counts[3] < 1 or counts[0] > counts[1] or counts[2] > counts[3]:
        raise BenchInputError(
            "`successes_a`/`successes_b` must lie in [0, n] and `n_a`, `n_b` be >= 1"
        )
    pa, pb = counts[0] / counts[1], counts[2] / counts[3]
    h = float(2 * math.asin(math.sqrt(pa)) - 2 * math.asin(math.sqrt(pb)))
    se = math.sqrt(1 / counts[1] + 1 / counts[3])
    z = _zcrit(confidence)
    return make_effect(
        "cohen_h", h, h - z * se, h + z * se, confidence, int(counts[1] + counts[3]), "normal"
    )


def odds_ratio(table: npt.ArrayLike, *, confidence: float = 0.95) -> EffectSize:
    """Sample odds ratio (ad)/(bc) of a 2×2 table [[a, b], [c, d]] with Woolf's log CI.

    Notes
    -----
    CI: exp(log OR ± z·√(1/a + 1/b + 1/c + 1/d)). When a cell is zero, 0.5 is added to every
    cell first (Haldane–Anscombe) and ``method`` says so.

    References
    ----------
    Woolf, B. (1955). On estimating the relation between blood group and disease. Annals of
    Human Genetics 19, 251–253. Haldane, J. B. S. (1956). Annals of Human Genetics 20, 309–311.

    Validated against: scipy.stats.contingency.odds_ratio(kind="sample").confidence_interval.

    Examples
    --------
    >>> round(odds_ratio([[20, 10], [10, 20]]).value, 4)
    4.0
    """
    confidence = check_alpha(confidence, "confidence")
    t = as_counts(table, "table")
    if t.shape != (2, 2):
        raise BenchInputError(f"`table` must be 2×2, got shape {t.shape}")
    method = "woolf-log"
    if (t == 0).any():
        t = t + 0.5
        method = "woolf-log-haldane"
    (a, b), (c, d) = t
    value = float(a * d / (b * c))
    se = math.sqrt(1 / a + 1 / b + 1 / c + 1 / d)
    z = _zcrit(confidence)
    low, high = math.exp(math.log(value) - z * se), math.exp(math.log(value) + z * se)
    return make_effect("odds_ratio", value, low, high, confidence, round(t.sum()), method)


def _noncentral_bounds(cdf: Callable[[float], float], confidence: float) -> tuple[float, float]:
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
    lo, hi = _noncentral_bounds(lambda lam: float(special.ncfdtr(df1, df2, lam, f)), confidence)
    return lo / (lo + n), (hi / (hi + n) if math.isfinite(hi) else 1.0)


def cramers_v(table: npt.ArrayLike, *, confidence: float = 0.95) -> EffectSize:
    """Cramér's V = √(χ²/(n·(min(r, c) - 1))) of a contingency table, with a CI.

    Notes
    -----
    χ² is Pearson's statistic without continuity correction. CI: the noncentrality λ of a
    noncentral χ² is inverted at the observed χ², then V = √(λ/(n·(k - 1))) (Smithson 2003).

    References
    ----------
    Cramér, H. (1946). Mathematical Methods of Statistics. Smithson, M. (2003). Confidence
    Intervals. Sage.

    Validated against: scipy.stats.contingency.association(method="cramer").

    Examples
    --------
    >>> round(cramers_v([[20, 10], [10, 20]]).value, 4)
    0.3333
    """
    confidence = check_alpha(confidence, "confidence")
    t = as_counts(table, "table")
    if t.ndim != 2 or min(t.shape) < 2:
        raise BenchInputError(
            f"`table` must be 2-D with at least 2 rows and 2 columns, got shape {t.shape}"
        )
    if (t.sum(axis=0) == 0).any() or (t.sum(axis=1) == 0).any():
        raise DegenerateDataError(
            "`table` has an empty row or column; drop it before computing Cramér's V"
        )
    n = float(t.sum())
    chi2 = float(stats.chi2_contingency(t, correction=False)[0])
    k = min(t.shape) - 1
    dof = (t.shape[0] - 1) * (t.shape[1] - 1)
    v = math.sqrt(chi2 / (n * k))
    lo, hi = _noncentral_bounds(lambda lam: float(special.chndtr(chi2, dof, lam)), confidence)
    low = math.sqrt(lo / (n * k))
    high = min(1.0, math.sqrt(hi / (n * k))) if math.isfinite(hi) else 1.0
    return make_effect("cramers_v", v, low, high, confidence, int(n), "noncentral-chi2", df=k)
