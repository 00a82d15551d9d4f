"""Multiple-comparison corrections of p-values."""

from __future__ import annotations

from collections.abc import Callable
from enum import StrEnum

import attrs
import numpy as np
import numpy.typing as npt

from crucible.bench._errors import BenchInputError
from crucible.bench._results import ResultMixin, fmt
from crucible.bench._validate import as_enum, check_alpha

__all__ = ["Adjusted", "Correction", "adjust"]


class Correction(StrEnum):
    """Family-wise error (FWER) and false discovery rate (FDR) corrections."""

    BONFERRONI = "bonferroni"
    HOLM = "holm"
    HOCHBERG = "hochberg"
    SIDAK = "sidak"
    HOLM_SIDAK = "holm-sidak"
    FDR_BH = "fdr_bh"
    FDR_BY = "fdr_by"
    NONE = "none"


@attrs.frozen(eq=False)  # holds arrays: compare fields explicitly, not with ==
class Adjusted(ResultMixin):
    """Adjusted p-values and rejection decisions, in the order of the input."""

    p_values: np.ndarray
    adjusted: np.ndarray
    reject: np.ndarray
    method: str
    alpha: float

    def __str__(self) -> str:
        k = int(self.reject.sum())
        return (
            f"{self.method}: {k} of {self.adjusted.size} rejected at alpha = {fmt(self.alpha)}; "
            f"smallest adjusted p = {fmt(float(self.adjusted.min()))}"
        )


def _step_down(factors: np.ndarray) -> np.ndarray:
    """Holm-type: running maximum of the adjusted values, from the smallest p upwards."""
    out: np.ndarray = np.minimum(np.maximum.accumulate(factors), 1.0)
    return out


def _step_up(values: np.ndarray) -> np.ndarray:
    """Hochberg/BH-type: running minimum from the largest p downwards."""
    out: np.ndarray = np.minimum(np.minimum.accumulate(values[::-1])[::-1], 1.0)
    return out


def adjust(
    p_values: npt.ArrayLike,
    method: Correction | str = Correction.HOLM,
    *,
    alpha: float = 0.05,
) -> Adjusted:
    """Adjust p-values for multiple comparisons.

    Parameters
    ----------
    p_values
        Raw p-values, each in [0, 1] (1-D; NaN is not allowed).
    method
        A :class:`Correction` or its name: ``bonferroni``, ``holm``, ``hochberg``, ``sidak``,
        ``holm-sidak``, ``fdr_bh``, ``fdr_by`` or ``none``.
    alpha
        Level at which ``reject`` is decided (``adjusted <= alpha``).

    Returns
    -------
    Adjusted
        ``adjusted`` p-values (never below the raw ones, capped at 1) and ``reject`` flags.

    Raises
    ------
    BenchInputError
        If a p-value is outside [0, 1] or NaN, if the input is empty or ``method`` is unknown.

    Notes
    -----
    With m tests and sorted p-values p(1) <= ... <= p(m): Bonferroni m·p; Šidák 1-(1-p)^m;
    Holm max_{j<=i} (m-j+1)·p(j); Holm–Šidák max_{j<=i} 1-(1-p(j))^(m-j+1); Hochberg
    min_{j>=i} (m-j+1)·p(j); Benjamini–Hochberg min_{j>=i} m·p(j)/j; Benjamini–Yekutieli
    BH times sum_{k=1..m} 1/k. Hochberg and BH assume independence or positive dependence;
    BY holds under any dependence.

    References
    ----------
    Holm, S. (1979). Scand. J. Statist. 6, 65–70. Hochberg, Y. (1988). Biometrika 75, 800–802.
    Benjamini, Y. & Hochberg, Y. (1995). JRSS B 57, 289–300. Benjamini, Y. & Yekutieli, D.
    (2001). Ann. Statist. 29, 1165–1188. Šidák, Z. (1967). JASA 62, 626–633.

    Validated against: statsmodels.stats.multitest.multipletests (every method).

    Examples
    --------
    >>> adjust([0.01, 0.02, 0.04], "holm").adjusted.tolist()
    [0.03, 0.04, 0.04]
    """
    correction = as_enum(method, Correction, "method")
    alpha = check_alpha(alpha)
    p = np.asarray(p_values, dtype=np.float64)
    if p.ndim != 1 or p.size == 0:
        raise BenchInputError("`p_values` must be a non-empty 1-D sequence of p-values")
    if not ((p >= 0.0).all() and (p <= 1.0).all()):  # NaN fails both comparisons
        bad = float(p[~((p >= 0.0) & (p <= 1.0))][0])
        raise BenchInputError(f"`p_values` must lie in [0, 1]; got {bad!r}")
    m = p.size
    # Tied p-values receive equal adjusted values, so the sort need not be stable.
    order = np.argsort(p)
    ps = p[order]
    ranks = np.arange(1, m + 1, dtype=np.float64)
    with np.errstate(divide="ignore"):  # log1p(-1) = -inf is the right limit for p = 1
        adj_sorted = _ADJUSTERS[correction](ps, ranks, m)
    adjusted = np.empty(m)
    adjusted[order] = adj_sorted
    adjusted = np.maximum(adjusted, p)
    return Adjusted(
        p_values=p,
        adjusted=adjusted,
        reject=adjusted <= alpha,
        method=correction.value,
        alpha=alpha,
    )


def _sidak(p: np.ndarray, factor: np.ndarray | int) -> np.ndarray:
    out: np.ndarray = -np.expm1(factor * np.log1p(-p))
    return out


# One small function per correction; ``ranks`` are 1..m for the sorted p-values.
_ADJUSTERS: dict[Correction, Callable[[np.ndarray, np.ndarray, int], np.ndarray]] = {
    Correction.NONE: lambda ps, ranks, m: ps.copy(),
    Correction.BONFERRONI: lambda ps, ranks, m: np.minimum(ps * m, 1.0),
    Correction.SIDAK: lambda ps, ranks, m: _sidak(ps, m),
    Correction.HOLM: lambda ps, ranks, m: _step_down(ps * (m - ranks + 1)),
    Correction.HOLM_SIDAK: lambda ps, ranks, m: _step_down(_sidak(ps, m - ranks + 1)),
    Correction.HOCHBERG: lambda ps, ranks, m: _step_up(ps * (m - ranks + 1)),
    Correction.FDR_BH: lambda ps, ranks, m: _step_up(ps * m / ranks),
    Correction.FDR_BY: lambda ps, ranks, m: _step_up(ps * m / ranks * np.sum(1.0 / ranks)),
}
