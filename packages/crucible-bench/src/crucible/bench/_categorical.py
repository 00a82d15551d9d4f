"""Tests for counts and proportions: χ², Fisher, McNemar, Cochran's Q and the z-test."""

from __future__ import annotations

import math
from enum import StrEnum

import numpy as np
import numpy.typing as npt
from scipy import stats

from crucible.bench._anova import Groups, _as_matrix
from crucible.bench._errors import BenchInputError, DegenerateDataError
from crucible.bench._results import TestResult
from crucible.bench._table_effect_size import cramers_v
from crucible.bench._validate import Alternative, as_counts, as_enum, as_pair, check_alpha

__all__ = [
    "McNemarMethod",
    "chi2_contingency",
    "cochran_q",
    "fisher_exact",
    "mcnemar",
    "proportions_ztest",
]


class McNemarMethod(StrEnum):
    """How McNemar's p-value is computed."""

    EXACT = "exact"
    MID_P = "mid-p"
    ASYMPTOTIC = "asymptotic"


def _table(table: npt.ArrayLike, shape: tuple[int, int] | None = None) -> np.ndarray:
    t = as_counts(table, "table")
    if t.ndim != 2 or min(t.shape) < 2 or (shape is not None and t.shape != shape):
        want = "2×2" if shape == (2, 2) else "2-D with at least 2 rows and 2 columns"
        raise BenchInputError(f"`table` must be {want}, got shape {t.shape}")
    return t


def chi2_contingency(
    table: npt.ArrayLike, *, correction: bool = True, confidence: float = 0.95
) -> TestResult:
    """Pearson's χ² test of independence of a contingency table.

    Parameters
    ----------
    correction
        Yates' continuity correction, applied to 2×2 tables only (scipy's convention).

    Returns
    -------
    TestResult
        χ² with (r-1)(c-1) df; ``estimate`` is Cramér's V (uncorrected χ²) with its CI.

    Notes
    -----
    χ² = Σ (O - E)²/E with E from the margins. The χ² approximation wants expected counts of
    at least 5; use :func:`fisher_exact` for small 2×2 tables. Empty rows or columns raise.

    References
    ----------
    Pearson, K. (1900). Philosophical Magazine 50(302), 157–175. Yates, F. (1934). JRSS
    Suppl. 1(2), 217–235.

    Validated against: scipy.stats.chi2_contingency.

    Examples
    --------
    >>> r = chi2_contingency([[20, 10], [10, 20]], correction=False)
    >>> round(r.statistic, 4), round(r.p_value, 5)
    (6.6667, 0.00982)
    """
    t = _table(table)
    if (t.sum(axis=0) == 0).any() or (t.sum(axis=1) == 0).any():
        raise DegenerateDataError(
            "`table` has an empty row or column; expected counts of 0 make χ² undefined"
        )
    res = stats.chi2_contingency(t, correction=correction)
    v = cramers_v(t, confidence=confidence)
    return TestResult(
        "chi-squared test",
        float(res.statistic),
        float(res.pvalue),
        float(res.dof),
        math.nan,
        "two-sided",
        int(t.sum()),
        "yates" if correction and t.shape == (2, 2) else "pearson",
        v.value,
        v.ci_low,
        v.ci_high,
        confidence,
        False,
        "estimate is Cramér's V",
    )


def fisher_exact(
    table: npt.ArrayLike,
    *,
    alternative: Alternative | str = Alternative.TWO_SIDED,
    confidence: float = 0.95,
) -> TestResult:
    """Fisher's exact test of a 2×2 table.

    Returns
    -------
    TestResult
        ``statistic`` is the sample odds ratio (ad)/(bc) (scipy's convention); ``estimate`` is
        the conditional maximum-likelihood odds ratio with its exact CI.

    Notes
    -----
    Conditions on both margins; the p-value sums hypergeometric probabilities no larger than
    the observed one (two-sided). Exact at any sample size; conservative.

    References
    ----------
    Fisher, R. A. (1935). The logic of inductive inference. JRSS 98(1), 39–82.

    Validated against: scipy.stats.fisher_exact; scipy.stats.contingency.odds_ratio.

    Examples
    --------
    >>> r = fisher_exact([[8, 2], [1, 5]])
    >>> round(r.p_value, 4)
    0.035
    """
    alt = as_enum(alternative, Alternative, "alternative")
    confidence = check_alpha(confidence, "confidence")
    t = _table(table, (2, 2))
    res = stats.fisher_exact(t, alternative=alt.value)
    degenerate = bool((t.sum(axis=0) == 0).any() or (t.sum(axis=1) == 0).any())
    if degenerate:
        return TestResult(
            "Fisher exact test",
            math.nan,
            1.0,
            math.nan,
            math.nan,
            alt.value,
            int(t.sum()),
            "exact",
            math.nan,
            math.nan,
            math.nan,
            confidence,
            True,
            "an empty row or column: the table carries no information about association",
        )
    odds = stats.contingency.odds_ratio(t.astype(np.int64), kind="conditional")
    ci = odds.confidence_interval(confidence, alternative=alt.value)
    return TestResult(
        "Fisher exact test",
        float(res.statistic),
        float(res.pvalue),
        math.nan,
        math.nan,
        alt.value,
        int(t.sum()),
        "exact",
        float(odds.statistic),
        float(ci.low),
        float(ci.high),
        confidence,
        False,
        "estimate is the conditional MLE odds ratio",
    )


def paired_table(a: npt.ArrayLike, b: npt.ArrayLike, nan_policy: str = "raise") -> np.ndarray:
    """2×2 table of paired binary outcomes: rows are ``a`` (0, 1), columns ``b`` (0, 1)."""
    x, y = as_pair(a, b, nan_policy=nan_policy, min_n=1)
    for name, v in (("a", x), ("b", y)):
        if not np.isin(v, (0.0, 1.0)).all():
            raise BenchInputError(f"`{name}` must hold binary outcomes (0/1 or booleans)")
    t = np.zeros((2, 2))
    np.add.at(t, (x.astype(np.intp), y.astype(np.intp)), 1.0)
    return t


def mcnemar(
    a: npt.ArrayLike,
    b: npt.ArrayLike | None = None,
    *,
    method: McNemarMethod | str = McNemarMethod.EXACT,
    correction: bool = True,
    confidence: float = 0.95,
    nan_policy: str = "raise",
) -> TestResult:
    """McNemar's test of paired proportions: did the success rate change between ``a`` and ``b``?

    Parameters
    ----------
    a, b
        Either a 2×2 table ``[[n00, n01], [n10, n11]]`` (rows: outcome under a; columns: under
        b) as ``a`` alone, or two paired binary vectors.
    method
        ``exact`` (binomial test on the discordant pairs), ``mid-p`` (exact minus half the
        probability of the observed split; closer to nominal, Fagerland et al. 2013) or
        ``asymptotic`` (χ² with 1 df, Edwards' continuity correction when ``correction``).

    Returns
    -------
    TestResult
        ``statistic``: min(n01, n10) for the exact methods, χ² for the asymptotic one;
        ``estimate``: p_a - p_b = (n10 - n01)/n with its Wald CI. With no discordant pairs
        the result is flagged ``degenerate`` with p = 1.

    References
    ----------
    McNemar, Q. (1947). Psychometrika 12(2), 153–157. doi:10.1007/BF02295996. Fagerland, M.
    W., Lydersen, S. & Laake, P. (2013). BMC Medical Research Methodology 13, 91.

    Validated against: statsmodels.stats.contingency_tables.mcnemar (exact, and asymptotic
    with and without correction); mid-p from scipy.stats.binom.

    Examples
    --------
    >>> r = mcnemar([[30, 4], [12, 54]])
    >>> round(r.p_value, 4)
    0.0768
    """
    kind = as_enum(method, McNemarMethod, "method")
    confidence = check_alpha(confidence, "confidence")
    t = _table(a, (2, 2)) if b is None else paired_table(a, b, nan_policy)
    n01, n10 = float(t[0, 1]), float(t[1, 0])
    n, disc = float(t.sum()), n01 + n10
    diff = (n10 - n01) / n
    label = {"exact": "exact", "mid-p": "mid-p", "asymptotic": "asymptotic"}[kind.value]
    if kind is McNemarMethod.ASYMPTOTIC and correction:
        label = "asymptotic-corrected"
    if disc == 0:
        return TestResult(
            "McNemar",
            0.0,
            1.0,
            math.nan,
            math.nan,
            "two-sided",
            int(n),
            label,
            0.0,
            math.nan,
            math.nan,
            confidence,
            True,
            "no discordant pairs: the test has no information",
        )
    if kind is McNemarMethod.ASYMPTOTIC:
        stat = (max(abs(n10 - n01) - (1.0 if correction else 0.0), 0.0)) ** 2 / disc
        p, df = float(stats.chi2.sf(stat, 1)), 1.0
    else:
        stat, df = min(n01, n10), math.nan
        p = min(1.0, 2 * float(stats.binom.cdf(stat, disc, 0.5)))
        if kind is McNemarMethod.MID_P:
            p = min(1.0, p - float(stats.binom.pmf(stat, disc, 0.5)))
    se = math.sqrt(max(disc - (n10 - n01) ** 2 / n, 0.0)) / n
    z = float(stats.norm.ppf(0.5 + confidence / 2))
    return TestResult(
        "McNemar",
        stat,
        p,
        df,
        math.nan,
        "two-sided",
        int(n),
        label,
        diff,
        diff - z * se,
        diff + z * se,
        confidence,
        False,
        "estimate is p_a - p_b",
    )


def cochran_q(data: npt.ArrayLike | Groups, *, nan_policy: str = "raise") -> TestResult:
    """Cochran's Q test: do k related binary outcomes share one success rate?

    Parameters
    ----------
    data
        Subjects × conditions matrix of 0/1 (or equal-length binary groups).

    Notes
    -----
    Q = (k-1)[kΣC_j² - T²] / (kT - ΣR_i²), χ² with k - 1 df, with C_j column totals, R_i row
    totals, T the grand total. Rows that are all 0 or all 1 carry no information. For k = 2 it
    equals McNemar's uncorrected χ². If every row is constant the result is degenerate (p = 1).

    References
    ----------
    Cochran, W. G. (1950). The comparison of percentages in matched samples. Biometrika 37,
    256–266. doi:10.1093/biomet/37.3-4.256.

    Validated against: statsmodels.stats.contingency_tables.cochrans_q; pingouin.cochran.

    Examples
    --------
    >>> data = [[1, 1, 0], [1, 0, 0], [1, 1, 1], [0, 0, 0], [1, 0, 0], [1, 1, 0]]
    >>> round(cochran_q(data).statistic, 4)
    8.6842
    """
    m = _as_matrix(data, nan_policy)
    if not np.isin(m, (0.0, 1.0)).all():
        raise BenchInputError("`data` must hold binary outcomes (0/1 or booleans)")
    n, k = m.shape
    cols, rows = m.sum(axis=0), m.sum(axis=1)
    total = float(m.sum())
    denom = k * total - float((rows**2).sum())
    if denom == 0:
        return TestResult(
            "Cochran Q",
            0.0,
            1.0,
            float(k - 1),
            math.nan,
            "two-sided",
            n,
            "chi2",
            degenerate=True,
            note="every subject has the same outcome in every condition",
        )
    q = (k - 1) * (k * float((cols**2).sum()) - total**2) / denom
    return TestResult(
        "Cochran Q",
        q,
        float(stats.chi2.sf(q, k - 1)),
        float(k - 1),
        math.nan,
        "two-sided",
        n,
        "chi2",
    )


def proportions_ztest(
    successes: int | npt.ArrayLike,
    n: int | npt.ArrayLike,
    *,
    value: float | None = None,
    alternative: Alternative | str = Alternative.TWO_SIDED,
    confidence: float = 0.95,
) -> TestResult:
    """z-test of one proportion against ``value`` or of two proportions against each other.

    Parameters
    ----------
    successes, n
        Scalars (one sample, needs ``value``) or length-2 sequences (two samples).

    Returns
    -------
    TestResult
        ``estimate`` is p (one sample) or p₁ - p₂ with an unpooled Wald CI.

    Notes
    -----
    One sample: z = (p̂ - p₀)/√(p₀(1-p₀)/n) (score test). Two samples: z = (p̂₁ - p̂₂)/
    √(p̄(1-p̄)(1/n₁ + 1/n₂)) with the pooled p̄ (equivalent to the uncorrected 2×2 χ²).
    When all or none are successes the statistic is undefined: degenerate, p = 1.

    References
    ----------
    Agresti, A. (2013). Categorical Data Analysis, 3rd ed., §1.4 and §3.1.

    Validated against: statsmodels.stats.proportion.proportions_ztest (one sample with
    ``prop_var=value``; two samples pooled).

    Examples
    --------
    >>> r = proportions_ztest([60, 45], [100, 100])
    >>> round(r.statistic, 4)
    2.124
    """
    alt = as_enum(alternative, Alternative, "alternative")
    confidence = check_alpha(confidence, "confidence")
    x = as_counts(np.atleast_1d(successes), "successes")
    nn = as_counts(np.atleast_1d(n), "n")
    if x.shape != nn.shape or x.size not in (1, 2):
        raise BenchInputError("`successes` and `n` must both be scalars or both have length 2")
    if (nn < 1).any() or (x > nn).any():
        raise BenchInputError("each `n` must be >= 1 and each `successes` <= its `n`")
    p = x / nn
    z_crit = float(stats.norm.ppf(0.5 + confidence / 2))
    if x.size == 1:
        if value is None:
            raise BenchInputError("`value` (the null proportion) is required for one sample")
        p0 = check_alpha(value, "value")
        se0 = math.sqrt(p0 * (1 - p0) / nn[0])
        est, se_est, total = float(p[0]), math.sqrt(p[0] * (1 - p[0]) / nn[0]), int(nn[0])
        z = (est - p0) / se0
    else:
        pooled = float(x.sum() / nn.sum())
        est = float(p[0] - p[1])
        se_est = math.sqrt(float((p * (1 - p) / nn).sum()))
        total = int(nn.sum())
        if pooled in (0.0, 1.0):
            return TestResult(
                "z-test for proportions",
                math.nan,
                1.0,
                math.nan,
                math.nan,
                alt.value,
                total,
                "pooled",
                est,
                math.nan,
                math.nan,
                confidence,
                True,
                "all outcomes equal: the pooled variance is zero",
            )
        z = est / math.sqrt(pooled * (1 - pooled) * float((1 / nn).sum()))
    if alt is Alternative.TWO_SIDED:
        pval = 2 * float(stats.norm.sf(abs(z)))
    elif alt is Alternative.GREATER:
        pval = float(stats.norm.sf(z))
    else:
        pval = float(stats.norm.cdf(z))
    return TestResult(
        "z-test for proportions",
        z,
        pval,
        math.nan,
        math.nan,
        alt.value,
        total,
        "score" if x.size == 1 else "pooled",
        est,
        est - z_crit * se_est,
        est + z_crit * se_est,
        confidence,
    )
