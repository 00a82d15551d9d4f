"""Effect sizes of proportions and tables: Cohen's h, the odds ratio and Cramér's V."""

from __future__ import annotations

import math

import numpy.typing as npt
from scipy import special, stats

from crucible.bench._effect_size import make_effect, noncentral_bounds, zcrit
from crucible.bench._errors import BenchInputError, DegenerateDataError
from crucible.bench._results import EffectSize
from crucible.bench._validate import as_counts, check_alpha

__all__ = ["cohen_h", "cramers_v", "odds_ratio"]


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
    z = zcrit(confidence)
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
    z = zcrit(confidence)
    low, high = math.exp(math.log(value) - z * se), math.exp(math.log(value) + z * se)
    return make_effect("odds_ratio", value, low, high, confidence, round(t.sum()), method)


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
    lo, hi = noncentral_bounds(lambda lam: float(special.chndtr(chi2, dof, lam)), confidence)
    low = math.sqrt(lo / (n * k))
    high = min(1.0, math.sqrt(hi / (n * k))) if math.isfinite(hi) else 1.0
    return make_effect("cramers_v", v, low, high, confidence, int(n), "noncentral-chi2", df=k)
