"""Batch drift tests between a reference sample and a current sample, per column type.

Numeric columns: two-sample Kolmogorov-Smirnov plus Wasserstein distance, Jensen-Shannon
distance and PSI on reference-quantile bins (distances are the useful signal when the
reference is large and every KS test is "significant"). Categorical columns: chi-square on
the contingency table plus PSI and Jensen-Shannon. Boolean columns: two-proportion z test.
"""

from __future__ import annotations

import math
from typing import Any

import attrs
import numpy as np
import numpy.typing as npt
import polars as pl
from scipy import stats
from scipy.spatial.distance import jensenshannon

from crucible.bench import chi2_contingency, ks_2samp, proportions_ztest
from crucible.production_eval._errors import ProductionEvalError

__all__ = ["DriftResult", "detect_drift", "psi"]

_EPS = 1e-6


@attrs.frozen
class DriftResult:
    """Drift of one column: the test, its p-value and distribution distances.

    ``drift`` is true when ``p_value < alpha`` and, if ``psi_threshold`` is set, the PSI
    exceeds it too (for large references, where tiny differences are significant).
    """

    column: str
    kind: str
    test: str
    statistic: float
    p_value: float
    psi: float
    jensen_shannon: float
    wasserstein: float
    n_reference: int
    n_current: int
    drift: bool

    def to_dict(self) -> dict[str, Any]:
        return attrs.asdict(self)

    def __str__(self) -> str:
        flag = "DRIFT" if self.drift else "stable"
        return (
            f"{self.column} ({self.kind}): {self.test} statistic {self.statistic:.4g}, "
            f"p = {self.p_value:.3g}, PSI {self.psi:.3f}, JS {self.jensen_shannon:.3f} [{flag}]"
        )


def _hist(ref: np.ndarray, cur: np.ndarray, bins: int) -> tuple[np.ndarray, np.ndarray]:
    edges = np.unique(np.quantile(ref, np.linspace(0, 1, bins + 1)))
    edges[0], edges[-1] = -np.inf, np.inf
    if edges.size < 2:
        edges = np.array([-np.inf, np.inf])
    p = np.histogram(ref, edges)[0].astype(float)
    q = np.histogram(cur, edges)[0].astype(float)
    return p / p.sum(), q / q.sum()


def psi(expected: npt.ArrayLike, actual: npt.ArrayLike) -> float:
    """Population stability index Σ (a - e) ln(a / e) over bin shares (bins floored at 1e-6).

    Rules of thumb (Siddiqi 2006): < 0.1 stable, 0.1-0.25 moderate shift, > 0.25 major shift.
    """
    e = np.maximum(np.asarray(expected, dtype=float), _EPS)
    a = np.maximum(np.asarray(actual, dtype=float), _EPS)
    return float(np.sum((a - e) * np.log(a / e)))


def _values(series: pl.Series, name: str, where: str) -> pl.Series:
    s = series.drop_nulls()
    if s.dtype.is_float():
        s = s.filter(s.is_finite())
    if s.len() < 2:
        raise ProductionEvalError(
            f"detect_drift: column {name!r} has {s.len()} usable values in `{where}`; "
            "need at least 2"
        )
    return s


def _column(
    name: str,
    ref_s: pl.Series,
    cur_s: pl.Series,
    alpha: float,
    bins: int,
    psi_threshold: float | None,
) -> DriftResult:
    ref_s, cur_s = _values(ref_s, name, "reference"), _values(cur_s, name, "current")
    if ref_s.dtype == pl.Boolean:
        r, c = ref_s.cast(pl.Int64), cur_s.cast(pl.Int64)
        res = proportions_ztest([int(c.sum()), int(r.sum())], [c.len(), r.len()])
        rm, cm = float(r.mean() or 0.0), float(c.mean() or 0.0)  # type: ignore[arg-type]
        pr = np.array([1 - rm, rm], dtype=float)
        pc = np.array([1 - cm, cm], dtype=float)
        kind, test, stat, p, wd = "boolean", res.test, res.statistic, res.p_value, math.nan
    elif ref_s.dtype.is_numeric():
        ra, ca = ref_s.cast(pl.Float64).to_numpy(), cur_s.cast(pl.Float64).to_numpy()
        res = ks_2samp(ra, ca)
        pr, pc = _hist(ra, ca, bins)
        kind, test, stat, p = "numeric", res.test, res.statistic, res.p_value
        wd = float(stats.wasserstein_distance(ra, ca))
    else:
        ra_s, ca_s = ref_s.cast(pl.String), cur_s.cast(pl.String)
        cats = sorted(set(ra_s.to_list()) | set(ca_s.to_list()))
        rc = np.array([int((ra_s == v).sum()) for v in cats], dtype=float)
        cc = np.array([int((ca_s == v).sum()) for v in cats], dtype=float)
        if len(cats) < 2:
            stat, p = 0.0, 1.0
            test = "chi-square (one category)"
        else:
            res = chi2_contingency(np.vstack([rc, cc]))
            test, stat, p = res.test, res.statistic, res.p_value
        pr, pc = rc / rc.sum(), cc / cc.sum()
        kind, wd = "categorical", math.nan
    value = psi(pr, pc)
    js = float(jensenshannon(pr, pc, base=2))
    drift = p < alpha and (psi_threshold is None or value > psi_threshold)
    return DriftResult(
        name, kind, test, float(stat), float(p), value, js, wd, ref_s.len(), cur_s.len(), drift
    )


def detect_drift(
    reference: pl.DataFrame,
    current: pl.DataFrame,
    *,
    columns: list[str] | None = None,
    alpha: float = 0.01,
    bins: int = 10,
    psi_threshold: float | None = None,
) -> list[DriftResult]:
    """Test every column (or ``columns``) of ``current`` against ``reference`` for drift.

    Raises:
        ProductionEvalError: a column missing from either frame, or with fewer than 2 values.

    Example:
        >>> import polars as pl
        >>> ref = pl.DataFrame({"length": list(range(100))})
        >>> cur = pl.DataFrame({"length": list(range(50, 150))})
        >>> detect_drift(ref, cur)[0].drift
        True
    """
    if not 0 < alpha < 1:
        raise ProductionEvalError(f"`alpha` must be in (0, 1), got {alpha!r}")
    names = (
        columns if columns is not None else [c for c in reference.columns if c in current.columns]
    )
    out = []
    for name in names:
        for frame, where in ((reference, "reference"), (current, "current")):
            if name not in frame.columns:
                raise ProductionEvalError(
                    f"detect_drift: column {name!r} is missing from `{where}` "
                    f"(it has {', '.join(frame.columns)})"
                )
        out.append(_column(name, reference[name], current[name], alpha, bins, psi_threshold))
    return out
