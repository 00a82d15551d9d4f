"""One-way ANOVA (Fisher, Welch), repeated-measures ANOVA and their effect sizes."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np
import numpy.typing as npt
from scipy import stats

from crucible.bench._effect_size import make_effect, ncf_eta_interval
from crucible.bench._errors import BenchInputError, DegenerateDataError
from crucible.bench._results import EffectSize, TestResult
from crucible.bench._validate import as_array, as_groups, check_alpha

__all__ = [
    "anova",
    "eta_squared",
    "omega_squared",
    "partial_eta_squared",
    "rm_anova",
    "welch_anova",
]

Groups = Sequence[npt.ArrayLike] | Mapping[str, npt.ArrayLike]


def group_arrays(
    groups: Groups, nan_policy: str = "raise", min_n: int = 2
) -> tuple[list[str], list[np.ndarray]]:
    """Names and validated 1-D arrays of ``groups``."""
    names, raw = as_groups(groups)
    arrays = [
        as_array(g, f"groups[{name!r}]", nan_policy=nan_policy, min_n=min_n)
        for name, g in zip(names, raw, strict=True)
    ]
    return names, arrays


def _sums_of_squares(arrays: list[np.ndarray]) -> tuple[float, float, int, int]:
    allx = np.concatenate(arrays)
    grand = allx.mean()
    ss_between = float(sum(g.size * (g.mean() - grand) ** 2 for g in arrays))
    ss_within = float(sum(((g - g.mean()) ** 2).sum() for g in arrays))
    return ss_between, ss_within, len(arrays) - 1, allx.size - len(arrays)


def anova(groups: Groups, *, confidence: float = 0.95, nan_policy: str = "raise") -> TestResult:
    """Fisher's one-way ANOVA of k independent groups.

    Returns
    -------
    TestResult
        F with (k - 1, N - k) df; ``estimate`` is η² with its noncentral-F CI.

    Notes
    -----
    F = [SS_between/(k-1)] / [SS_within/(N-k)]. Assumes independent, normal groups with equal
    variances (use :func:`welch_anova` otherwise).

    References
    ----------
    Fisher, R. A. (1925). Statistical Methods for Research Workers. Steiger, J. H. (2004).
    Beyond the F test. Psychological Methods 9(2), 164–182. doi:10.1037/1082-989X.9.2.164.

    Validated against: scipy.stats.f_oneway; pingouin.anova (F, p-unc, np2).

    Examples
    --------
    >>> r = anova([[1.0, 2.0, 3.0], [2.0, 3.0, 4.0], [5.0, 6.0, 7.0]])
    >>> round(r.statistic, 4), round(r.p_value, 5)
    (13.0, 0.00659)
    """
    confidence = check_alpha(confidence, "confidence")
    _, arrays = group_arrays(groups, nan_policy)
    ssb, ssw, df1, df2 = _sums_of_squares(arrays)
    if ssw == 0:
        raise DegenerateDataError("every group in `groups` is constant; F is undefined")
    # F from the sums of squares already at hand (what scipy.stats.f_oneway computes, without
    # its per-call overhead).
    f = (ssb / df1) / (ssw / df2)
    eta = ssb / (ssb + ssw)
    low, high = ncf_eta_interval(f, df1, df2, df1 + df2 + 1, confidence)
    return TestResult(
        "one-way ANOVA",
        f,
        float(stats.f.sf(f, df1, df2)),
        float(df1),
        float(df2),
        "two-sided",
        df1 + df2 + 1,
        "fisher",
        eta,
        low,
        high,
        confidence,
        False,
        "estimate is eta squared",
    )


def welch_anova(
    groups: Groups, *, confidence: float = 0.95, nan_policy: str = "raise"
) -> TestResult:
    """Welch's one-way ANOVA: k independent groups, variances allowed to differ.

    Returns
    -------
    TestResult
        Welch's F with (k - 1, ν) df; ``estimate`` is η² with a noncentral-F CI evaluated at
        Welch's F and df.

    Notes
    -----
    Weights wᵢ = nᵢ/sᵢ²; F = [Σwᵢ(x̄ᵢ - x̄_w)²/(k-1)] / [1 + 2(k-2)/(k²-1)·Λ], with
    Λ = Σ(1 - wᵢ/Σw)²/(nᵢ - 1), ν = (k² - 1)/(3Λ). Assumes normal groups.

    References
    ----------
    Welch, B. L. (1951). On the comparison of several mean values: an alternative approach.
    Biometrika 38, 330–336. doi:10.1093/biomet/38.3-4.330.

    Validated against: scipy.stats.f_oneway(equal_var=False); pingouin.welch_anova.

    Examples
    --------
    >>> r = welch_anova([[1.0, 2.0, 3.0], [2.0, 3.0, 4.5], [5.0, 6.0, 9.0]])
    >>> round(r.p_value, 4)
    0.0817
    """
    confidence = check_alpha(confidence, "confidence")
    _, arrays = group_arrays(groups, nan_policy)
    if any(np.ptp(g) == 0 for g in arrays):
        raise DegenerateDataError(
            "a group in `groups` is constant; Welch's weights n/s² are undefined"
        )
    k = len(arrays)
    sizes = np.array([g.size for g in arrays], dtype=np.float64)
    means = np.array([g.mean() for g in arrays])
    w = sizes / np.array([g.var(ddof=1) for g in arrays])
    mean_w = float((w * means).sum() / w.sum())
    lam = float((((1 - w / w.sum()) ** 2) / (sizes - 1)).sum())
    f = float((w * (means - mean_w) ** 2).sum() / (k - 1)) / (1 + 2 * (k - 2) / (k * k - 1) * lam)
    df1, df2 = float(k - 1), (k * k - 1) / (3 * lam)
    p = float(stats.f.sf(f, df1, df2))
    ssb, ssw, _, _ = _sums_of_squares(arrays)
    n = sum(g.size for g in arrays)
    low, high = ncf_eta_interval(f, df1, df2, n, confidence)
    return TestResult(
        "Welch ANOVA",
        f,
        p,
        df1,
        df2,
        "two-sided",
        n,
        "welch",
        ssb / (ssb + ssw),
        low,
        high,
        confidence,
        False,
        "estimate is eta squared",
    )


def _as_matrix(data: npt.ArrayLike | Groups, nan_policy: str) -> np.ndarray:
    """Subjects × conditions matrix from a 2-D array or a list/mapping of equal-length columns."""
    if isinstance(data, Mapping) or (
        isinstance(data, Sequence) and not isinstance(data, np.ndarray)
    ):
        _names, raw = as_groups(data)
        lengths = {len(np.asarray(r)) for r in raw}
        if len(lengths) != 1:
            raise BenchInputError(
                f"repeated measures need equal-length groups (one value per subject), got lengths {sorted(lengths)}"
            )
        matrix = np.column_stack([np.asarray(r, dtype=np.float64) for r in raw])
    else:
        matrix = np.asarray(data, dtype=np.float64)
    m = as_array(matrix, "data", ndim=2, min_n=2)
    if m.shape[1] < 2:
        raise BenchInputError(f"`data` must have at least 2 conditions (columns), got {m.shape[1]}")
    if nan_policy == "omit":
        m = m[~np.isnan(m).any(axis=1)]
    return m


def rm_anova(
    data: npt.ArrayLike | Groups,
    *,
    sphericity_correction: bool = False,
    confidence: float = 0.95,
    nan_policy: str = "raise",
) -> TestResult:
    """One-way repeated-measures ANOVA on a subjects × conditions matrix.

    Parameters
    ----------
    data
        A 2-D array (rows = subjects or items, columns = conditions), or equal-length groups.
    sphericity_correction
        Apply the Greenhouse–Geisser correction (df and p-value scaled by ε̂).

    Returns
    -------
    TestResult
        F with (k - 1, (k - 1)(n - 1)) df (times ε̂ when corrected); ``estimate`` is partial
        η² = SS_conditions/(SS_conditions + SS_error) with a noncentral-F CI.

    Notes
    -----
    SS_error = SS_total - SS_subjects - SS_conditions. ε̂ = tr(S̃)²/((k-1)·tr(S̃²)) with S̃ the
    double-centred covariance of the conditions. Complete cases only.

    References
    ----------
    Greenhouse, S. W. & Geisser, S. (1959). On methods in the analysis of profile data.
    Psychometrika 24, 95–112. doi:10.1007/BF02289823.

    Validated against: pingouin.rm_anova (F, p-unc, p-GG-corr, eps, np2).

    Examples
    --------
    >>> r = rm_anova([[1.0, 2.0, 4.0], [2.0, 2.5, 5.0], [1.5, 3.5, 4.0], [2.0, 3.0, 6.0]])
    >>> round(r.statistic, 3)
    2.787
    """
    confidence = check_alpha(confidence, "confidence")
    m = _as_matrix(data, nan_policy)
    n, k = m.shape
    grand = m.mean()
    ss_cond = n * float(((m.mean(axis=0) - grand) ** 2).sum())
    ss_subj = k * float(((m.mean(axis=1) - grand) ** 2).sum())
    ss_err = float(((m - grand) ** 2).sum()) - ss_cond - ss_subj
    if ss_err <= 1e-14 * max(ss_cond, 1.0):
        raise DegenerateDataError(
            "`data` has no residual variation (conditions differ by constants); F is undefined"
        )
    df1, df2 = k - 1, (k - 1) * (n - 1)
    f = (ss_cond / df1) / (ss_err / df2)
    eps = 1.0
    if sphericity_correction:
        cov = np.cov(m, rowvar=False)
        centred = cov - cov.mean(axis=0) - cov.mean(axis=1)[:, None] + cov.mean()
        eps = float(np.trace(centred) ** 2 / ((k - 1) * np.sum(centred * centred)))
    p = float(stats.f.sf(f, df1 * eps, df2 * eps))
    np2 = ss_cond / (ss_cond + ss_err)
    low, high = ncf_eta_interval(f, df1, df2, df1 + df2 + 1, confidence)
    note = "estimate is partial eta squared"
    if sphericity_correction:
        note += f"; Greenhouse–Geisser epsilon = {eps:.6g}"
    return TestResult(
        "repeated-measures ANOVA",
        f,
        p,
        df1 * eps,
        df2 * eps,
        "two-sided",
        n,
        "greenhouse-geisser" if sphericity_correction else "uncorrected",
        np2,
        low,
        high,
        confidence,
        False,
        note,
    )


def eta_squared(
    groups: Groups, *, confidence: float = 0.95, nan_policy: str = "raise"
) -> EffectSize:
    """η² = SS_between/SS_total of a one-way design, with a noncentral-F CI (Steiger 2004).

    Validated against: pingouin.anova(effsize="n2").

    Examples
    --------
    >>> round(eta_squared([[1.0, 2.0, 3.0], [2.0, 3.0, 4.0], [5.0, 6.0, 7.0]]).value, 4)
    0.8125
    """
    r = anova(groups, confidence=confidence, nan_policy=nan_policy)
    return make_effect(
        "eta_squared", r.estimate, r.ci_low, r.ci_high, confidence, r.n, "noncentral-F"
    )


def omega_squared(
    groups: Groups, *, confidence: float = 0.95, nan_policy: str = "raise"
) -> EffectSize:
    """ω² = (SS_b - (k-1)·MS_w)/(SS_t + MS_w): a less biased η² for one-way designs.

    Notes
    -----
    The CI is the noncentral-F interval of the population η² (= population ω²), Steiger (2004).

    References
    ----------
    Hays, W. L. (1963). Statistics for Psychologists. Olejnik, S. & Algina, J. (2003).
    Psychological Methods 8(4), 434–447.

    Validated against: the formula evaluated with numpy from scipy's F.

    Examples
    --------
    >>> round(omega_squared([[1.0, 2.0, 3.0], [2.0, 3.0, 4.0], [5.0, 6.0, 7.0]]).value, 4)
    0.7273
    """
    confidence = check_alpha(confidence, "confidence")
    _, arrays = group_arrays(groups, nan_policy)
    ssb, ssw, df1, df2 = _sums_of_squares(arrays)
    msw = ssw / df2
    if ssw == 0:
        raise DegenerateDataError("every group in `groups` is constant; omega squared is undefined")
    value = (ssb - df1 * msw) / (ssb + ssw + msw)
    f = (ssb / df1) / msw
    low, high = ncf_eta_interval(f, df1, df2, df1 + df2 + 1, confidence)
    return make_effect("omega_squared", value, low, high, confidence, df1 + df2 + 1, "noncentral-F")


def partial_eta_squared(
    data: npt.ArrayLike | Groups, *, confidence: float = 0.95, nan_policy: str = "raise"
) -> EffectSize:
    """Partial η² of the condition effect in a subjects × conditions design.

    Validated against: pingouin.rm_anova(effsize="np2").

    Examples
    --------
    >>> data = [[1.0, 2.0, 4.0], [2.0, 2.5, 5.0], [1.5, 3.5, 4.0], [2.0, 3.0, 6.0]]
    >>> round(partial_eta_squared(data).value, 4)
    0.5822
    """
    r = rm_anova(data, confidence=confidence, nan_policy=nan_policy)
    return make_effect(
        "partial_eta_squared", r.estimate, r.ci_low, r.ci_high, confidence, r.n, "noncentral-F"
    )
