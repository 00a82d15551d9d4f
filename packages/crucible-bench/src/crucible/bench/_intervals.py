"""Analytic confidence intervals: the t interval of a mean and four intervals of a proportion."""

from __future__ import annotations

import math
from enum import StrEnum

import numpy.typing as npt
from scipy import stats

from crucible.bench._errors import BenchInputError
from crucible.bench._results import Interval
from crucible.bench._validate import as_array, as_enum, check_alpha

__all__ = ["ProportionMethod", "mean_ci", "proportion_ci"]


class ProportionMethod(StrEnum):
    """Confidence interval methods for a binomial proportion."""

    WILSON = "wilson"
    CLOPPER_PEARSON = "clopper-pearson"
    AGRESTI_COULL = "agresti-coull"
    JEFFREYS = "jeffreys"


def mean_ci(
    x: npt.ArrayLike,
    *,
    confidence: float = 0.95,
    nan_policy: str = "raise",
) -> Interval:
    """Student-t confidence interval of a mean.

    Notes
    -----
    mean ± t_{1-α/2, n-1} · s/√n, with s the sample standard deviation (ddof = 1). Exact for
    normal data, asymptotically valid otherwise (CLT). n = 1 gives no interval: the result has
    NaN bounds and a ``note`` saying why (never a zero-width interval).

    References
    ----------
    Student (1908). The probable error of a mean. Biometrika 6, 1–25.

    Validated against: scipy.stats.ttest_1samp(x, 0).confidence_interval().

    Examples
    --------
    >>> ci = mean_ci([1.0, 2.0, 3.0, 4.0])
    >>> round(ci.ci_low, 4), round(ci.ci_high, 4)
    (0.4457, 4.5543)
    """
    confidence = check_alpha(confidence, "confidence")
    arr = as_array(x, "x", nan_policy=nan_policy, min_n=1)
    n = arr.size
    mean = float(arr.mean())
    if n < 2:
        return Interval(
            mean,
            math.nan,
            math.nan,
            confidence,
            n,
            "t",
            math.nan,
            "n = 1: the standard error is undefined",
        )
    se = float(arr.std(ddof=1) / math.sqrt(n))
    crit = float(stats.t.ppf(0.5 + confidence / 2, n - 1))
    return Interval(mean, mean - crit * se, mean + crit * se, confidence, n, "t", se)


def proportion_ci(
    successes: int,
    n: int,
    *,
    method: ProportionMethod | str = ProportionMethod.WILSON,
    confidence: float = 0.95,
) -> Interval:
    """Confidence interval of a binomial proportion ``successes / n``.

    Parameters
    ----------
    method
        ``wilson`` (default; good coverage at every p), ``clopper-pearson`` (exact,
        conservative), ``agresti-coull`` or ``jeffreys`` (equal-tailed Beta(x+½, n-x+½)).

    Notes
    -----
    Wilson: (x + z²/2)/(n + z²) ± z/(n + z²)·√(x(n-x)/n + z²/4). Clopper–Pearson: Beta
    quantiles B(α/2; x, n-x+1), B(1-α/2; x+1, n-x). Agresti–Coull: Wald interval around
    p̃ = (x + z²/2)/(n + z²) with ñ = n + z², clipped to [0, 1]. Jeffreys: Beta(x+½, n-x+½)
    quantiles, with the lower bound 0 at x = 0 and the upper bound 1 at x = n.

    References
    ----------
    Brown, Cai & DasGupta (2001). Interval estimation for a binomial proportion. Statistical
    Science 16(2), 101–133. doi:10.1214/ss/1009213286.

    Validated against: statsmodels.stats.proportion.proportion_confint (methods "wilson",
    "beta", "agresti_coull", "jeffreys"; statsmodels does not apply Brown et al.'s boundary
    modification of Jeffreys at x = 0 and x = n, which we do).

    Examples
    --------
    >>> ci = proportion_ci(7, 10)
    >>> round(ci.ci_low, 4), round(ci.ci_high, 4)
    (0.3968, 0.8922)
    """
    kind = as_enum(method, ProportionMethod, "method")
    confidence = check_alpha(confidence, "confidence")
    if isinstance(n, bool) or not float(n).is_integer() or n < 1:
        raise BenchInputError(f"`n` must be a positive whole number of trials, got {n!r}")
    if isinstance(successes, bool) or not float(successes).is_integer() or not 0 <= successes <= n:
        raise BenchInputError(
            f"`successes` must be a whole number in [0, n={n}], got {successes!r}"
        )
    x, nn = float(successes), float(n)
    alpha = 1 - confidence
    z = float(stats.norm.ppf(1 - alpha / 2))
    p = x / nn
    if kind is ProportionMethod.WILSON:
        denom = nn + z * z
        center = (x + z * z / 2) / denom
        half = z / denom * math.sqrt(x * (nn - x) / nn + z * z / 4)
        # At x = 0 (x = n) the bound is exactly 0 (1); rounding would leave ±1e-18.
        low = 0.0 if x == 0 else max(0.0, center - half)
        high = 1.0 if x == nn else min(1.0, center + half)
    elif kind is ProportionMethod.CLOPPER_PEARSON:
        low = float(stats.beta.ppf(alpha / 2, x, nn - x + 1)) if x > 0 else 0.0
        high = float(stats.beta.ppf(1 - alpha / 2, x + 1, nn - x)) if x < nn else 1.0
    elif kind is ProportionMethod.AGRESTI_COULL:
        n_t = nn + z * z
        p_t = (x + z * z / 2) / n_t
        half = z * math.sqrt(p_t * (1 - p_t) / n_t)
        low, high = max(0.0, p_t - half), min(1.0, p_t + half)
    else:
        low = float(stats.beta.ppf(alpha / 2, x + 0.5, nn - x + 0.5)) if x > 0 else 0.0
        high = float(stats.beta.ppf(1 - alpha / 2, x + 0.5, nn - x + 0.5)) if x < nn else 1.0
    se = math.sqrt(p * (1 - p) / nn)
    return Interval(p, float(low), float(high), confidence, int(n), kind.value, se)
