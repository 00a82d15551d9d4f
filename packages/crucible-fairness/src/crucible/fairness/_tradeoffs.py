"""Trade-offs: which criteria cannot hold together, and the accuracy–fairness Pareto frontier."""

from __future__ import annotations

import itertools
from typing import Any

import attrs
import numpy as np
import polars as pl

from crucible.core import Seeds
from crucible.fairness._data import FairnessError, as_float_array, as_groups, check_lengths
from crucible.fairness._metrics import GroupCounts, RateMetric, rate

__all__ = ["Conflicts", "conflict_analysis", "pareto_frontier"]


@attrs.frozen
class Conflicts:
    """Which fairness criteria the data make mutually unattainable, with the numbers.

    Attributes:
        table: per group ``base_rate, ppv, fnr, fpr, implied_fpr`` — ``implied_fpr`` is the FPR
            Chouldechova's identity forces when PPV and FNR are held at their pooled values.
        base_rate_gap: max − min base rate over groups.
        statements: plain-language conclusions, each with its numbers.
    """

    table: pl.DataFrame = attrs.field(eq=False)
    base_rate_gap: float
    statements: tuple[str, ...]

    def to_dict(self) -> dict[str, Any]:
        return {"table": self.table.to_dicts(), "base_rate_gap": self.base_rate_gap,
                "statements": list(self.statements)}  # fmt: skip

    def __str__(self) -> str:
        return "\n".join(f"- {s}" for s in self.statements)


def conflict_analysis(
    y_true: Any, y_pred: Any, sensitive: Any, *, y_prob: Any = None, tolerance: float = 0.01
) -> Conflicts:
    """State which criteria cannot hold together given the groups' base rates.

    Chouldechova (2017) shows that for any binary classifier
    ``FPR = p / (1 − p) · (1 − PPV) / PPV · (1 − FNR)`` within a group of base rate p, so when
    base rates differ, predictive parity (equal PPV) and equal error rates (equal FPR and FNR)
    cannot all hold unless prediction is perfect. Kleinberg, Mullainathan & Raghavan (2016)
    show the same for calibration within groups and balance of the average score for the
    positive and negative classes. Demographic parity of a perfect classifier would need equal
    base rates.

    Args:
        tolerance: base rates within this distance count as equal (no conflict stated).

    References:
        Chouldechova, A. (2017). Fair prediction with disparate impact. Big Data 5(2), 153–163.
        doi:10.1089/big.2016.0047. Kleinberg, J., Mullainathan, S., Raghavan, M. (2016).
        Inherent trade-offs in the fair determination of risk scores. arXiv:1609.05807.

    Example:
        >>> c = conflict_analysis([1, 1, 0, 0, 1, 0, 0, 0], [1, 0, 0, 0, 1, 1, 0, 0], ["a"] * 4 + ["b"] * 4)
        >>> c.base_rate_gap
        0.25
    """
    gc = GroupCounts.build(y_true, y_pred, sensitive, y_prob=y_prob)
    labels = gc.groups.labels
    base = rate(gc.counts, RateMetric.BASE_RATE)
    ppv, fnr, fpr = (rate(gc.counts, m) for m in (RateMetric.PPV, RateMetric.FNR, RateMetric.FPR))
    pooled = gc.counts.sum(axis=0)
    ppv0, fnr0 = float(rate(pooled, RateMetric.PPV)), float(rate(pooled, RateMetric.FNR))
    with np.errstate(divide="ignore", invalid="ignore"):
        implied = base / (1 - base) * (1 - ppv0) / ppv0 * (1 - fnr0)
    table = pl.DataFrame(
        {"group": list(labels), "base_rate": base, "ppv": ppv, "fnr": fnr, "fpr": fpr,
         "implied_fpr": implied}, nan_to_null=True,
    )  # fmt: skip
    gap = float(np.nanmax(base) - np.nanmin(base))
    hi, lo = labels[int(np.nanargmax(base))], labels[int(np.nanargmin(base))]
    statements: list[str] = []
    perfect = bool(np.all(gc.counts[:, 1] + gc.counts[:, 2] == 0))
    if gap <= tolerance or perfect:
        why = "prediction is perfect" if perfect else f"base rates differ by only {gap:.4f}"
        statements.append(f"No impossibility applies: {why}; all criteria can hold together.")
        return Conflicts(table, gap, tuple(statements))
    statements.append(
        f"Base rates differ: {hi} {np.nanmax(base):.4f} vs {lo} {np.nanmin(base):.4f} "
        f"(gap {gap:.4f}), so some criteria cannot hold together."
    )
    fi, fl = implied[labels.index(hi)], implied[labels.index(lo)]
    statements.append(
        "Predictive parity vs equalized odds (Chouldechova 2017): with PPV held at the pooled "
        f"{ppv0:.4f} and FNR at the pooled {fnr0:.4f} in every group, FPR would have to be "
        f"{fi:.4f} for {hi} and {fl:.4f} for {lo} — a gap of {abs(fi - fl):.4f}; equal PPV, "
        "equal FNR and equal FPR cannot all hold."
    )
    statements.append(
        "Demographic parity vs accuracy: a perfect classifier selects at each group's base rate; "
        "a common selection rate s misclassifies at least |base rate − s| of each group's rows, "
        f"so at least {gap / 2:.4f} of the rows of {hi} or of {lo} are misclassified — "
        "demographic parity rules out perfect accuracy and, with it, the zero-error form of "
        "equalized odds."
    )
    if gc.y_prob is not None:
        pos = [float(gc.y_prob[(gc.groups.codes == i) & (gc.y_true == 1)].mean()) if
               np.any((gc.groups.codes == i) & (gc.y_true == 1)) else float("nan") for i in range(len(labels))]  # fmt: skip
        neg = [float(gc.y_prob[(gc.groups.codes == i) & (gc.y_true == 0)].mean()) if
               np.any((gc.groups.codes == i) & (gc.y_true == 0)) else float("nan") for i in range(len(labels))]  # fmt: skip
        statements.append(
            "Calibration vs balance (Kleinberg et al. 2016): with unequal base rates a score "
            "cannot be calibrated within groups and have equal mean score among positives and "
            f"among negatives; observed mean score for positives {np.nanmin(pos):.4f}–"
            f"{np.nanmax(pos):.4f}, for negatives {np.nanmin(neg):.4f}–{np.nanmax(neg):.4f} "
            "across groups."
        )
    return Conflicts(table, gap, tuple(statements))


def _vertices(score: np.ndarray, y: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Thresholds (descending unique scores, +inf first) and the TP/FP counts of ``score >= t``."""
    order = np.argsort(-score, kind="stable")
    s, yy = score[order], y[order]
    tp, fp = np.cumsum(yy), np.cumsum(1 - yy)
    last = np.r_[np.flatnonzero(np.diff(s) != 0), s.size - 1]
    return np.r_[np.inf, s[last]], np.r_[0, tp[last]], np.r_[0, fp[last]]


def pareto_frontier(
    y_true: Any,
    y_score: Any,
    sensitive: Any,
    *,
    criterion: str = "demographic_parity",
    n_thresholds: int = 21,
    max_candidates: int = 20_000,
    seed: int = 0,
) -> pl.DataFrame:
    """Accuracy–fairness Pareto frontier over per-group decision thresholds.

    Each group's candidate thresholds are ``n_thresholds`` quantiles of its scores; all
    combinations are scored when there are at most ``max_candidates`` of them, else a seeded
    random sample of that many. A point is kept when no other has both higher accuracy and a
    lower disparity (``"demographic_parity"``: selection-rate difference; ``"equalized_odds"``:
    the larger of the TPR and FPR differences).

    Returns:
        polars DataFrame ``accuracy, disparity`` and one ``threshold[<group>]`` column per group,
        sorted by disparity (rows are ``score >= threshold``).

    Example:
        >>> scores = [0.9, 0.6, 0.4, 0.1, 0.8, 0.7, 0.3, 0.2]
        >>> front = pareto_frontier([1, 1, 0, 0, 1, 0, 0, 0], scores, ["a"] * 4 + ["b"] * 4, n_thresholds=5)
        >>> front["accuracy"].to_list(), front["disparity"].to_list()
        ([0.875, 1.0], [0.0, 0.25])
    """
    yt = check_lengths(y_true, np.zeros(np.asarray(y_true).shape[0], dtype=np.int8))[0]
    score = as_float_array(y_score, "y_score")
    if score.shape != yt.shape:
        raise FairnessError(f"`y_score` has shape {score.shape} but `y_true` has {yt.shape}")
    if criterion not in ("demographic_parity", "equalized_odds"):
        raise FairnessError(
            f"`criterion` must be 'demographic_parity' or 'equalized_odds', got {criterion!r}"
        )
    groups = as_groups(sensitive, yt.size)
    per_group = []
    for g in range(groups.n_groups):
        m = groups.codes == g
        s, y = score[m], yt[m].astype(np.int64)
        thr = np.unique(np.quantile(s, np.linspace(0, 1, n_thresholds)))
        thr = np.r_[thr, np.inf]
        tp = np.array([np.sum(y[s >= t]) for t in thr])
        sel = np.array([np.sum(s >= t) for t in thr])
        per_group.append((thr, tp, sel - tp, int(y.sum()), int(m.sum())))
    sizes = [len(p[0]) for p in per_group]
    total = (
        int(np.prod(sizes, dtype=np.float64)) if np.prod(sizes, dtype=np.float64) < 1e12 else 10**12
    )
    if total <= max_candidates:
        idx = np.array(list(itertools.product(*[range(k) for k in sizes])))
    else:
        rng = Seeds(seed).generator("pareto")
        idx = np.stack([rng.integers(0, k, max_candidates) for k in sizes], axis=1)
    n = yt.size
    correct = np.zeros(len(idx))
    rates: list[tuple[np.ndarray, ...]] = []
    for g, (_, tp, fp, pos, n_g) in enumerate(per_group):
        t, f = tp[idx[:, g]], fp[idx[:, g]]
        correct += t + (n_g - pos - f)
        if criterion == "demographic_parity":
            rates.append(((t + f) / n_g,))
        else:
            rates.append((t / pos if pos else np.full(len(idx), np.nan),
                          f / (n_g - pos) if n_g > pos else np.full(len(idx), np.nan)))  # fmt: skip
    parts = []
    for k in range(len(rates[0])):
        stacked = np.stack([r[k] for r in rates], axis=1)
        parts.append(np.nanmax(stacked, axis=1) - np.nanmin(stacked, axis=1))
    disparity = np.max(np.stack(parts), axis=0)
    accuracy = correct / n
    order = np.lexsort((-accuracy, disparity))
    keep, best = [], -np.inf
    for i in order:
        if accuracy[i] > best + 1e-12:
            keep.append(i)
            best = accuracy[i]
    keep_idx = np.array(keep)
    data: dict[str, Any] = {"accuracy": accuracy[keep_idx], "disparity": disparity[keep_idx]}
    for g, label in enumerate(groups.labels):
        data[f"threshold[{label}]"] = per_group[g][0][idx[keep_idx, g]]
    return pl.DataFrame(data)
