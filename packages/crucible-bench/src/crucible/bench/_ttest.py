"""Student's and Welch's t-tests: one-sample, paired and two independent samples."""

from __future__ import annotations

import math

import numpy.typing as npt
from scipy import stats

from crucible.bench._errors import DegenerateDataError
from crucible.bench._results import TestResult
from crucible.bench._validate import Alternative, as_array, as_enum, as_pair, check_alpha

__all__ = ["ttest"]


def ttest(
    a: npt.ArrayLike,
    b: npt.ArrayLike | None = None,
    *,
    paired: bool = False,
    equal_var: bool = False,
    mu: float = 0.0,
    alternative: Alternative | str = Alternative.TWO_SIDED,
    confidence: float = 0.95,
    nan_policy: str = "raise",
) -> TestResult:
    """t-test of a mean (one sample), a mean difference (paired) or two means (independent).

    Parameters
    ----------
    b
        Second sample; omit it for a one-sample test of ``mean(a) == mu``.
    paired
        Test ``mean(a - b) == mu`` on paired observations (equal lengths).
    equal_var
        Independent samples only: ``False`` (default) is Welch's test, ``True`` Student's
        pooled-variance test. Welch's test keeps its level when variances differ and loses
        almost nothing when they do not, hence the default.

    Returns
    -------
    TestResult
        ``estimate`` is the mean (difference) with its t confidence interval (one-sided
        alternatives give a one-sided interval with an infinite bound).

    Raises
    ------
    DegenerateDataError
        When the sample(s) have zero variance (t is undefined).

    Notes
    -----
    t = (x̄ - μ)/(s/√n), df = n - 1 (one-sample, paired on differences); Student: pooled s,
    df = n₁ + n₂ - 2; Welch: SE = √(s₁²/n₁ + s₂²/n₂) with Welch–Satterthwaite df. Assumes
    independent observations and normal means (exact for normal data, CLT otherwise).

    References
    ----------
    Student (1908). Biometrika 6, 1–25. Welch, B. L. (1947). The generalization of
    "Student's" problem when several different population variances are involved. Biometrika
    34, 28–35. doi:10.1093/biomet/34.1-2.28.

    Validated against: scipy.stats.ttest_1samp, ttest_rel, ttest_ind (equal_var both ways).

    Examples
    --------
    >>> r = ttest([5.1, 4.9, 5.6, 5.8, 6.0], [4.1, 4.4, 5.0, 4.8, 4.2])
    >>> r.test, round(r.p_value, 4)
    ('Welch t-test', 0.0072)
    """
    alt = as_enum(alternative, Alternative, "alternative")
    confidence = check_alpha(confidence, "confidence")
    if b is None or paired:
        if b is None:
            x = as_array(a, "a", nan_policy=nan_policy, min_n=2)
            test = "one-sample t-test"
        else:
            xa, xb = as_pair(a, b, nan_policy=nan_policy)
            x = xa - xb
            test = "paired t-test"
        if x.std() == 0:
            raise DegenerateDataError(
                f"{'`a - b`' if paired else '`a`'} is constant; the t statistic is undefined"
            )
        res = stats.ttest_1samp(x, mu, alternative=alt.value)
        n = x.size
    else:
        xa = as_array(a, "a", nan_policy=nan_policy, min_n=2)
        xb = as_array(b, "b", nan_policy=nan_policy, min_n=2)
        if xa.std() == 0 and xb.std() == 0:
            raise DegenerateDataError("`a` and `b` are both constant; the t statistic is undefined")
        res = stats.ttest_ind(xa, xb, equal_var=equal_var, alternative=alt.value)
        test = "Student t-test" if equal_var else "Welch t-test"
        n = xa.size + xb.size
        x = xa
    ci = res.confidence_interval(confidence)
    estimate = float(x.mean()) if b is None or paired else float(xa.mean() - xb.mean())
    return TestResult(
        test=test,
        statistic=float(res.statistic),
        p_value=float(res.pvalue),
        df=float(res.df),
        df_denom=math.nan,
        alternative=alt.value,
        n=n,
        method="pooled" if equal_var and b is not None and not paired else "t",
        estimate=estimate,
        ci_low=float(ci.low),
        ci_high=float(ci.high),
        confidence=confidence,
    )
