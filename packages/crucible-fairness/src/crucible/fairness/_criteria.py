"""Group-fairness criteria as disparities with bootstrap CIs, tests and a verdict.

Definitions follow Fairlearn: a criterion's *difference* is ``max − min`` of the group metric
over groups and its *ratio* is ``min / max`` (``fairlearn.metrics.MetricFrame.difference`` /
``.ratio`` with ``method="between_groups"``). Groups where the metric is undefined (zero
denominator) are left out and named in :attr:`Disparity.excluded`.
"""

from __future__ import annotations

import warnings
from typing import Any

import numpy as np
import polars as pl

from crucible.core import Seeds
from crucible.fairness._data import FairnessError, as_binary, as_probability
from crucible.fairness._disparity import (
    BY_GROUP_SCHEMA,
    FOUR_FIFTHS,
    Aggregation,
    Criterion,
    Disparity,
    SmallGroupWarning,
    build_disparity,
)
from crucible.fairness._metrics import (
    Binning,
    GroupCounts,
    RateMetric,
    denominator,
    ece_mce,
    null_reason,
    rate,
)
from crucible.fairness._uncertainty import (
    bootstrap_calibration,
    bootstrap_counts,
    holm,
    permutation_calibration,
    rate_test,
    required_n,
)

__all__ = [
    "calibration",
    "demographic_parity",
    "disparate_impact",
    "equal_opportunity",
    "equalized_odds",
    "evaluate",
    "predictive_parity",
]

_PARTS: dict[Criterion, tuple[RateMetric, ...]] = {
    Criterion.DEMOGRAPHIC_PARITY: (RateMetric.SELECTION_RATE,),
    Criterion.EQUALIZED_ODDS: (RateMetric.TPR, RateMetric.FPR),
    Criterion.EQUAL_OPPORTUNITY: (RateMetric.TPR,),
    Criterion.PREDICTIVE_PARITY: (RateMetric.PPV,),
    Criterion.DISPARATE_IMPACT: (RateMetric.SELECTION_RATE,),
}


def _check_options(threshold: float, ci: float, n_boot: int) -> None:
    if not isinstance(ci, float | int) or not 0 < ci < 1:
        raise FairnessError(f"`ci` must be in (0, 1), e.g. 0.95, got {ci!r}")
    if not isinstance(n_boot, int) or isinstance(n_boot, bool) or n_boot < 2:
        raise FairnessError(f"`n_boot` must be an int >= 2 (1000 is typical), got {n_boot!r}")
    if not isinstance(threshold, float | int) or not np.isfinite(threshold) or threshold < 0:
        raise FairnessError(f"`threshold` must be a finite number >= 0, got {threshold!r}")


def _spread(values: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """``max − min`` and ``min / max`` over the last axis, ignoring NaN (NaN if none left)."""
    hi = np.where(np.isnan(values), -np.inf, values).max(axis=-1)
    lo = np.where(np.isnan(values), np.inf, values).min(axis=-1)
    ok = np.isfinite(hi) & np.isfinite(lo)
    diff = np.where(ok, hi - lo, np.nan)
    with np.errstate(divide="ignore", invalid="ignore"):
        ratio = np.where(ok & (hi > 0), lo / np.where(hi > 0, hi, 1.0), np.nan)
    return diff, ratio


def _interval(samples: np.ndarray, confidence: float) -> tuple[float, float]:
    finite = samples[np.isfinite(samples)]
    if finite.size == 0:
        return (float("nan"), float("nan"))
    a = (1 - confidence) / 2
    lo, hi = np.quantile(finite, [a, 1 - a])
    return (float(lo), float(hi))


def _aggregate(parts: list[np.ndarray], how: Aggregation, *, ratio: bool) -> np.ndarray:
    stacked = np.stack(parts)
    out: np.ndarray
    if how is Aggregation.MEAN:
        out = stacked.mean(axis=0)
    else:
        out = stacked.min(axis=0) if ratio else stacked.max(axis=0)
    return out


def _excluded_groups(gc: GroupCounts, parts: tuple[RateMetric, ...]) -> dict[str, str]:
    excluded: dict[str, str] = {}
    for metric in parts:
        den = denominator(gc.counts, metric)
        for i in np.flatnonzero(den == 0):
            label = gc.groups.labels[i]
            excluded.setdefault(label, f"{metric.value} undefined: {null_reason(metric)}")
    for label in gc.groups.empty:
        excluded.setdefault(label, "empty intersection: no rows")
    return excluded


def _power_notes(
    gc: GroupCounts, metric: RateMetric, keep: np.ndarray, delta: float, criterion: Criterion
) -> list[str]:
    if delta <= 0:
        return []
    overall = float(rate(gc.counts.sum(axis=0), metric))
    if not np.isfinite(overall):
        return []
    need = required_n(overall, delta)
    den = denominator(gc.counts, metric)
    notes = []
    for i in np.flatnonzero(keep & (den < need)):
        notes.append(
            f"group {gc.groups.labels[i]!r} has {int(den[i])} rows for {metric.value}, fewer than "
            f"the {int(np.ceil(need))} needed to detect a difference of {delta:.3g} with 80 % "
            "power at alpha 0.05"
        )
    for note in notes:
        warnings.warn(f"{criterion.value}: {note}", SmallGroupWarning, stacklevel=4)
    return notes


def _rate_disparity(
    gc: GroupCounts,
    criterion: Criterion,
    *,
    threshold: float,
    confidence: float,
    n_boot: int,
    seed: int,
    aggregation: Aggregation,
) -> Disparity:
    parts = _PARTS[criterion]
    excluded = _excluded_groups(gc, parts)
    labels = gc.groups.labels
    keep = np.array([label not in excluded for label in labels])
    rng = Seeds(seed).generator("fairness-bootstrap", criterion.value)
    boot = bootstrap_counts(gc.counts, n_boot, rng)
    rows: list[dict[str, Any]] = []
    diffs, ratios, boot_diffs, boot_ratios, p_parts, notes = [], [], [], [], [], []
    test_names = set()
    for metric in parts:
        values = np.where(keep, rate(gc.counts, metric), np.nan)
        bvalues = np.where(keep, rate(boot, metric), np.nan)
        d, r = _spread(values)
        bd, br = _spread(bvalues)
        diffs.append(d)
        ratios.append(r)
        boot_diffs.append(bd)
        boot_ratios.append(br)
        num_cells = rate(gc.counts, metric) * denominator(gc.counts, metric)
        den = denominator(gc.counts, metric)
        events = np.rint(np.nan_to_num(num_cells)).astype(np.int64)
        table = np.stack([events, den - events], axis=1)[keep]
        p, name = rate_test(table)
        p_parts.append(p)
        test_names.add(name)
        group_p = []
        for row_idx in range(table.shape[0]):
            rest = table.sum(axis=0) - table[row_idx]
            group_p.append(rate_test(np.stack([table[row_idx], rest]))[0])
        adjusted = holm(group_p)
        k = 0
        for i, label in enumerate(labels):
            lo, hi = _interval(bvalues[:, i], confidence) if keep[i] else (np.nan, np.nan)
            with_ci = bool(keep[i] and den[i] >= 2)
            if keep[i] and not with_ci:
                notes.append(
                    f"group {label!r} has a single row for {metric.value}: its CI is not reported"
                )
            row = {
                "group": label,
                "metric": metric.value,
                "value": None if not keep[i] else float(values[i]),
                "n": int(den[i]),
                "ci_low": lo if with_ci else None,
                "ci_high": hi if with_ci else None,
                "p_value": None,
                "p_adjusted": None,
            }
            if keep[i]:
                row["p_value"], row["p_adjusted"] = group_p[k], float(adjusted[k])
                k += 1
            rows.append(row)
        if criterion is Criterion.DISPARATE_IMPACT:
            delta = (1 - threshold) * float(np.nanmax(values)) if keep.any() else 0.0
        else:
            delta = threshold
        notes += _power_notes(gc, metric, keep, delta, criterion)
    difference = float(_aggregate(diffs, aggregation, ratio=False))
    ratio = float(_aggregate(ratios, aggregation, ratio=True))
    ci = _interval(_aggregate(boot_diffs, aggregation, ratio=False), confidence)
    ratio_ci = _interval(_aggregate(boot_ratios, aggregation, ratio=True), confidence)
    p_value = min(1.0, len(p_parts) * min(p_parts))
    test = " / ".join(sorted(test_names))
    if len(p_parts) > 1:
        test += f" (Bonferroni over {', '.join(m.value for m in parts)})"
    if keep.sum() < 2:
        notes.append(f"fewer than two groups have a defined {parts[0].value}; nothing to compare")
    if np.isnan(ratio) and keep.sum() >= 2:
        notes.append("ratio undefined: the largest group metric is 0")
    metric_name = (
        parts[0].value
        if len(parts) == 1
        else f"{aggregation.value}({', '.join(m.value for m in parts)})"
    )
    return build_disparity(
        criterion, difference, ratio, pl.DataFrame(rows, schema=BY_GROUP_SCHEMA), ci, ratio_ci,
        p_value, test, threshold, metric_name, aggregation, excluded, notes, confidence, n_boot,
    )  # fmt: skip


def _calibration_disparity(
    gc: GroupCounts, *, threshold: float, confidence: float, n_boot: int, seed: int
) -> Disparity:
    cal = gc.calibration
    if cal is None:
        raise FairnessError(
            "the calibration criterion needs `y_prob`; pass predicted probabilities"
        )
    seeds = Seeds(seed)
    ece, _ = ece_mce(cal.counts, cal.sum_p)
    k, s = bootstrap_calibration(
        cal.counts,
        cal.sum_p,
        cal.sum_p2,
        n_boot,
        seeds.generator("fairness-bootstrap", "calibration"),
    )
    boot_ece, _ = ece_mce(k, s)
    diff, ratio = _spread(ece)
    bd, br = _spread(boot_ece)
    pk, ps = permutation_calibration(
        cal.counts,
        cal.sum_p,
        cal.sum_p2,
        n_boot,
        seeds.generator("fairness-permutation", "calibration"),
    )
    perm_diff, _ = _spread(ece_mce(pk, ps)[0])
    p_value = float((1 + np.sum(perm_diff >= diff - 1e-12)) / (1 + n_boot))
    rows = []
    for i, label in enumerate(gc.groups.labels):
        lo, hi = _interval(boot_ece[:, i], confidence)
        n_i = int(cal.counts[i].sum())
        rows.append({"group": label, "metric": "ece", "value": float(ece[i]), "n": n_i,
                     "ci_low": lo, "ci_high": hi, "p_value": None, "p_adjusted": None})  # fmt: skip
    excluded = {label: "empty intersection: no rows" for label in gc.groups.empty}
    notes = ["per-group p-values are not computed for calibration; the permutation test is global"]
    if np.isnan(float(ratio)):
        notes.append("ratio undefined: the largest group ECE is 0")
    return build_disparity(
        Criterion.CALIBRATION, float(diff), float(ratio), pl.DataFrame(rows, schema=BY_GROUP_SCHEMA),
        _interval(bd, confidence), _interval(br, confidence), p_value,
        f"permutation ({n_boot} label permutations)", threshold, "ece", Aggregation.WORST_CASE,
        excluded, notes, confidence, n_boot,
    )  # fmt: skip


def evaluate(
    gc: GroupCounts,
    criterion: Criterion | str,
    *,
    threshold: float | None = None,
    ci: float = 0.95,
    n_boot: int = 1000,
    seed: int = 0,
    aggregation: Aggregation | str = Aggregation.WORST_CASE,
) -> Disparity:
    """Evaluate one criterion on precomputed group counts (shared by the report)."""
    try:
        crit = Criterion(criterion)
    except ValueError:
        raise FairnessError(
            f"unknown criterion {criterion!r}; choose from {[c.value for c in Criterion]}"
        ) from None
    try:
        agg = Aggregation(aggregation)
    except ValueError:
        raise FairnessError(
            f"`aggregation` must be one of {[a.value for a in Aggregation]}, got {aggregation!r}"
        ) from None
    if threshold is None:
        threshold = FOUR_FIFTHS if crit is Criterion.DISPARATE_IMPACT else 0.1
    _check_options(threshold, ci, n_boot)
    if crit is Criterion.CALIBRATION:
        return _calibration_disparity(
            gc, threshold=threshold, confidence=ci, n_boot=n_boot, seed=seed
        )
    return _rate_disparity(
        gc, crit, threshold=threshold, confidence=ci, n_boot=n_boot, seed=seed, aggregation=agg
    )


def demographic_parity(
    y_true: Any, y_pred: Any, sensitive: Any, *, threshold: float = 0.1, ci: float = 0.95,
    n_boot: int = 1000, seed: int = 0,
) -> Disparity:  # fmt: skip
    """Demographic parity: equal selection rates P(ŷ = 1 | A = a) across groups.

    Difference and ratio as ``fairlearn.metrics.demographic_parity_difference`` /
    ``demographic_parity_ratio``; CI from a stratified bootstrap (``n_boot`` resamples within
    groups); p-value from a chi-square test of the groups × selected table (Fisher's exact test
    for two small groups). Passes when ``difference <= threshold``.

    Example:
        >>> d = demographic_parity([1, 0, 1, 0], [1, 1, 0, 0], ["a", "a", "b", "b"], n_boot=200)
        >>> d.difference, d.ratio
        (1.0, 0.0)
    """
    gc = GroupCounts.build(y_true, y_pred, sensitive)
    return evaluate(
        gc, Criterion.DEMOGRAPHIC_PARITY, threshold=threshold, ci=ci, n_boot=n_boot, seed=seed
    )


def equalized_odds(
    y_true: Any, y_pred: Any, sensitive: Any, *, threshold: float = 0.1, ci: float = 0.95,
    n_boot: int = 1000, seed: int = 0, aggregation: Aggregation | str = Aggregation.WORST_CASE,
) -> Disparity:  # fmt: skip
    """Equalized odds (Hardt et al. 2016): equal TPR and equal FPR across groups.

    ``aggregation="worst_case"`` (default) reports the larger of the TPR and FPR differences
    and the smaller of their ratios, as ``fairlearn.metrics.equalized_odds_difference`` /
    ``equalized_odds_ratio``; ``"mean"`` averages the two parts (Fairlearn's ``agg="mean"``).
    Both parts appear in ``by_group``. The p-value is the Bonferroni combination of the two
    parts' tests.
    """
    gc = GroupCounts.build(y_true, y_pred, sensitive)
    return evaluate(gc, Criterion.EQUALIZED_ODDS, threshold=threshold, ci=ci, n_boot=n_boot,
                    seed=seed, aggregation=aggregation)  # fmt: skip


def equal_opportunity(
    y_true: Any, y_pred: Any, sensitive: Any, *, threshold: float = 0.1, ci: float = 0.95,
    n_boot: int = 1000, seed: int = 0,
) -> Disparity:  # fmt: skip
    """Equal opportunity (Hardt et al. 2016): equal TPR across groups (Fairlearn's
    ``MetricFrame(metrics=true_positive_rate).difference()``)."""
    gc = GroupCounts.build(y_true, y_pred, sensitive)
    return evaluate(
        gc, Criterion.EQUAL_OPPORTUNITY, threshold=threshold, ci=ci, n_boot=n_boot, seed=seed
    )


def predictive_parity(
    y_true: Any, y_pred: Any, sensitive: Any, *, threshold: float = 0.1, ci: float = 0.95,
    n_boot: int = 1000, seed: int = 0,
) -> Disparity:  # fmt: skip
    """Predictive parity (Chouldechova 2017): equal precision P(y = 1 | ŷ = 1) across groups."""
    gc = GroupCounts.build(y_true, y_pred, sensitive)
    return evaluate(
        gc, Criterion.PREDICTIVE_PARITY, threshold=threshold, ci=ci, n_boot=n_boot, seed=seed
    )


def disparate_impact(
    y_true: Any, y_pred: Any, sensitive: Any, *, threshold: float = FOUR_FIFTHS, ci: float = 0.95,
    n_boot: int = 1000, seed: int = 0,
) -> Disparity:  # fmt: skip
    """Disparate impact: the selection-rate ratio against the four-fifths rule.

    Passes when ``min / max`` of the selection rates is at least ``threshold`` (0.8, the
    EEOC Uniform Guidelines, 29 CFR 1607.4(D)). Ratio as
    ``fairlearn.metrics.demographic_parity_ratio``.
    """
    gc = GroupCounts.build(y_true, y_pred, sensitive)
    return evaluate(
        gc, Criterion.DISPARATE_IMPACT, threshold=threshold, ci=ci, n_boot=n_boot, seed=seed
    )


def calibration(
    y_true: Any, y_prob: Any, sensitive: Any, *, threshold: float = 0.05, ci: float = 0.95,
    n_boot: int = 1000, seed: int = 0, n_bins: int = 10, binning: Binning | str = Binning.UNIFORM,
) -> Disparity:  # fmt: skip
    """Calibration across groups: the spread of per-group expected calibration error (ECE).

    ECE per group over ``n_bins`` bins (Naeini et al. 2015); difference = max − min ECE. The
    p-value comes from a permutation test of group labels. Passes when the difference is at most
    ``threshold``.
    """
    yt = as_binary(y_true, "y_true")
    prob = as_probability(y_prob, "y_prob", yt.size)
    y_pred = (prob >= 0.5).astype(np.int8)
    gc = GroupCounts.build(yt, y_pred, sensitive, y_prob=prob, n_bins=n_bins, binning=binning)
    return evaluate(gc, Criterion.CALIBRATION, threshold=threshold, ci=ci, n_boot=n_boot, seed=seed)
