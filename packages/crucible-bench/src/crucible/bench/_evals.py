"""Paired comparison of two systems scored on the same eval items (Miller 2024)."""

from __future__ import annotations

import math

import attrs
import numpy as np
import numpy.typing as npt
from scipy import stats

from crucible.bench._errors import BenchInputError, DegenerateDataError
from crucible.bench._results import ResultMixin, fmt, fmt_p
from crucible.bench._validate import Alternative, NanPolicy, as_enum, check_alpha

__all__ = ["EvalComparison", "EvalSampleSize", "compare_evals", "eval_sample_size"]


@attrs.frozen
class EvalComparison(ResultMixin):
    """Paired difference ``mean(a) - mean(b)`` of two systems on the same items.

    ``se`` is the standard error used for the test and CI (cluster-robust when ``clusters``
    were given); ``se_naive`` ignores clusters; ``se_unpaired`` is the SE had the two systems
    been run on different items; ``variance_reduction`` = 1 - se²/se_unpaired², the share of
    variance removed by pairing (equals the correlation when both systems have equal variance).
    """

    estimate: float
    se: float
    ci_low: float
    ci_high: float
    confidence: float
    statistic: float
    df: float
    p_value: float
    alternative: str
    n_items: int
    n_clusters: int
    n_repeats: tuple[int, int]
    mean_a: float
    mean_b: float
    correlation: float
    se_naive: float
    se_unpaired: float
    variance_reduction: float
    method: str

    def __str__(self) -> str:
        pct = f"{self.confidence * 100:g}%"
        clusters = f", {self.n_clusters} clusters" if self.n_clusters else ""
        return (
            f"mean(a) - mean(b) = {fmt(self.estimate)} ± {fmt(self.se)} (SE) "
            f"[{pct} CI {fmt(self.ci_low)}, {fmt(self.ci_high)}], {fmt_p(self.p_value)} "
            f"({self.n_items} items{clusters}); correlation {fmt(self.correlation)}, pairing "
            f"removes {fmt(100 * self.variance_reduction)}% of the variance"
        )


def _item_means(x: npt.ArrayLike, name: str, policy: NanPolicy) -> tuple[np.ndarray, int]:
    try:
        arr = np.asarray(x, dtype=np.float64)
    except (TypeError, ValueError):
        raise BenchInputError(f"`{name}` must be numeric scores") from None
    if arr.ndim not in (1, 2) or arr.size == 0:
        raise BenchInputError(
            f"`{name}` must be a non-empty 1-D (items) or 2-D (items × repeats) array, got shape {arr.shape}"
        )
    if np.isinf(arr).any():
        raise BenchInputError(f"`{name}` contains infinite values; pass finite scores")
    if np.isnan(arr).any() and policy is NanPolicy.RAISE:
        raise BenchInputError(f"`{name}` contains NaN; remove it or pass nan_policy='omit'")
    if arr.ndim == 1:
        return arr, 1
    with np.errstate(invalid="ignore", divide="ignore"):
        counts = (~np.isnan(arr)).sum(axis=1)
        means = np.where(counts > 0, np.nansum(arr, axis=1) / np.maximum(counts, 1), np.nan)
    return means, arr.shape[1]


def _cluster_se(e: np.ndarray, inverse: np.ndarray | None) -> tuple[float, float]:
    """Miller's SE (naive and clustered) of the mean of ``e``'s underlying scores."""
    n = e.size
    centred = e - e.mean()
    naive = math.sqrt(float(centred @ centred) / (n - 1) / n)
    if inverse is None:
        return naive, naive
    sums = np.bincount(inverse, weights=centred)
    cross = float(sums @ sums) - float(centred @ centred)
    var = naive * naive + cross / (n * n)
    return naive, math.sqrt(max(var, 0.0))


def compare_evals(
    scores_a: npt.ArrayLike,
    scores_b: npt.ArrayLike,
    *,
    clusters: npt.ArrayLike | None = None,
    confidence: float = 0.95,
    alternative: Alternative | str = Alternative.TWO_SIDED,
    nan_policy: str = "raise",
) -> EvalComparison:
    """Paired comparison of two systems scored on the same items, with error bars done right.

    Parameters
    ----------
    scores_a, scores_b
        Per-item scores (binary or continuous), 1-D with one score per item, or 2-D items ×
        repeats (several samples per item): repeats are averaged within the item first.
        Row i of both is the same item.
    clusters
        One label per item (passage, subject, source document). Items in a cluster are not
        independent; the SE becomes cluster-robust and the test uses G - 1 df.

    Returns
    -------
    EvalComparison

    Raises
    ------
    BenchInputError
        Different numbers of items, NaN (unless ``nan_policy="omit"``), fewer than 2 items,
        fewer than 2 clusters.
    DegenerateDataError
        When every paired difference is equal (the SE would be zero).

    Notes
    -----
    With dᵢ = aᵢ - bᵢ: estimate d̄, SE² = s_d²/n (Miller 2024, eq. 6 applied to differences,
    which is his eq. 9 for paired data: Var(a) + Var(b) - 2Cov(a, b)). Clustered:
    SE² = s_d²/n + (1/n²)Σ_c Σ_{i≠j∈c} (dᵢ - d̄)(dⱼ - d̄) (Miller eq. 4). The statistic
    d̄/SE is referred to Student's t with n - 1 df (G - 1 with clusters; Cameron & Miller
    2015). Averaging repeats within items removes within-item sampling noise from the
    comparison (Miller §4). Items with NaN in either system are dropped under
    ``nan_policy="omit"``.

    References
    ----------
    Miller, E. (2024). Adding Error Bars to Evals: A Statistical Approach to Language Model
    Evaluations. arXiv:2411.00640. Cameron, A. C. & Miller, D. L. (2015). A practitioner's
    guide to cluster-robust inference. J. Human Resources 50(2), 317–372.

    Validated against: scipy.stats.ttest_rel (no clusters: identical t and p);
    statsmodels OLS ``cov_type="cluster"`` without small-sample correction (the clustered
    variance equals it plus s_d²/n - Σ(dᵢ - d̄)²/n²).

    Examples
    --------
    >>> r = compare_evals([1, 1, 0, 1, 1, 0, 1, 1], [1, 0, 0, 1, 0, 0, 1, 0])
    >>> round(r.estimate, 3), r.n_items
    (0.375, 8)
    """
    confidence = check_alpha(confidence, "confidence")
    alt = as_enum(alternative, Alternative, "alternative")
    policy = as_enum(nan_policy, NanPolicy, "nan_policy")
    a, ka = _item_means(scores_a, "scores_a", policy)
    b, kb = _item_means(scores_b, "scores_b", policy)
    if a.size != b.size:
        raise BenchInputError(
            f"`scores_a` and `scores_b` must score the same items: got {a.size} and {b.size} items"
        )
    keep = ~(np.isnan(a) | np.isnan(b))
    labels = None
    if clusters is not None:
        labels = np.asarray(clusters)
        if labels.ndim != 1 or labels.size != keep.size:
            raise BenchInputError(
                f"`clusters` must hold one label per item ({keep.size}), got shape {labels.shape}"
            )
        labels = labels[keep]
    a, b = a[keep], b[keep]
    n = a.size
    if n < 2:
        raise BenchInputError(
            f"`scores_a`/`scores_b` have {n} complete item(s); at least 2 are needed"
        )
    d = a - b
    if np.ptp(d) == 0:
        raise DegenerateDataError(
            "every paired difference is identical, so the standard error is zero; more items "
            "(or items where the systems disagree) are needed"
        )
    inverse = None
    g = 0
    if labels is not None:
        _, inverse = np.unique(labels, return_inverse=True)
        g = int(inverse.max()) + 1
        if g < 2:
            raise BenchInputError("`clusters` must contain at least 2 distinct clusters")
    naive, se = _cluster_se(d, inverse)
    _, se_a = _cluster_se(a, inverse) if np.ptp(a) > 0 else (0.0, 0.0)
    _, se_b = _cluster_se(b, inverse) if np.ptp(b) > 0 else (0.0, 0.0)
    se_unpaired = math.sqrt(se_a**2 + se_b**2)
    df = float(g - 1 if g else n - 1)
    est = float(d.mean())
    t = est / se
    if alt is Alternative.TWO_SIDED:
        p = 2 * float(stats.t.sf(abs(t), df))
        crit = float(stats.t.ppf(0.5 + confidence / 2, df))
        low, high = est - crit * se, est + crit * se
    else:
        crit = float(stats.t.ppf(confidence, df))
        if alt is Alternative.GREATER:
            p, low, high = float(stats.t.sf(t, df)), est - crit * se, math.inf
        else:
            p, low, high = float(stats.t.cdf(t, df)), -math.inf, est + crit * se
    corr = float(np.corrcoef(a, b)[0, 1]) if np.ptp(a) > 0 and np.ptp(b) > 0 else math.nan
    reduction = 1 - se**2 / se_unpaired**2 if se_unpaired > 0 else math.nan
    method = "paired-clustered" if g else "paired"
    return EvalComparison(
        est,
        se,
        low,
        high,
        confidence,
        t,
        df,
        p,
        alt.value,
        n,
        g,
        (ka, kb),
        float(a.mean()),
        float(b.mean()),
        corr,
        naive,
        se_unpaired,
        reduction,
        method,
    )


@attrs.frozen
class EvalSampleSize(ResultMixin):
    """Items needed to detect ``delta``: ``n_items`` for the chosen design, and both designs."""

    n_items: int
    n_paired: int
    n_unpaired: int
    delta: float
    sd_a: float
    sd_b: float
    correlation: float
    alpha: float
    power: float
    paired: bool
    alternative: str
    design_effect: float
    method: str

    def __str__(self) -> str:
        design = "paired" if self.paired else "unpaired"
        return (
            f"{self.n_items} items ({design}) to detect a difference of {fmt(self.delta)} with "
            f"power {fmt(self.power)} at alpha = {fmt(self.alpha)}; paired {self.n_paired} vs "
            f"unpaired {self.n_unpaired}"
        )


def eval_sample_size(
    delta: float | None = None,
    *,
    sd: float | None = None,
    p_a: float | None = None,
    p_b: float | None = None,
    correlation: float = 0.0,
    alpha: float = 0.05,
    power: float = 0.8,
    paired: bool = True,
    alternative: Alternative | str = Alternative.TWO_SIDED,
    design_effect: float = 1.0,
) -> EvalSampleSize:
    """How many eval items are needed to detect a difference ``delta`` between two systems.

    Parameters
    ----------
    delta
        The difference in mean score to detect. With ``p_a``/``p_b`` it defaults to
        ``p_a - p_b``.
    sd
        Standard deviation of one item's score (continuous scores; the same for both systems).
    p_a, p_b
        Accuracies of the two systems (binary scores): σ² = p(1 - p).
    correlation
        Correlation between the two systems' per-item scores (paired designs only; 0.3–0.6 is
        typical of LLMs on a shared benchmark).
    design_effect
        Multiplier for clustered items (1 + (m - 1)·ICC for clusters of size m).

    Notes
    -----
    Miller (2024, eq. 11 and §5): n = (z_{1-α/2} + z_{1-β})² (σ_a² + σ_b² - 2ρσ_aσ_b)/δ²,
    with ρ = 0 for the unpaired design (then n items per system), times ``design_effect``,
    rounded up. A normal approximation: accurate once n is a few dozen.

    References
    ----------
    Miller, E. (2024). Adding Error Bars to Evals. arXiv:2411.00640.

    Validated against: statsmodels NormalIndPower / NormalPower with the same σ (the formula
    inverted), and by simulation in benchmarks/calibration.py.

    Examples
    --------
    >>> eval_sample_size(p_a=0.80, p_b=0.75, correlation=0.5).n_items
    548
    """
    alpha = check_alpha(alpha)
    target = check_alpha(power, "power")
    alt = as_enum(alternative, Alternative, "alternative")
    if not -1 < correlation < 1:
        raise BenchInputError(f"`correlation` must be in (-1, 1), got {correlation!r}")
    if not paired and correlation != 0:
        raise BenchInputError(
            "`correlation` applies to paired designs; pass paired=True or correlation=0"
        )
    if not (design_effect >= 1 and math.isfinite(design_effect)):
        raise BenchInputError(f"`design_effect` must be >= 1, got {design_effect!r}")
    if (p_a is None) != (p_b is None):
        raise BenchInputError("pass both `p_a` and `p_b`, or neither")
    if p_a is not None and p_b is not None:
        if sd is not None:
            raise BenchInputError(
                "pass either `sd` (continuous scores) or `p_a`/`p_b` (binary), not both"
            )
        pa, pb = check_alpha(p_a, "p_a"), check_alpha(p_b, "p_b")
        sd_a, sd_b = math.sqrt(pa * (1 - pa)), math.sqrt(pb * (1 - pb))
        if delta is None:
            delta = pa - pb
    elif sd is not None:
        if not (sd > 0 and math.isfinite(sd)):
            raise BenchInputError(f"`sd` must be a positive number, got {sd!r}")
        sd_a = sd_b = float(sd)
    else:
        raise BenchInputError("pass `sd` (continuous scores) or `p_a` and `p_b` (binary scores)")
    if delta is None or delta == 0 or not math.isfinite(delta):
        raise BenchInputError(f"`delta` must be a non-zero difference, got {delta!r}")
    z_a = float(stats.norm.isf(alpha / 2 if alt is Alternative.TWO_SIDED else alpha))
    z_b = float(stats.norm.ppf(target))
    factor = (z_a + z_b) ** 2 / delta**2 * design_effect
    var_paired = sd_a**2 + sd_b**2 - 2 * correlation * sd_a * sd_b
    var_unpaired = sd_a**2 + sd_b**2
    n_paired = math.ceil(factor * var_paired - 1e-9)
    n_unpaired = math.ceil(factor * var_unpaired - 1e-9)
    return EvalSampleSize(
        n_paired if paired else n_unpaired,
        n_paired,
        n_unpaired,
        float(delta),
        sd_a,
        sd_b,
        float(correlation),
        alpha,
        target,
        paired,
        alt.value,
        float(design_effect),
        "normal-approximation (Miller 2024)",
    )
