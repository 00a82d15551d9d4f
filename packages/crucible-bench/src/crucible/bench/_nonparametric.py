"""Rank-based tests: Mann–Whitney U, Wilcoxon signed-rank, Kruskal–Wallis, Friedman, and KS."""

from __future__ import annotations

import math

import numpy as np
import numpy.typing as npt
from scipy import stats

from crucible.bench._anova import Groups, _as_matrix, group_arrays
from crucible.bench._errors import BenchInputError, DegenerateDataError
from crucible.bench._rank_effect_size import rank_biserial
from crucible.bench._results import TestResult
from crucible.bench._validate import Alternative, as_array, as_enum, as_pair

__all__ = ["friedman", "kruskal", "ks_2samp", "mann_whitney", "wilcoxon"]

_METHODS = ("auto", "exact", "asymptotic")


def _check_method(method: str) -> str:
    if method not in _METHODS:
        raise BenchInputError(
            f"`method` must be one of {', '.join(map(repr, _METHODS))}; got {method!r}"
        )
    return method


def mann_whitney(
    a: npt.ArrayLike,
    b: npt.ArrayLike,
    *,
    alternative: Alternative | str = Alternative.TWO_SIDED,
    method: str = "auto",
    use_continuity: bool = True,
    confidence: float = 0.95,
    nan_policy: str = "raise",
) -> TestResult:
    """Mann–Whitney U test (Wilcoxon rank-sum) of two independent samples.

    Returns
    -------
    TestResult
        ``statistic`` is U of ``a``; ``estimate`` is the rank-biserial correlation (positive
        when ``a`` tends to be larger) with its Fisher-z CI.

    Notes
    -----
    U_a = R_a - n_a(n_a+1)/2. ``method="auto"`` is exact without ties for small samples,
    otherwise the normal approximation with tie correction (and continuity correction when
    ``use_continuity``). Tests P(A > B) = P(B > A) under exchangeability; a shift test only
    when the shapes are equal.

    References
    ----------
    Mann, H. B. & Whitney, D. R. (1947). Ann. Math. Statist. 18(1), 50–60.
    doi:10.1214/aoms/1177730491.

    Validated against: scipy.stats.mannwhitneyu (every method); pingouin.mwu (RBC).

    Examples
    --------
    >>> r = mann_whitney([1.1, 2.3, 3.5, 4.2, 5.9], [3.0, 4.4, 6.1, 7.7, 8.2])
    >>> r.statistic, round(r.p_value, 4)
    (4.0, 0.0952)
    """
    alt = as_enum(alternative, Alternative, "alternative")
    _check_method(method)
    x = as_array(a, "a", nan_policy=nan_policy, min_n=1)
    y = as_array(b, "b", nan_policy=nan_policy, min_n=1)
    if np.ptp(np.concatenate([x, y])) == 0:
        raise DegenerateDataError("`a` and `b` hold one single value; there is nothing to rank")
    res = stats.mannwhitneyu(
        x, y, alternative=alt.value, method=method, use_continuity=use_continuity
    )
    eff = rank_biserial(x, y, confidence=confidence)
    return TestResult(
        "Mann-Whitney U",
        float(res.statistic),
        float(res.pvalue),
        math.nan,
        math.nan,
        alt.value,
        x.size + y.size,
        method,
        eff.value,
        eff.ci_low,
        eff.ci_high,
        confidence,
        False,
        "estimate is the rank-biserial correlation",
    )


def wilcoxon(
    a: npt.ArrayLike,
    b: npt.ArrayLike | None = None,
    *,
    alternative: Alternative | str = Alternative.TWO_SIDED,
    method: str = "auto",
    zero_method: str = "wilcox",
    correction: bool = False,
    confidence: float = 0.95,
    nan_policy: str = "raise",
) -> TestResult:
    """Wilcoxon signed-rank test of paired samples (or of one sample of differences about 0).

    Parameters
    ----------
    zero_method
        ``wilcox`` drops zero differences (default), ``pratt`` ranks them then drops them,
        ``zsplit`` splits their ranks between the signs.

    Returns
    -------
    TestResult
        ``statistic`` is W = min(R⁺, R⁻) for two-sided tests (R⁺ otherwise), as scipy;
        ``estimate`` is the matched-pairs rank-biserial correlation with its CI.

    Notes
    -----
    Assumes the differences are symmetric about their median. ``method="auto"`` is exact for
    small samples without ties or zeros, otherwise the normal approximation.

    References
    ----------
    Wilcoxon, F. (1945). Individual comparisons by ranking methods. Biometrics Bulletin 1(6),
    80–83. doi:10.2307/3001968.

    Validated against: scipy.stats.wilcoxon; pingouin.wilcoxon (RBC).

    Examples
    --------
    >>> r = wilcoxon([1.8, 2.9, 3.4, 4.9, 5.3, 6.1], [1.1, 2.0, 3.6, 4.0, 4.2, 5.0])
    >>> r.statistic, round(r.p_value, 4)
    (1.0, 0.0625)
    """
    alt = as_enum(alternative, Alternative, "alternative")
    _check_method(method)
    if zero_method not in ("wilcox", "pratt", "zsplit"):
        raise BenchInputError(
            f"`zero_method` must be 'wilcox', 'pratt' or 'zsplit'; got {zero_method!r}"
        )
    if b is None:
        d = as_array(a, "a", nan_policy=nan_policy, min_n=1)
    else:
        x, y = as_pair(a, b, nan_policy=nan_policy, min_n=1)
        d = x - y
    if not (d != 0).any():
        raise DegenerateDataError("every difference is zero; the signed-rank test is undefined")
    res = stats.wilcoxon(
        d, alternative=alt.value, method=method, zero_method=zero_method, correction=correction
    )
    eff = rank_biserial(d, np.zeros_like(d), paired=True, confidence=confidence)
    return TestResult(
        "Wilcoxon signed-rank",
        float(res.statistic),
        float(res.pvalue),
        math.nan,
        math.nan,
        alt.value,
        d.size,
        method,
        eff.value,
        eff.ci_low,
        eff.ci_high,
        confidence,
        False,
        "estimate is the matched-pairs rank-biserial correlation",
    )


def kruskal(groups: Groups, *, nan_policy: str = "raise") -> TestResult:
    """Kruskal–Wallis H test of k independent samples.

    Returns
    -------
    TestResult
        H with k - 1 df (χ² approximation, tie-corrected); ``estimate`` is ε² = H/(N - 1).

    References
    ----------
    Kruskal, W. H. & Wallis, W. A. (1952). JASA 47(260), 583–621. Tomczak, M. & Tomczak, E.
    (2014). Trends in Sport Sciences 1(21), 19–25 (ε²).

    Validated against: scipy.stats.kruskal; pingouin.kruskal.

    Examples
    --------
    >>> r = kruskal([[1.0, 2.0, 3.0], [2.5, 3.5, 4.5], [5.0, 6.0, 7.0]])
    >>> round(r.statistic, 4)
    6.4889
    """
    _, arrays = group_arrays(groups, nan_policy, min_n=1)
    allx = np.concatenate(arrays)
    if np.ptp(allx) == 0:
        raise DegenerateDataError("every value in `groups` is equal; there is nothing to rank")
    res = stats.kruskal(*arrays)
    n = allx.size
    return TestResult(
        "Kruskal-Wallis H",
        float(res.statistic),
        float(res.pvalue),
        float(len(arrays) - 1),
        math.nan,
        "two-sided",
        n,
        "chi2",
        float(res.statistic) / (n - 1),
        math.nan,
        math.nan,
        math.nan,
        False,
        "estimate is epsilon squared",
    )


def friedman(data: npt.ArrayLike | Groups, *, nan_policy: str = "raise") -> TestResult:
    """Friedman test of k ≥ 3 related samples (subjects × conditions).

    Returns
    -------
    TestResult
        Friedman's χ² with k - 1 df (tie-corrected); ``estimate`` is Kendall's W =
        χ²/(n(k - 1)).

    References
    ----------
    Friedman, M. (1937). JASA 32(200), 675–701. doi:10.1080/01621459.1937.10503522.

    Validated against: scipy.stats.friedmanchisquare; pingouin.friedman (W).

    Examples
    --------
    >>> r = friedman([[1.0, 2.0, 3.0], [1.5, 2.5, 3.1], [2.0, 1.0, 3.5], [1.0, 2.2, 3.3]])
    >>> round(r.statistic, 2)
    2.79
    """
    m = _as_matrix(data, nan_policy)
    n, k = m.shape
    if k < 3:
        raise BenchInputError(
            f"`data` must have at least 3 conditions for Friedman's test, got {k}; use wilcoxon for 2"
        )
    if (np.ptp(m, axis=1) == 0).all():
        raise DegenerateDataError(
            "every subject has equal values in every condition; the test is undefined"
        )
    res = stats.friedmanchisquare(*m.T)
    w = float(res.statistic) / (n * (k - 1))
    return TestResult(
        "Friedman",
        float(res.statistic),
        float(res.pvalue),
        float(k - 1),
        math.nan,
        "two-sided",
        n,
        "chi2",
        w,
        math.nan,
        math.nan,
        math.nan,
        False,
        "estimate is Kendall's W",
    )


def ks_2samp(
    a: npt.ArrayLike,
    b: npt.ArrayLike,
    *,
    alternative: Alternative | str = Alternative.TWO_SIDED,
    method: str = "auto",
    nan_policy: str = "raise",
) -> TestResult:
    """Two-sample Kolmogorov–Smirnov test: do ``a`` and ``b`` come from one distribution?

    Notes
    -----
    D = sup |F_a(x) - F_b(x)|; exact p-value for small samples, asymptotic otherwise. Sensitive
    to any difference in distribution, most to differences near the median.

    References
    ----------
    Smirnov, N. (1948). Ann. Math. Statist. 19(2), 279–281. Hodges, J. L. (1958). Arkiv för
    Matematik 3, 469–486.

    Validated against: scipy.stats.ks_2samp.

    Examples
    --------
    >>> r = ks_2samp([1.0, 2.0, 3.0, 4.0], [5.0, 6.0, 7.0, 8.0])
    >>> r.statistic, round(r.p_value, 4)
    (1.0, 0.0286)
    """
    alt = as_enum(alternative, Alternative, "alternative")
    _check_method(method)
    x = as_array(a, "a", nan_policy=nan_policy, min_n=1)
    y = as_array(b, "b", nan_policy=nan_policy, min_n=1)
    res = stats.ks_2samp(x, y, alternative=alt.value, method=method)
    return TestResult(
        "Kolmogorov-Smirnov",
        float(res.statistic),
        float(res.pvalue),
        math.nan,
        math.nan,
        alt.value,
        x.size + y.size,
        method,
    )
