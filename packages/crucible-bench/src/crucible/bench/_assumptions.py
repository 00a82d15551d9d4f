"""Assumption checks: normality (Shapiro–Wilk, D'Agostino–Pearson) and equal variances."""

from __future__ import annotations

import math

import numpy as np
import numpy.typing as npt
from scipy import stats

from crucible.bench._anova import Groups, group_arrays
from crucible.bench._errors import BenchInputError, DegenerateDataError
from crucible.bench._results import AssumptionCheck, TestResult
from crucible.bench._validate import as_array, check_alpha

__all__ = ["check_equal_variance", "check_normality", "check_sphericity", "levene", "shapiro"]

# Shapiro–Wilk's p-value approximation (Royston 1995) is validated up to n = 5000; above
# that D'Agostino–Pearson's K² (which needs n >= 20 for its kurtosis test) takes over.
_SHAPIRO_MAX_N = 5000


def shapiro(x: npt.ArrayLike, *, nan_policy: str = "raise") -> TestResult:
    """Shapiro–Wilk test of normality.

    Notes
    -----
    W is the squared correlation between the ordered sample and expected normal order
    statistics; small W (small p) rejects normality. Needs 3 <= n; p-values are Royston's
    (1995) approximation, accurate up to n = 5000.

    References
    ----------
    Shapiro, S. S. & Wilk, M. B. (1965). Biometrika 52(3–4), 591–611.
    doi:10.1093/biomet/52.3-4.591. Royston, P. (1995). Applied Statistics 44(4), 547–551.

    Validated against: scipy.stats.shapiro.

    Examples
    --------
    >>> r = shapiro([2.1, 3.4, 1.9, 4.2, 3.3, 2.8, 3.0, 2.5])
    >>> round(r.statistic, 4)
    0.9742
    """
    arr = as_array(x, "x", nan_policy=nan_policy, min_n=3)
    if np.ptp(arr) == 0:
        raise DegenerateDataError("`x` is constant; normality cannot be tested")
    res = stats.shapiro(arr)
    return TestResult(
        "Shapiro-Wilk",
        float(res.statistic),
        float(res.pvalue),
        math.nan,
        math.nan,
        "two-sided",
        arr.size,
        "royston",
    )


def levene(groups: Groups, *, center: str = "median", nan_policy: str = "raise") -> TestResult:
    """Levene's test of equal variances; ``center="median"`` is the Brown–Forsythe variant.

    Notes
    -----
    A one-way ANOVA on |x - center(group)|. The median centre (default) is robust to
    non-normal data; ``"mean"`` is Levene's original, ``"trimmed"`` a 10% trimmed mean.

    References
    ----------
    Levene, H. (1960). In Contributions to Probability and Statistics, 278–292. Brown, M. B.
    & Forsythe, A. B. (1974). JASA 69(346), 364–367. doi:10.1080/01621459.1974.10482955.

    Validated against: scipy.stats.levene (center "median" and "mean").

    Examples
    --------
    >>> r = levene([[1.0, 2.0, 3.0, 4.0], [1.0, 3.0, 5.0, 9.0]])
    >>> round(r.p_value, 4)
    0.1843
    """
    if center not in ("median", "mean", "trimmed"):
        raise BenchInputError(f"`center` must be 'median', 'mean' or 'trimmed'; got {center!r}")
    _, arrays = group_arrays(groups, nan_policy)
    if all(np.ptp(g) == 0 for g in arrays):
        raise DegenerateDataError(
            "every group in `groups` is constant; equal variance cannot be tested"
        )
    res = stats.levene(*arrays, center=center)
    n = sum(g.size for g in arrays)
    name = "Brown-Forsythe" if center == "median" else "Levene"
    return TestResult(
        name,
        float(res.statistic),
        float(res.pvalue),
        float(len(arrays) - 1),
        float(n - len(arrays)),
        "two-sided",
        n,
        center,
    )


def check_normality(x: np.ndarray, name: str, alpha: float) -> AssumptionCheck:
    """Normality check for ``compare``: Shapiro–Wilk up to n = 5000, D'Agostino K² above."""
    alpha = check_alpha(alpha)
    if x.size < 3:
        return AssumptionCheck(
            f"normality of {name}",
            "none",
            math.nan,
            math.nan,
            False,
            f"n = {x.size} is too small to test normality",
        )
    if np.ptp(x) == 0:
        return AssumptionCheck(
            f"normality of {name}", "none", math.nan, math.nan, False, "constant data"
        )
    if x.size <= _SHAPIRO_MAX_N:
        res = stats.shapiro(x)
        test = "Shapiro-Wilk"
    else:
        res = stats.normaltest(x)
        test = "D'Agostino-Pearson"
    p = float(res.pvalue)
    passed = p > alpha
    verdict = "normality not rejected" if passed else "normality rejected"
    return AssumptionCheck(f"normality of {name}", test, float(res.statistic), p, passed, verdict)


def check_equal_variance(arrays: list[np.ndarray], alpha: float) -> AssumptionCheck:
    """Brown–Forsythe check of equal variances for ``compare``."""
    if all(np.ptp(g) == 0 for g in arrays):
        return AssumptionCheck(
            "equal variances", "none", math.nan, math.nan, False, "constant data"
        )
    res = stats.levene(*arrays, center="median")
    p = float(res.pvalue)
    passed = p > alpha
    verdict = "equal variances not rejected" if passed else "variances differ"
    return AssumptionCheck(
        "equal variances", "Brown-Forsythe", float(res.statistic), p, passed, verdict
    )


def check_sphericity(matrix: np.ndarray, alpha: float) -> AssumptionCheck:
    """Mauchly's test of sphericity (via pingouin) for a subjects × conditions matrix.

    Reported with the repeated-measures ANOVA, whose p-value ``compare_many`` always
    Greenhouse–Geisser corrects; with two conditions sphericity holds trivially.
    """
    if matrix.shape[1] < 3:
        return AssumptionCheck(
            "sphericity",
            "none",
            math.nan,
            math.nan,
            True,
            "two conditions: sphericity holds trivially",
        )
    import pandas as pd  # pingouin's own dependency; imported lazily like pingouin
    import pingouin

    res = pingouin.sphericity(pd.DataFrame(matrix))
    p = float(res.pval)
    passed = p > alpha
    verdict = (
        "sphericity not rejected"
        if passed
        else "sphericity rejected (Greenhouse-Geisser correction applied)"
    )
    return AssumptionCheck("sphericity", "Mauchly", float(res.W), p, passed, verdict)
