"""Two conditions on one metric: the test the design calls for, its effect size and power.

Paired whenever the conditions were run on the same items (never an unpaired test on paired
data); unpaired only when they share fewer than two items. The chosen test and the reason are
part of the result.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from typing import Any

import attrs
import numpy as np
import polars as pl

from crucible.harness._metrics import Metric, MetricKind, item_matrix

__all__ = ["ConditionComparison", "Omnibus", "compare_pair", "omnibus"]

NAN = math.nan
TARGET_POWER = 0.8


@attrs.frozen
class ConditionComparison:
    """``a`` against ``b`` on one metric; ``estimate`` is ``mean(a) - mean(b)``.

    Attributes:
        design: ``paired`` (same items) or ``unpaired``.
        test: the test used; ``reason`` says why it was chosen.
        n: items compared (paired) or items per condition summed (unpaired).
        n_clusters: clusters for cluster-robust errors (0 without).
        p_adjusted: the p-value adjusted for the comparisons of this metric (equal to
            ``p_value`` with two conditions).
        effect_name / effect / effect_ci_*: a standardised effect with its CI (d_z for paired
            designs, Hedges' g or Cohen's h for unpaired ones).
        power: achieved power for the observed effect at ``alpha``; ``mde``: the smallest
            difference (in the metric's units) detectable with 80% power at this sample size;
            ``recommended_n``: items needed for 80% power at the observed effect (NaN when
            already powered or the effect is zero).
    """

    metric: str
    a: str
    b: str
    design: str
    test: str
    reason: str
    n: int
    n_clusters: int
    mean_a: float
    mean_b: float
    estimate: float
    ci_low: float
    ci_high: float
    confidence: float
    statistic: float
    df: float
    p_value: float
    p_adjusted: float
    effect_name: str
    effect: float
    effect_ci_low: float
    effect_ci_high: float
    effect_interpretation: str
    power: float
    mde: float
    recommended_n: float
    normality_p: float = NAN
    note: str = ""

    def to_dict(self) -> dict[str, Any]:
        return attrs.asdict(self)

    def __str__(self) -> str:
        return (
            f"{self.metric}: {self.a} - {self.b} = {self.estimate:.4g} "
            f"[{self.confidence:.0%} CI {self.ci_low:.4g}, {self.ci_high:.4g}], "
            f"{self.test}, p = {self.p_value:.3g} (adjusted {self.p_adjusted:.3g}), {self.design}"
        )


@attrs.frozen
class Omnibus:
    """A test of "all conditions equal" on one metric, run before pairwise comparisons."""

    metric: str
    test: str
    reason: str
    statistic: float
    df: float
    p_value: float
    n: int
    k: int

    def to_dict(self) -> dict[str, Any]:
        return attrs.asdict(self)


def _rows_with_values(*matrices: np.ndarray) -> np.ndarray:
    keep = np.ones(matrices[0].shape[0], dtype=bool)
    for m in matrices:
        keep &= np.any(~np.isnan(m), axis=1)
    return keep


def _means(matrix: np.ndarray) -> np.ndarray:
    return np.asarray(np.nanmean(matrix, axis=1), dtype=float)


def _effect_paired(
    ma: np.ndarray, mb: np.ndarray, confidence: float
) -> tuple[str, float, float, float, str]:
    from crucible.bench import BenchError, cohen_d

    try:
        es = cohen_d(ma, mb, paired=True, confidence=confidence)
    except BenchError:
        return "d_z", NAN, NAN, NAN, "undefined (no variation in the differences)"
    return "d_z", es.value, es.ci_low, es.ci_high, es.interpretation


def _power_paired(d: float, n: int, sd_diff: float, alpha: float) -> tuple[float, float, float]:
    from crucible.bench import BenchError, mde, power, sample_size

    try:
        floor = mde("paired-t", n=n, alpha=alpha, power=TARGET_POWER).effect * sd_diff
    except BenchError:
        floor = NAN
    if not math.isfinite(d) or d == 0:
        return NAN, floor, NAN
    try:
        achieved = power("paired-t", effect=abs(d), n=n, alpha=alpha).power
        needed = (
            sample_size("paired-t", effect=abs(d), alpha=alpha, power=TARGET_POWER).n
            if achieved < TARGET_POWER
            else NAN
        )
    except BenchError:
        return NAN, floor, NAN
    return achieved, floor, needed


def _power_mcnemar(shift: float, n: int, disc: float, alpha: float) -> tuple[float, float, float]:
    """Power, MDE and needed pairs for McNemar (Connor 1987 via crucible.bench); NaN where
    the discordant share cannot reach the target power at any shift."""
    from crucible.bench import BenchError, mde, power, sample_size

    achieved, floor, needed = NAN, NAN, NAN
    try:
        floor = mde("mcnemar", n=n, alpha=alpha, discordant=disc).effect
    except BenchError:
        floor = NAN
    if shift > 0:
        try:
            achieved = power("mcnemar", effect=shift, n=n, alpha=alpha, discordant=disc).power
            if achieved < TARGET_POWER:
                needed = sample_size("mcnemar", effect=shift, alpha=alpha, discordant=disc).n
        except BenchError:
            needed = NAN
    return achieved, floor, needed


def _paired(
    metric: Metric,
    a: str,
    b: str,
    mat_a: np.ndarray,
    mat_b: np.ndarray,
    clusters: Sequence[str] | None,
    cluster_field: str | None,
    confidence: float,
    alpha: float,
) -> ConditionComparison:
    from crucible.bench import (
        BenchError,
        DegenerateDataError,
        compare_evals,
        mcnemar,
        shapiro,
        ttest,
        wilcoxon,
    )

    ma, mb = _means(mat_a), _means(mat_b)
    diff = ma - mb
    n = len(diff)
    one_repeat = mat_a.shape[1] == 1 and mat_b.shape[1] == 1
    sd_diff = float(np.std(diff, ddof=1)) if n > 1 else NAN
    common: dict[str, Any] = {
        "metric": metric.name,
        "a": a,
        "b": b,
        "design": "paired",
        "n": n,
        "mean_a": float(np.mean(ma)),
        "mean_b": float(np.mean(mb)),
        "confidence": confidence,
        "p_adjusted": NAN,
    }
    effect = _effect_paired(ma, mb, confidence)
    normal_p = NAN
    if n >= 3 and sd_diff > 0:
        try:
            normal_p = shapiro(diff).p_value
        except BenchError:
            normal_p = NAN
    n_clusters = len(set(clusters)) if clusters is not None else 0
    pairing = f"both conditions ran on the same {n} items"
    if n_clusters >= 2 and clusters is not None:
        reason = (
            f"{pairing}; items are grouped by {cluster_field!r} ({n_clusters} clusters), so "
            "the paired difference gets a cluster-robust standard error"
            + ("; repeats averaged within item" if not one_repeat else "")
        )
        test_name = "paired difference, cluster-robust SE (Miller 2024)"
        use_evals = True
    elif metric.kind is MetricKind.BINARY and one_repeat:
        reason = f"{pairing}, one binary outcome per item: McNemar's exact test"
        test_name = "McNemar exact"
        use_evals = False
    elif metric.kind is MetricKind.BINARY:
        reason = (
            f"{pairing}, {mat_a.shape[1]} repeats averaged within item: paired difference of "
            "item means"
        )
        test_name = "paired difference of item means (Miller 2024)"
        use_evals = True
    else:
        use_evals = False
        if math.isfinite(normal_p) and normal_p < alpha:
            test_name = "Wilcoxon signed-rank"
            reason = (
                f"{pairing}; the paired differences are not normal (Shapiro-Wilk p = "
                f"{normal_p:.3g}): Wilcoxon signed-rank test"
            )
        else:
            test_name = "paired t"
            reason = f"{pairing}; paired differences compatible with normality: paired t-test"
            if math.isfinite(normal_p):
                reason += f" (Shapiro-Wilk p = {normal_p:.3g})"
    try:
        if use_evals:
            ev = compare_evals(
                mat_a,
                mat_b,
                clusters=clusters if n_clusters >= 2 else None,
                confidence=confidence,
                nan_policy="omit",
            )
            stats = (ev.estimate, ev.ci_low, ev.ci_high, ev.statistic, ev.df, ev.p_value)
            achieved, floor, needed = _power_paired(effect[1], n, sd_diff, alpha)
        elif test_name == "McNemar exact":
            res = mcnemar(ma.astype(int), mb.astype(int), confidence=confidence)
            stats = (res.estimate, res.ci_low, res.ci_high, res.statistic, res.df, res.p_value)
            n01 = int(np.sum((ma == 0) & (mb == 1)))
            n10 = int(np.sum((ma == 1) & (mb == 0)))
            disc = (n01 + n10) / n
            achieved, floor, needed = NAN, NAN, NAN
            if disc > 0:
                achieved, floor, needed = _power_mcnemar(abs(n10 - n01) / n, n, disc, alpha)
        else:
            t = ttest(ma, mb, paired=True, confidence=confidence)
            chosen = t if test_name == "paired t" else wilcoxon(ma, mb)
            stats = (t.estimate, t.ci_low, t.ci_high, chosen.statistic, chosen.df, chosen.p_value)
            achieved, floor, needed = _power_paired(effect[1], n, sd_diff, alpha)
        note = ""
    except DegenerateDataError as exc:
        d = float(np.mean(diff))
        stats = (d, d, d, NAN, NAN, 1.0 if d == 0 else NAN)
        achieved, floor, needed = NAN, NAN, NAN
        note = f"every paired difference is {d:.4g}: {exc}"
    return ConditionComparison(
        **common,
        test=test_name,
        reason=reason,
        n_clusters=n_clusters if n_clusters >= 2 else 0,
        estimate=float(stats[0]),
        ci_low=float(stats[1]),
        ci_high=float(stats[2]),
        statistic=float(stats[3]),
        df=float(stats[4]),
        p_value=float(stats[5]),
        effect_name=effect[0],
        effect=effect[1],
        effect_ci_low=effect[2],
        effect_ci_high=effect[3],
        effect_interpretation=effect[4],
        power=achieved,
        mde=floor,
        recommended_n=needed,
        normality_p=normal_p,
        note=note,
    )


def _unpaired(
    metric: Metric,
    a: str,
    b: str,
    mat_a: np.ndarray,
    mat_b: np.ndarray,
    confidence: float,
    alpha: float,
) -> ConditionComparison:
    from crucible.bench import BenchError, cohen_h, hedges_g, mde, power, sample_size, ttest

    ma = _means(mat_a[np.any(~np.isnan(mat_a), axis=1)])
    mb = _means(mat_b[np.any(~np.isnan(mat_b), axis=1)])
    reason = (
        f"the conditions share no items ({len(ma)} and {len(mb)} items): an unpaired test "
        "on item means"
    )
    t = ttest(ma, mb, confidence=confidence)
    binary = metric.kind is MetricKind.BINARY and mat_a.shape[1] == 1 and mat_b.shape[1] == 1
    try:
        if binary:
            es = cohen_h(int(ma.sum()), len(ma), int(mb.sum()), len(mb), confidence=confidence)
            design = "two-proportions"
        else:
            es = hedges_g(ma, mb, confidence=confidence)
            design = "two-sample-t"
        effect = (es.name, es.value, es.ci_low, es.ci_high, es.interpretation)
    except BenchError:
        effect = ("Hedges' g", NAN, NAN, NAN, "undefined")
        design = "two-sample-t"
    ratio = len(mb) / len(ma)
    achieved, floor, needed = NAN, NAN, NAN
    try:
        floor = mde(design, n=len(ma), ratio=ratio, alpha=alpha).effect
        if math.isfinite(effect[1]) and effect[1] != 0:
            achieved = power(
                design, effect=abs(effect[1]), n=len(ma), ratio=ratio, alpha=alpha
            ).power
            if achieved < TARGET_POWER:
                needed = sample_size(design, effect=abs(effect[1]), alpha=alpha, ratio=ratio).n
    except BenchError:
        pass
    if binary:
        from crucible.bench import proportions_ztest

        z = proportions_ztest(
            [int(ma.sum()), int(mb.sum())], [len(ma), len(mb)], confidence=confidence
        )
        test_name = "two-proportion z-test"
        reason += ", one binary outcome per item: two-proportion z-test"
        stats = (z.estimate, z.ci_low, z.ci_high, z.statistic, z.df, z.p_value)
    else:
        test_name = "Welch t"
        reason += ": Welch's t-test (unequal variances allowed)"
        stats = (t.estimate, t.ci_low, t.ci_high, t.statistic, t.df, t.p_value)
    return ConditionComparison(
        metric=metric.name,
        a=a,
        b=b,
        design="unpaired",
        test=test_name,
        reason=reason,
        n=len(ma) + len(mb),
        n_clusters=0,
        mean_a=float(np.mean(ma)),
        mean_b=float(np.mean(mb)),
        estimate=float(stats[0]),
        ci_low=float(stats[1]),
        ci_high=float(stats[2]),
        confidence=confidence,
        statistic=float(stats[3]),
        df=float(stats[4]),
        p_value=float(stats[5]),
        p_adjusted=NAN,
        effect_name=effect[0],
        effect=effect[1],
        effect_ci_low=effect[2],
        effect_ci_high=effect[3],
        effect_interpretation=effect[4],
        power=achieved,
        mde=floor,
        recommended_n=needed,
        note="effect size and MDE in standardised units",
    )


def compare_pair(
    trials_a: pl.DataFrame,
    trials_b: pl.DataFrame,
    metric: Metric,
    a: str,
    b: str,
    *,
    clusters: Mapping[str, str] | None = None,
    cluster_field: str | None = None,
    confidence: float = 0.95,
    alpha: float = 0.05,
) -> ConditionComparison:
    """Compare condition ``a`` of ``trials_a`` with condition ``b`` of ``trials_b``."""
    items = sorted(
        set(trials_a.filter(pl.col("condition") == a)["item_id"].to_list())
        | set(trials_b.filter(pl.col("condition") == b)["item_id"].to_list())
    )
    mat_a = item_matrix(trials_a, metric, a, items)
    mat_b = item_matrix(trials_b, metric, b, items)
    keep = _rows_with_values(mat_a, mat_b)
    if int(keep.sum()) >= 2:
        shared = [it for it, k in zip(items, keep, strict=True) if k]
        labels = None
        if clusters is not None and all(it in clusters for it in shared):
            labels = [str(clusters[it]) for it in shared]
        return _paired(
            metric, a, b, mat_a[keep], mat_b[keep], labels, cluster_field, confidence, alpha
        )
    return _unpaired(metric, a, b, mat_a, mat_b, confidence, alpha)


def omnibus(
    trials: pl.DataFrame, metric: Metric, conditions: Sequence[str], items: Sequence[str]
) -> Omnibus:
    """Cochran's Q, Friedman or Kruskal-Wallis across k >= 3 conditions."""
    from crucible.bench import BenchError, cochran_q, friedman, kruskal

    mats = [item_matrix(trials, metric, c, items) for c in conditions]
    keep = _rows_with_values(*mats)
    k = len(conditions)
    try:
        if int(keep.sum()) >= 2:
            table = np.column_stack([_means(m[keep]) for m in mats])
            if metric.kind is MetricKind.BINARY and all(m.shape[1] == 1 for m in mats):
                res = cochran_q(table.astype(int))
                name = "Cochran's Q"
                reason = f"{k} related binary outcomes on the same {table.shape[0]} items"
            else:
                res = friedman(table)
                name = "Friedman"
                reason = f"{k} related samples (item means) on the same {table.shape[0]} items"
            n = table.shape[0]
        else:
            groups = [_means(m[np.any(~np.isnan(m), axis=1)]) for m in mats]
            res = kruskal(groups)
            name = "Kruskal-Wallis"
            reason = f"{k} independent samples (no shared items)"
            n = sum(len(g) for g in groups)
    except BenchError as exc:
        return Omnibus(metric.name, "none", f"not computable: {exc}", NAN, NAN, NAN, 0, k)
    return Omnibus(metric.name, name, reason, res.statistic, res.df, res.p_value, n, k)
