"""Global explanations: permutation importance, partial dependence, ICE, ALE, H-statistic."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import attrs
import numpy as np
import numpy.typing as npt
import polars as pl
from scipy import stats

from crucible.core import Seeds
from crucible.xai._model import ModelFn, Predictor, XAIError, as_matrix, feature_names_for

__all__ = [
    "ALE",
    "PartialDependence",
    "accumulated_local_effects",
    "h_statistic",
    "ice",
    "partial_dependence",
    "permutation_importance",
]


def _feature(index: int, d: int, name: str = "feature") -> int:
    if not isinstance(index, int | np.integer) or not -d <= index < d:
        raise XAIError(f"`{name}` must be a column index in [0, {d - 1}], got {index!r}")
    return int(index) % d


def permutation_importance(
    f: ModelFn,
    X: npt.ArrayLike,
    y: npt.ArrayLike,
    *,
    scorer: Callable[[np.ndarray, np.ndarray], float],
    n_repeats: int = 10,
    ci: float = 0.95,
    seed: int = 0,
    output: int | None = None,
    feature_names: Sequence[str] | None = None,
) -> pl.DataFrame:
    """Permutation importance (Breiman 2001; Fisher, Rudin & Dominici 2019) with t-based CIs.

    Importance of feature j = score(y, f(X)) − score(y, f(X with column j permuted)), averaged
    over ``n_repeats`` seeded permutations (``scorer``: higher is better, e.g. accuracy or
    negative MSE). As ``sklearn.inspection.permutation_importance``.

    Returns:
        polars DataFrame ``feature, importance, std, ci_low, ci_high, n_repeats`` (std with
        ``ddof=0`` like scikit-learn; the CI is a t-interval over repeats with ``ddof=1``).

    Example:
        >>> import numpy as np
        >>> X = np.random.default_rng(0).normal(size=(200, 2))
        >>> def neg_mse(y, p):
        ...     return -float(np.mean((y - p) ** 2))
        >>> pi = permutation_importance(lambda Z: Z[:, 0], X, X[:, 0], scorer=neg_mse, n_repeats=5)
        >>> pi["importance"].round(2).to_list()
        [1.88, 0.0]
    """
    Xm = as_matrix(X, "X")
    yv = np.asarray(y).ravel()
    if yv.size != Xm.shape[0]:
        raise XAIError(f"`y` has {yv.size} rows but `X` has {Xm.shape[0]}; pass one label per row")
    if not isinstance(n_repeats, int) or n_repeats < 2:
        raise XAIError(f"`n_repeats` must be an int >= 2 for a CI, got {n_repeats!r}")
    n, d = Xm.shape
    names = feature_names_for(feature_names, d)
    predict = Predictor(f, d, output)
    reference = float(scorer(yv, predict(Xm)))
    rng = Seeds(seed).generator("permutation_importance")
    drops = np.empty((d, n_repeats))
    for j in range(d):
        Xp = np.repeat(Xm[None], n_repeats, axis=0)
        for r in range(n_repeats):
            Xp[r, :, j] = Xm[rng.permutation(n), j]
        preds = predict(Xp.reshape(-1, d)).reshape(n_repeats, n)
        drops[j] = [reference - float(scorer(yv, preds[r])) for r in range(n_repeats)]
    mean = drops.mean(axis=1)
    se = drops.std(axis=1, ddof=1) / np.sqrt(n_repeats)
    t = stats.t.ppf(0.5 + ci / 2, n_repeats - 1)
    return pl.DataFrame({
        "feature": list(names), "importance": mean, "std": drops.std(axis=1),
        "ci_low": mean - t * se, "ci_high": mean + t * se, "n_repeats": [n_repeats] * d,
    })  # fmt: skip


def _grid(column: np.ndarray, resolution: int, percentiles: tuple[float, float]) -> np.ndarray:
    uniq = np.unique(column)
    if uniq.size < resolution:
        return uniq
    # scipy's mquantiles (Hyndman & Fan type 8-like, alphap = betap = 0.4), as scikit-learn
    lo, hi = np.asarray(stats.mstats.mquantiles(column, prob=percentiles), dtype=np.float64)
    if lo == hi:
        raise XAIError("the percentiles of the feature are equal; widen `percentiles`")
    return np.linspace(lo, hi, resolution)


@attrs.frozen
class PartialDependence:
    """Partial dependence (and its ICE curves) over a grid.

    Attributes:
        features: the column indices (one or two).
        grid: one grid per feature.
        average: the PD, shape ``(len(grid[0]),)`` or ``(len(grid[0]), len(grid[1]))``.
        individual: ICE curves ``(n, len(grid[0]))`` for one feature, else None.
        feature_names: names of ``features``.
    """

    features: tuple[int, ...]
    grid: tuple[np.ndarray, ...] = attrs.field(eq=False)
    average: np.ndarray = attrs.field(eq=False)
    individual: np.ndarray | None = attrs.field(eq=False)
    feature_names: tuple[str, ...]

    def centered(self) -> np.ndarray:
        """Centred ICE curves (c-ICE, Goldstein et al. 2015): each curve minus its value at the
        first grid point."""
        if self.individual is None:
            raise XAIError("centred ICE needs one feature; this is a 2-D partial dependence")
        out: np.ndarray = self.individual - self.individual[:, :1]
        return out

    def to_dict(self) -> dict[str, Any]:
        return {
            "features": list(self.features),
            "feature_names": list(self.feature_names),
            "grid": [g.tolist() for g in self.grid],
            "average": self.average.tolist(),
        }


def partial_dependence(
    f: ModelFn,
    X: npt.ArrayLike,
    features: int | Sequence[int],
    *,
    grid_resolution: int = 100,
    percentiles: tuple[float, float] = (0.05, 0.95),
    output: int | None = None,
    feature_names: Sequence[str] | None = None,
) -> PartialDependence:
    """Partial dependence (Friedman 2001), 1-D with ICE curves or 2-D, by brute force.

    The grid per feature is its unique values when fewer than ``grid_resolution``, else
    ``grid_resolution`` points evenly spaced between the given percentiles (``scipy.stats.mstats.
    mquantiles``) — as
    ``sklearn.inspection.partial_dependence(method="brute")``.

    Example:
        >>> import numpy as np
        >>> X = np.arange(20.0).reshape(10, 2)
        >>> partial_dependence(lambda Z: 2 * Z[:, 0] + Z[:, 1], X, 0, grid_resolution=5).average.tolist()
        [10.0, 19.0, 28.0, 37.0, 46.0]
    """
    Xm = as_matrix(X, "X")
    n, d = Xm.shape
    cols = (features,) if isinstance(features, int | np.integer) else tuple(features)
    if not 1 <= len(cols) <= 2:
        raise XAIError(f"`features` must be one or two column indices, got {features!r}")
    cols = tuple(_feature(c, d, "features") for c in cols)
    names = feature_names_for(feature_names, d)
    grids = tuple(_grid(Xm[:, c], grid_resolution, percentiles) for c in cols)
    predict = Predictor(f, d, output)
    mesh = np.stack([g.ravel() for g in np.meshgrid(*grids, indexing="ij")], axis=1)
    Xg = np.repeat(Xm[None], len(mesh), axis=0)
    for k, c in enumerate(cols):
        Xg[:, :, c] = mesh[:, k][:, None]
    preds = predict(Xg.reshape(-1, d)).reshape(len(mesh), n)
    shape = tuple(len(g) for g in grids)
    average = preds.mean(axis=1).reshape(shape)
    individual = preds.T.copy() if len(cols) == 1 else None
    return PartialDependence(cols, grids, average, individual, tuple(names[c] for c in cols))


def ice(
    f: ModelFn, X: npt.ArrayLike, feature: int, *, centered: bool = False,
    grid_resolution: int = 100, output: int | None = None,
) -> np.ndarray:  # fmt: skip
    """Individual conditional expectation curves (Goldstein et al. 2015), ``(n, grid)``;
    ``centered=True`` subtracts each curve's value at the first grid point (c-ICE)."""
    pd_ = partial_dependence(f, X, feature, grid_resolution=grid_resolution, output=output)
    if centered:
        return pd_.centered()
    if pd_.individual is None:
        raise XAIError("ICE needs a single `feature`")
    return pd_.individual


@attrs.frozen
class ALE:
    """First-order accumulated local effects of one feature.

    Attributes:
        edges: bin edges (quantiles of the feature, duplicates removed), length K + 1.
        effect: the centred ALE at each edge, length K + 1.
        counts: rows per bin, length K.
    """

    feature: int
    edges: np.ndarray = attrs.field(eq=False)
    effect: np.ndarray = attrs.field(eq=False)
    counts: np.ndarray = attrs.field(eq=False)

    def to_dict(self) -> dict[str, Any]:
        return {"feature": self.feature, "edges": self.edges.tolist(),
                "effect": self.effect.tolist(), "counts": self.counts.tolist()}  # fmt: skip


def accumulated_local_effects(
    f: ModelFn, X: npt.ArrayLike, feature: int, *, n_bins: int = 20, output: int | None = None
) -> ALE:
    """First-order ALE (Apley & Zhu 2020), as R's ``ALEPlot``.

    Edges are the ``n_bins + 1`` quantiles of the feature with duplicates removed; a row falls in
    bin k when ``z_{k−1} < x ≤ z_k`` (the first bin also takes ``x = z_0``). The local effect of
    bin k is the mean of ``f(z_k, x_\\j) − f(z_{k−1}, x_\\j)`` over its rows; effects accumulate
    over bins and are centred so their count-weighted mean over bin midpoints is zero.

    Raises:
        XAIError: a constant feature (no bins).

    Example:
        >>> import numpy as np
        >>> X = np.arange(20.0).reshape(10, 2)
        >>> ale = accumulated_local_effects(lambda Z: 2 * Z[:, 0] + Z[:, 1], X, 0, n_bins=4)
        >>> ale.effect.round(6).tolist()
        [-18.0, -9.0, 0.0, 9.0, 18.0]
    """
    Xm = as_matrix(X, "X")
    d = Xm.shape[1]
    j = _feature(feature, d)
    col = Xm[:, j]
    edges = np.unique(np.quantile(col, np.linspace(0, 1, n_bins + 1)))
    if edges.size < 2:
        raise XAIError(f"feature {j} is constant, so it has no accumulated local effect")
    k = np.clip(np.searchsorted(edges, col, side="left"), 1, edges.size - 1)
    predict = Predictor(f, d, output)
    lo, hi = Xm.copy(), Xm.copy()
    lo[:, j], hi[:, j] = edges[k - 1], edges[k]
    diff = predict(hi) - predict(lo)
    bins = edges.size - 1
    counts = np.bincount(k - 1, minlength=bins)
    local = np.bincount(k - 1, weights=diff, minlength=bins) / np.maximum(counts, 1)
    acc = np.concatenate([[0.0], np.cumsum(local)])
    centre = np.sum((acc[:-1] + acc[1:]) / 2 * counts) / counts.sum()
    return ALE(j, edges, acc - centre, counts)


def h_statistic(
    f: ModelFn, X: npt.ArrayLike, pair: tuple[int, int], *, n_rows: int | None = 200,
    seed: int = 0, output: int | None = None,
) -> float:  # fmt: skip
    """Friedman & Popescu's (2008) H² for the interaction of two features.

    H² = Σ_i [PD_jk(x_i) − PD_j(x_ij) − PD_k(x_ik)]² / Σ_i PD_jk(x_i)², all partial dependences
    centred and evaluated at the data points (O(n²) model rows; ``n_rows`` subsamples the data,
    seeded). 0 means no interaction; 1 means the joint effect is pure interaction.

    Example:
        >>> import numpy as np
        >>> X = np.arange(20.0).reshape(10, 2)
        >>> round(h_statistic(lambda Z: Z[:, 0] * Z[:, 1], X - X.mean(axis=0), (0, 1)), 6)
        1.0
    """
    Xm = as_matrix(X, "X")
    n, d = Xm.shape
    j, k = (_feature(c, d, "pair") for c in pair)
    if j == k:
        raise XAIError("`pair` must name two different columns")
    if n_rows is not None and n > n_rows:
        Xm = Xm[Seeds(seed).generator("h_statistic").choice(n, n_rows, replace=False)]
        n = n_rows
    predict = Predictor(f, d, output)

    def pd_at(cols: list[int]) -> np.ndarray:
        Xg = np.repeat(Xm[None], n, axis=0)  # Xg[i] = data with cols set to row i's values
        for c in cols:
            Xg[:, :, c] = Xm[:, c][:, None]
        v = predict(Xg.reshape(-1, d)).reshape(n, n).mean(axis=1)
        out: np.ndarray = v - v.mean()
        return out

    pd_jk, pd_j, pd_k = pd_at([j, k]), pd_at([j]), pd_at([k])
    denom = float(np.sum(pd_jk**2))
    if denom == 0:
        return 0.0
    return float(np.sum((pd_jk - pd_j - pd_k) ** 2) / denom)
