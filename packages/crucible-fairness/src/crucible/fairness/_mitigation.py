"""Mitigation: reweighing (pre-processing) and per-group thresholds (post-processing)."""

from __future__ import annotations

from enum import StrEnum
from typing import Any

import attrs
import numpy as np

from crucible.core import Seeds
from crucible.fairness._data import (
    FairnessError,
    Groups,
    as_float_array,
    as_groups,
    check_lengths,
)

__all__ = ["Constraint", "GroupThresholds", "reweighing", "threshold_optimizer"]


def reweighing(y_true: Any, sensitive: Any) -> np.ndarray:
    """Kamiran & Calders (2012) reweighing: w(a, y) = P(A = a) · P(Y = y) / P(A = a, Y = y).

    Weighted, the label is independent of the group: every group's weighted base rate equals
    the overall base rate, and the weights sum to n.

    References:
        Kamiran, F., Calders, T. (2012). Data preprocessing techniques for classification
        without discrimination. Knowledge and Information Systems 33(1), 1–33.
        doi:10.1007/s10115-011-0463-8.

    Example:
        >>> reweighing([1, 1, 0, 0, 0, 1], ["a", "a", "a", "b", "b", "b"]).round(4).tolist()
        [0.75, 0.75, 1.5, 0.75, 0.75, 1.5]
    """
    yt = check_lengths(y_true, np.zeros(np.asarray(y_true).shape[0], dtype=np.int8))[0]
    groups = as_groups(sensitive, yt.size)
    n = yt.size
    joint = np.bincount(groups.codes * 2 + yt, minlength=groups.n_groups * 2).reshape(-1, 2)
    p_a = joint.sum(axis=1) / n
    p_y = joint.sum(axis=0) / n
    with np.errstate(divide="ignore", invalid="ignore"):
        w = np.outer(p_a, p_y) / (joint / n)
    weights: np.ndarray = w[groups.codes, yt]
    return weights


class Constraint(StrEnum):
    """The constraint a post-processing threshold rule meets."""

    DEMOGRAPHIC_PARITY = "demographic_parity"
    EQUALIZED_ODDS = "equalized_odds"


@attrs.frozen
class GroupRule:
    """P(ŷ = 1 | score) for one group: ``levels[searchsorted(edges, score, "right")]``."""

    edges: np.ndarray = attrs.field(eq=False)
    levels: np.ndarray = attrs.field(eq=False)

    def probability(self, score: np.ndarray) -> np.ndarray:
        out: np.ndarray = self.levels[np.searchsorted(self.edges, score, side="right")]
        return out


@attrs.frozen
class GroupThresholds:
    """Randomised per-group threshold rules fitted on a validation split.

    Attributes:
        constraint: what the rules equalise.
        rules: group label -> rule giving P(ŷ = 1 | score).
        expected_accuracy: accuracy on the fitting data, in expectation over the randomisation.
        rates: group label -> expected ``selection_rate`` (DP) or ``(tpr, fpr)`` (EO) there.
    """

    constraint: str
    rules: dict[str, GroupRule] = attrs.field(eq=False)
    expected_accuracy: float
    rates: dict[str, tuple[float, ...]]

    def to_dict(self) -> dict[str, Any]:
        return {
            "constraint": self.constraint,
            "expected_accuracy": self.expected_accuracy,
            "rates": {k: list(v) for k, v in self.rates.items()},
            "rules": {
                k: {"edges": r.edges.tolist(), "levels": r.levels.tolist()}
                for k, r in self.rules.items()
            },
        }

    def probability(self, y_score: Any, sensitive: Any) -> np.ndarray:
        """P(ŷ = 1) for each row."""
        score = as_float_array(y_score, "y_score")
        groups = as_groups(sensitive, score.size, min_groups=1)
        out = np.empty(score.size)
        for i, label in enumerate(groups.labels):
            if label not in self.rules:
                raise FairnessError(
                    f"group {label!r} in `sensitive` was not in the fitting data; refit with it"
                )
            m = groups.codes == i
            out[m] = self.rules[label].probability(score[m])
        return out

    def predict(self, y_score: Any, sensitive: Any, *, seed: int = 0) -> np.ndarray:
        """Randomised 0/1 predictions (seeded: same seed, same predictions)."""
        p = self.probability(y_score, sensitive)
        u = Seeds(seed).generator("threshold-optimizer").random(p.size)
        out: np.ndarray = (u < p).astype(np.int8)
        return out


def _roc(score: np.ndarray, y: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Vertices of ``score >= t`` for t over descending unique scores (t = +inf first)."""
    order = np.argsort(-score, kind="stable")
    s, yy = score[order], y[order].astype(np.int64)
    tp, sel = np.cumsum(yy), np.arange(1, s.size + 1)
    last = np.r_[np.flatnonzero(np.diff(s) != 0), s.size - 1]
    return np.r_[np.inf, s[last]], np.r_[0, tp[last]], np.r_[0, sel[last]]


def _mix_rule(thr: np.ndarray, pos: np.ndarray, target: float) -> GroupRule:
    """Rule hitting ``target`` on the vertex path ``pos`` (increasing) by mixing two vertices."""
    k = int(np.clip(np.searchsorted(pos, target, side="right") - 1, 0, len(pos) - 2))
    span = pos[k + 1] - pos[k]
    lam = 0.0 if span == 0 else float(np.clip((target - pos[k]) / span, 0.0, 1.0))
    # scores >= thr[k] always selected, those in [thr[k+1], thr[k]) with probability lam
    if np.isinf(thr[k]):
        return GroupRule(np.array([thr[k + 1]]), np.array([0.0, lam]))
    return GroupRule(np.array([thr[k + 1], thr[k]]), np.array([0.0, lam, 1.0]))


def _upper_hull(x: np.ndarray, y: np.ndarray) -> np.ndarray:
    """Indices of the upper convex hull of points sorted by x (monotone chain)."""
    hull: list[int] = []
    for i in range(len(x)):
        while len(hull) >= 2:
            a, b = hull[-2], hull[-1]
            if (x[b] - x[a]) * (y[i] - y[a]) - (y[b] - y[a]) * (x[i] - x[a]) >= 0:
                hull.pop()
            else:
                break
        hull.append(i)
    return np.array(hull)


def threshold_optimizer(
    y_true: Any,
    y_score: Any,
    sensitive: Any,
    *,
    constraint: Constraint | str = Constraint.DEMOGRAPHIC_PARITY,
    grid_size: int = 1001,
) -> GroupThresholds:
    """Per-group randomised thresholds maximising accuracy under a fairness constraint.

    Post-processing as Hardt, Price & Srebro (2016) and Fairlearn's ``ThresholdOptimizer``:
    fit on a validation split, apply with :meth:`GroupThresholds.predict`.

    * ``"demographic_parity"``: for each common selection rate s on a grid, every group selects
      its top-scored s·n_g rows (randomising among tied scores); the s with the highest
      expected accuracy wins.
    * ``"equalized_odds"``: each group's ROC upper convex hull; for each FPR x on a grid the
      common TPR is the lowest hull value over groups, reached in each group by mixing its hull
      point with the random classifier at rate x; the x with the highest expected accuracy wins.

    Raises:
        FairnessError: a group without positives or negatives (equalized odds), bad inputs.

    Example:
        >>> scores = [0.9, 0.6, 0.4, 0.1, 0.8, 0.7, 0.3, 0.2]
        >>> fit = threshold_optimizer([1, 1, 0, 0, 1, 0, 0, 0], scores, ["a"] * 4 + ["b"] * 4)
        >>> fit.rates, fit.expected_accuracy
        ({'a': (0.25,), 'b': (0.25,)}, 0.875)
    """
    yt = check_lengths(y_true, np.zeros(np.asarray(y_true).shape[0], dtype=np.int8))[0]
    score = as_float_array(y_score, "y_score")
    if score.shape != yt.shape:
        raise FairnessError(f"`y_score` has shape {score.shape} but `y_true` has {yt.shape}")
    try:
        con = Constraint(constraint)
    except ValueError:
        raise FairnessError(
            f"`constraint` must be one of {[c.value for c in Constraint]}, got {constraint!r}"
        ) from None
    groups = as_groups(sensitive, yt.size)
    grid = np.linspace(0.0, 1.0, grid_size)
    if con is Constraint.DEMOGRAPHIC_PARITY:
        return _fit_dp(yt, score, groups, grid)
    return _fit_eo(yt, score, groups, grid)


def _fit_dp(yt: np.ndarray, score: np.ndarray, groups: Groups, grid: np.ndarray) -> GroupThresholds:
    correct = np.zeros(grid.size)
    paths = []
    for g in range(groups.n_groups):
        m = groups.codes == g
        thr, tp, sel = _roc(score[m], yt[m])
        n_g, pos = int(m.sum()), int(yt[m].sum())
        sel_rate = sel / n_g
        tp_at = np.interp(grid, sel_rate, tp)
        correct += tp_at + (n_g - pos) - (grid * n_g - tp_at)
        paths.append((thr, sel_rate))
    best = int(np.argmax(correct))
    s = float(grid[best])
    rules = {
        label: _mix_rule(thr, sr, s) for label, (thr, sr) in zip(groups.labels, paths, strict=True)
    }
    rates: dict[str, tuple[float, ...]] = {label: (s,) for label in groups.labels}
    return GroupThresholds("demographic_parity", rules, float(correct[best] / yt.size), rates)


def _fit_eo(yt: np.ndarray, score: np.ndarray, groups: Groups, grid: np.ndarray) -> GroupThresholds:
    hulls = []
    for g, label in enumerate(groups.labels):
        m = groups.codes == g
        pos, n_g = int(yt[m].sum()), int(m.sum())
        if pos == 0 or pos == n_g:
            raise FairnessError(
                f"group {label!r} has only {'negatives' if pos == 0 else 'positives'}, so its ROC "
                "curve is undefined; equalized odds needs both labels in every group"
            )
        thr, tp, sel = _roc(score[m], yt[m])
        fpr, tpr = (sel - tp) / (n_g - pos), tp / pos
        h = _upper_hull(fpr, tpr)
        hulls.append((thr[h], fpr[h], tpr[h], pos, n_g - pos))
    common = np.min([np.interp(grid, fx, ty) for _, fx, ty, _, _ in hulls], axis=0)
    P = sum(h[3] for h in hulls)
    N = sum(h[4] for h in hulls)
    correct = common * P + (1 - grid) * N
    best = int(np.argmax(correct))
    x, y = float(grid[best]), float(common[best])
    rules: dict[str, GroupRule] = {}
    rates: dict[str, tuple[float, ...]] = {}
    for label, (thr, fx, ty, _, _) in zip(groups.labels, hulls, strict=True):
        hull_y = float(np.interp(x, fx, ty))
        q = 1.0 if hull_y - x <= 1e-15 else (y - x) / (hull_y - x)
        base = _mix_rule(thr, fx, x)
        rules[label] = GroupRule(base.edges, q * base.levels + (1 - q) * x)
        rates[label] = (y, x)
    return GroupThresholds("equalized_odds", rules, float(correct[best] / yt.size), rates)
