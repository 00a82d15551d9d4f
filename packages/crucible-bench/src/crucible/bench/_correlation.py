"""Correlation tests: Pearson, Spearman and Kendall."""

from __future__ import annotations

import math

import numpy as np
import numpy.typing as npt
from scipy import stats

from crucible.bench._errors import DegenerateDataError
from crucible.bench._results import TestResult
from crucible.bench._validate import Alternative, as_enum, as_pair, check_alpha

__all__ = ["kendall", "pearson", "spearman"]


def _pair(
    a: npt.ArrayLike, b: npt.ArrayLike, nan_policy: str, min_n: int
) -> tuple[np.ndarray, np.ndarray]:
    x, y = as_pair(a, b, nan_policy=nan_policy, min_n=min_n)
    for name, v in (("a", x), ("b", y)):
        if np.ptp(v) == 0:
            raise DegenerateDataError(f"`{name}` is constant; a correlation is undefined")
    return x, y


def _fisher_ci(
    r: float, n: int, se: float, confidence: float, alt: Alternative
) -> tuple[float, float]:
    z = math.atanh(max(min(r, 1 - 1e-16), -1 + 1e-16))
    if alt is Alternative.TWO_SIDED:
        crit = float(stats.norm.ppf(0.5 + confidence / 2))
        return math.tanh(z - crit * se), math.tanh(z + crit * se)
    crit = float(stats.norm.ppf(confidence))
    if alt is Alternative.GREATER:
        return math.tanh(z - crit * se), 1.0
    return -1.0, math.tanh(z + crit * se)


def pearson(
    a: npt.ArrayLike,
    b: npt.ArrayLike,
    *,
    alternative: Alternative | str = Alternative.TWO_SIDED,
    confidence: float = 0.95,
    nan_policy: str = "raise",
) -> TestResult:
    """Pearson's product-moment correlation r with its t-test and Fisher-z CI.

    Notes
    -----
    t = r√((n-2)/(1-r²)) with n - 2 df; CI tanh(atanh r ± z/√(n-3)). Assumes bivariate
    normality for the exact test; measures linear association only.

    References
    ----------
    Pearson, K. (1895). Proc. Royal Society of London 58, 240–242. Fisher, R. A. (1915).
    Biometrika 10(4), 507–521.

    Validated against: scipy.stats.pearsonr (statistic, p-value, confidence_interval).

    Examples
    --------
    >>> round(pearson([1.0, 2.0, 3.0, 4.0, 5.0], [2.0, 1.0, 4.0, 3.0, 5.0]).estimate, 4)
    0.8
    """
    alt = as_enum(alternative, Alternative, "alternative")
    confidence = check_alpha(confidence, "confidence")
    x, y = _pair(a, b, nan_policy, 3)
    res = stats.pearsonr(x, y, alternative=alt.value)
    ci = res.confidence_interval(confidence)
    r = float(res.statistic)
    return TestResult(
        "Pearson correlation",
        r,
        float(res.pvalue),
        float(x.size - 2),
        math.nan,
        alt.value,
        x.size,
        "t",
        r,
        float(ci.low),
        float(ci.high),
        confidence,
        False,
        "estimate is r",
    )


def spearman(
    a: npt.ArrayLike,
    b: npt.ArrayLike,
    *,
    alternative: Alternative | str = Alternative.TWO_SIDED,
    confidence: float = 0.95,
    nan_policy: str = "raise",
) -> TestResult:
    """Spearman's rank correlation ρ with its t-approximation p-value and a Fisher-z CI.

    Notes
    -----
    ρ is Pearson's r of the ranks (average ranks for ties). p-value: t = ρ√((n-2)/(1-ρ²)),
    n - 2 df. CI: tanh(atanh ρ ± z·√(1.06/(n-3))) (Fieller, Hartley & Pearson 1957).

    References
    ----------
    Spearman, C. (1904). Am. J. Psychology 15(1), 72–101. Fieller, E. C., Hartley, H. O. &
    Pearson, E. S. (1957). Biometrika 44, 470–481.

    Validated against: scipy.stats.spearmanr; pingouin.corr(method="spearman") (CI).

    Examples
    --------
    >>> round(spearman([1.0, 2.0, 3.0, 4.0, 5.0], [2.0, 1.0, 4.0, 3.0, 5.0]).estimate, 4)
    0.8
    """
    alt = as_enum(alternative, Alternative, "alternative")
    confidence = check_alpha(confidence, "confidence")
    x, y = _pair(a, b, nan_policy, 4)
    res = stats.spearmanr(x, y, alternative=alt.value)
    rho = float(res.statistic)
    low, high = _fisher_ci(rho, x.size, math.sqrt(1.06 / (x.size - 3)), confidence, alt)
    return TestResult(
        "Spearman correlation",
        rho,
        float(res.pvalue),
        float(x.size - 2),
        math.nan,
        alt.value,
        x.size,
        "t",
        rho,
        low,
        high,
        confidence,
        False,
        "estimate is rho",
    )


def kendall(
    a: npt.ArrayLike,
    b: npt.ArrayLike,
    *,
    alternative: Alternative | str = Alternative.TWO_SIDED,
    method: str = "auto",
    confidence: float = 0.95,
    nan_policy: str = "raise",
) -> TestResult:
    """Kendall's τ-b rank correlation with its test and a Fisher-z CI.

    Notes
    -----
    τ-b = (C - D)/√((n₀ - n₁)(n₀ - n₂)) accounts for ties; p-value exact for small samples
    without ties, normal otherwise. CI: tanh(atanh τ ± z·√(0.437/(n-4))) (Fieller et al.
    1957).

    References
    ----------
    Kendall, M. G. (1938). Biometrika 30(1–2), 81–93. Fieller, Hartley & Pearson (1957).

    Validated against: scipy.stats.kendalltau.

    Examples
    --------
    >>> round(kendall([1.0, 2.0, 3.0, 4.0, 5.0], [2.0, 1.0, 4.0, 3.0, 5.0]).estimate, 4)
    0.6
    """
    alt = as_enum(alternative, Alternative, "alternative")
    confidence = check_alpha(confidence, "confidence")
    x, y = _pair(a, b, nan_policy, 5)
    res = stats.kendalltau(x, y, alternative=alt.value, method=method)
    tau = float(res.statistic)
    low, high = _fisher_ci(tau, x.size, math.sqrt(0.437 / (x.size - 4)), confidence, alt)
    return TestResult(
        "Kendall tau-b",
        tau,
        float(res.pvalue),
        math.nan,
        math.nan,
        alt.value,
        x.size,
        method,
        tau,
        low,
        high,
        confidence,
        False,
        "estimate is tau-b",
    )
