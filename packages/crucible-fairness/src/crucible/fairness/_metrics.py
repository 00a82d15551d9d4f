"""Per-group confusion counts, rates and calibration, vectorised over groups and resamples.

Every rate is a ratio of confusion-matrix cells, so one ``bincount`` gives every group's counts
and a bootstrap resample of a group is a multinomial draw over its four cells — exactly the
distribution of the counts of rows drawn with replacement within the group.
"""

from __future__ import annotations

from enum import StrEnum
from typing import Any

import attrs
import numpy as np
import polars as pl

from crucible.fairness._data import (
    FairnessError,
    Groups,
    as_groups,
    as_probability,
    check_lengths,
    column_groups,
)

__all__ = ["Binning", "GroupCounts", "RateMetric", "group_metrics"]

# Cell order: index = 2 * y_true + y_pred.
TN, FP, FN, TP = 0, 1, 2, 3


class RateMetric(StrEnum):
    """A rate computed from a group's confusion matrix."""

    BASE_RATE = "base_rate"
    SELECTION_RATE = "selection_rate"
    TPR = "tpr"
    FPR = "fpr"
    FNR = "fnr"
    TNR = "tnr"
    PPV = "ppv"
    NPV = "npv"
    ACCURACY = "accuracy"


class Binning(StrEnum):
    """How probabilities are binned for ECE/MCE."""

    UNIFORM = "uniform"
    QUANTILE = "quantile"


# metric -> (numerator cells, denominator cells, reason when the denominator is zero)
_RATES: dict[RateMetric, tuple[tuple[int, ...], tuple[int, ...], str]] = {
    RateMetric.BASE_RATE: ((FN, TP), (TN, FP, FN, TP), "group is empty"),
    RateMetric.SELECTION_RATE: ((FP, TP), (TN, FP, FN, TP), "group is empty"),
    RateMetric.TPR: ((TP,), (TP, FN), "no rows with y_true=1"),
    RateMetric.FPR: ((FP,), (FP, TN), "no rows with y_true=0"),
    RateMetric.FNR: ((FN,), (TP, FN), "no rows with y_true=1"),
    RateMetric.TNR: ((TN,), (FP, TN), "no rows with y_true=0"),
    RateMetric.PPV: ((TP,), (TP, FP), "no rows with y_pred=1"),
    RateMetric.NPV: ((TN,), (TN, FN), "no rows with y_pred=0"),
    RateMetric.ACCURACY: ((TP, TN), (TN, FP, FN, TP), "group is empty"),
}


def rate(counts: np.ndarray, metric: RateMetric) -> np.ndarray:
    """``metric`` from counts of shape ``(..., 4)``; NaN where the denominator is zero."""
    num_cells, den_cells, _ = _RATES[metric]
    num = counts[..., list(num_cells)].sum(axis=-1).astype(np.float64)
    den = counts[..., list(den_cells)].sum(axis=-1).astype(np.float64)
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.where(den > 0, num / np.where(den > 0, den, 1.0), np.nan)


def denominator(counts: np.ndarray, metric: RateMetric) -> np.ndarray:
    out: np.ndarray = counts[..., list(_RATES[metric][1])].sum(axis=-1)
    return out


def null_reason(metric: RateMetric) -> str:
    return _RATES[metric][2]


def bin_index(y_prob: np.ndarray, n_bins: int, binning: Binning) -> np.ndarray:
    """Bin of each probability; the last bin is closed so ``p = 1.0`` is counted."""
    if binning is Binning.UNIFORM:
        return np.minimum((y_prob * n_bins).astype(np.int64), n_bins - 1)
    edges = np.quantile(y_prob, np.linspace(0.0, 1.0, n_bins + 1))
    return np.searchsorted(edges[1:-1], y_prob, side="right").astype(np.int64)


@attrs.frozen(slots=True)
class Calibration:
    """Per-group, per-bin sufficient statistics for ECE/MCE.

    ``counts`` has shape ``(G, B, 2)`` (rows with y=0 / y=1 in each bin); ``sum_p`` and
    ``sum_p2`` are ``(G, B, 2)`` sums of the probability and its square in each cell.
    """

    counts: np.ndarray
    sum_p: np.ndarray
    sum_p2: np.ndarray
    n_bins: int

    @staticmethod
    def build(
        codes: np.ndarray, n_groups: int, y_true: np.ndarray, y_prob: np.ndarray, bins: np.ndarray
    ) -> Calibration:
        n_bins = int(bins.max()) + 1 if bins.size else 1
        flat = (codes * n_bins + bins) * 2 + y_true
        size = n_groups * n_bins * 2
        shape = (n_groups, n_bins, 2)
        counts = np.bincount(flat, minlength=size).reshape(shape)
        sum_p = np.bincount(flat, weights=y_prob, minlength=size).reshape(shape)
        sum_p2 = np.bincount(flat, weights=y_prob * y_prob, minlength=size).reshape(shape)
        return Calibration(counts, sum_p, sum_p2, n_bins)


def ece_mce(counts: np.ndarray, sum_p: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """ECE and MCE from ``(..., B, 2)`` cell counts and probability sums.

    ECE = Σ_b (n_b / n) |ȳ_b − p̄_b| = Σ_b |Σy_b − Σp_b| / n; MCE = max over non-empty bins of
    |ȳ_b − p̄_b| (Naeini et al. 2015). NaN for an empty group.
    """
    n_b = counts.sum(axis=-1).astype(np.float64)
    pos_b = counts[..., 1].astype(np.float64)
    p_b = sum_p.sum(axis=-1)
    gap = np.abs(pos_b - p_b)
    n = n_b.sum(axis=-1)
    with np.errstate(divide="ignore", invalid="ignore"):
        ece = np.where(n > 0, gap.sum(axis=-1) / np.where(n > 0, n, 1.0), np.nan)
        per_bin = np.where(n_b > 0, gap / np.where(n_b > 0, n_b, 1.0), -np.inf)
    mce = per_bin.max(axis=-1)
    mce = np.where(np.isfinite(mce), mce, np.nan)
    return ece, mce


@attrs.frozen(slots=True)
class GroupCounts:
    """Validated inputs and their per-group sufficient statistics."""

    y_true: np.ndarray
    y_pred: np.ndarray
    y_prob: np.ndarray | None
    groups: Groups
    counts: np.ndarray  # (G, 4)
    calibration: Calibration | None

    @staticmethod
    def build(
        y_true: Any,
        y_pred: Any,
        sensitive: Any,
        *,
        y_prob: Any = None,
        n_bins: int = 10,
        binning: Binning | str = Binning.UNIFORM,
        min_groups: int = 2,
    ) -> GroupCounts:
        yt, yp = check_lengths(y_true, y_pred)
        groups = as_groups(sensitive, yt.size, min_groups=min_groups)
        return GroupCounts.from_arrays(yt, yp, groups, y_prob, n_bins, binning)

    @staticmethod
    def from_arrays(
        yt: np.ndarray,
        yp: np.ndarray,
        groups: Groups,
        y_prob: Any,
        n_bins: int,
        binning: Binning | str,
    ) -> GroupCounts:
        g = groups.n_groups
        cells = groups.codes * 4 + 2 * yt.astype(np.int64) + yp
        counts = np.bincount(cells, minlength=g * 4).reshape(g, 4)
        cal = None
        prob = None
        if y_prob is not None:
            if not isinstance(n_bins, int) or isinstance(n_bins, bool) or n_bins < 1:
                raise FairnessError(f"`n_bins` must be an int >= 1, got {n_bins!r}")
            try:
                binning = Binning(binning)
            except ValueError:
                raise FairnessError(
                    f"`binning` must be one of {[b.value for b in Binning]}, got {binning!r}"
                ) from None
            prob = as_probability(y_prob, "y_prob", yt.size)
            bins = bin_index(prob, n_bins, binning)
            cal = Calibration.build(groups.codes, g, yt, prob, bins)
            if cal.n_bins < n_bins:
                cal = attrs.evolve(
                    cal,
                    counts=_pad(cal.counts, n_bins),
                    sum_p=_pad(cal.sum_p, n_bins),
                    sum_p2=_pad(cal.sum_p2, n_bins),
                    n_bins=n_bins,
                )
        return GroupCounts(yt, yp, prob, groups, counts, cal)


def _pad(a: np.ndarray, n_bins: int) -> np.ndarray:
    out = np.zeros((a.shape[0], n_bins, 2), dtype=a.dtype)
    out[:, : a.shape[1]] = a
    return out


_COLUMNS = [m.value for m in RateMetric]


def _rows(gc: GroupCounts, attribute: str) -> list[dict[str, Any]]:
    rows: list[dict[str, Any]] = []
    ece = mce = None
    if gc.calibration is not None:
        ece, mce = ece_mce(gc.calibration.counts, gc.calibration.sum_p)
    for i, label in enumerate(gc.groups.labels):
        row: dict[str, Any] = {
            "attribute": attribute,
            "group": label,
            "count": int(gc.counts[i].sum()),
        }
        reasons = []
        for metric in RateMetric:
            value = float(rate(gc.counts[i], metric))
            if np.isnan(value):
                row[metric.value] = None
                reasons.append(f"{metric.value}: {null_reason(metric)}")
            else:
                row[metric.value] = value
        row["ece"] = None if ece is None else float(ece[i])
        row["mce"] = None if mce is None else float(mce[i])
        row["null_reasons"] = "; ".join(reasons)
        rows.append(row)
    return rows


_SCHEMA: dict[str, Any] = {
    "attribute": pl.String,
    "group": pl.String,
    "count": pl.Int64,
    **dict.fromkeys(_COLUMNS, pl.Float64),
    "ece": pl.Float64,
    "mce": pl.Float64,
    "null_reasons": pl.String,
}


def group_metrics(
    y_true: Any,
    y_pred: Any,
    sensitive: Any,
    *,
    y_prob: Any = None,
    marginal: bool = False,
    n_bins: int = 10,
    binning: Binning | str = Binning.UNIFORM,
) -> pl.DataFrame:
    """Per-group classification rates (and calibration when ``y_prob`` is given).

    Args:
        y_true, y_pred: binary labels and predictions (0/1 or booleans), one per row.
        sensitive: one sensitive feature (array, list, Series) or several (a DataFrame or a
            mapping of column name to values). Several columns give one row per observed
            intersection, labelled ``"a|b"`` as Fairlearn's ``MetricFrame`` groups them.
        y_prob: predicted probabilities of the positive class, for ECE/MCE.
        marginal: with several columns, also add one row per value of each single column.
        n_bins: number of calibration bins (10 by default).
        binning: ``"uniform"`` (equal width, last bin closed so ``p = 1.0`` counts) or
            ``"quantile"`` (edges at quantiles of ``y_prob`` over all rows).

    Returns:
        A polars DataFrame with columns ``attribute, group, count, base_rate, selection_rate,
        tpr, fpr, fnr, tnr, ppv, npv, accuracy, ece, mce, null_reasons``. A rate whose
        denominator is zero is null and ``null_reasons`` says why; ``ece``/``mce`` are null
        without ``y_prob``.

    Raises:
        FairnessError: length mismatch, non-binary labels, NaN, probabilities outside [0, 1].

    Validated against: ``fairlearn.metrics.MetricFrame`` with ``selection_rate``,
    ``true_positive_rate``, ``false_positive_rate``, ... (see tests/test_metrics.py).

    Example:
        >>> df = group_metrics([1, 0, 1, 0], [1, 0, 0, 0], ["a", "a", "b", "b"])
        >>> df["tpr"].to_list()
        [1.0, 0.0]
    """
    gc = GroupCounts.build(
        y_true, y_pred, sensitive, y_prob=y_prob, n_bins=n_bins, binning=binning, min_groups=1
    )
    return metrics_table(gc, marginal=marginal, n_bins=n_bins, binning=binning)


def metrics_table(
    gc: GroupCounts, *, marginal: bool, n_bins: int, binning: Binning | str
) -> pl.DataFrame:
    """:func:`group_metrics` from already validated and grouped inputs."""
    rows = _rows(gc, gc.groups.attribute)
    if marginal and len(gc.groups.columns) > 1:
        for single in column_groups(gc.groups):
            sub = GroupCounts.from_arrays(gc.y_true, gc.y_pred, single, gc.y_prob, n_bins, binning)
            rows.extend(_rows(sub, single.attribute))
    return pl.DataFrame(rows, schema=_SCHEMA)
