"""LIME for tabular data (Ribeiro, Singh & Guestrin 2016), following ``lime.lime_tabular``."""

from __future__ import annotations

from collections.abc import Sequence
from enum import StrEnum
from typing import Literal

import numpy as np
import numpy.typing as npt

from crucible.core import Seeds
from crucible.xai._model import (
    Explanation,
    ModelFn,
    Predictor,
    XAIError,
    as_matrix,
    as_vector,
    feature_names_for,
)

__all__ = ["Discretizer", "lime"]


class Discretizer(StrEnum):
    """How continuous features are binned before sampling (``lime``'s ``discretizer``)."""

    QUARTILE = "quartile"
    DECILE = "decile"
    NONE = "none"


def _edges(column: np.ndarray, kind: Discretizer) -> np.ndarray:
    qs = [25, 50, 75] if kind is Discretizer.QUARTILE else list(range(10, 100, 10))
    return np.unique(np.percentile(column, qs))


def _ridge(
    Z: np.ndarray, y: np.ndarray, w: np.ndarray, alpha: float
) -> tuple[np.ndarray, float, float]:
    """Weighted ridge regression with an unpenalised intercept (sklearn ``Ridge(alpha)`` with
    ``sample_weight``); returns coefficients, intercept and the weighted R²."""
    sw = w / w.sum()
    zm = sw @ Z
    ym = float(sw @ y)
    Zc = (Z - zm) * np.sqrt(w)[:, None]
    yc = (y - ym) * np.sqrt(w)
    coef = np.linalg.solve(Zc.T @ Zc + alpha * np.eye(Z.shape[1]), Zc.T @ yc)
    intercept = ym - float(zm @ coef)
    resid = y - (Z @ coef + intercept)
    ss_res = float(w @ (resid * resid))
    ss_tot = float(w @ ((y - ym) ** 2))
    r2 = 1.0 - ss_res / ss_tot if ss_tot > 0 else 1.0
    return coef, intercept, r2


def lime(
    f: ModelFn,
    x: npt.ArrayLike,
    training_data: npt.ArrayLike,
    *,
    n_samples: int = 5000,
    discretizer: Discretizer | Literal["quartile", "decile", "none"] = Discretizer.QUARTILE,
    kernel_width: float | None = None,
    alpha: float = 1.0,
    seed: int = 0,
    output: int | None = None,
    feature_names: Sequence[str] | None = None,
) -> Explanation:
    """Local surrogate explanation of ``f`` at ``x`` for tabular data.

    As ``lime.lime_tabular.LimeTabularExplainer`` with its defaults: with a discretizer, each
    sample draws every feature's bin from the training bin frequencies and a value from a normal
    truncated to the bin (approximated by the bin's training values resampled); the surrogate's
    inputs are indicators "same bin as x". Without one, samples are ``N(mean, std)`` per feature
    and the surrogate uses standardised values. Distances are Euclidean in the surrogate's
    (standardised) space, weights ``sqrt(exp(−d² / width²))`` with ``width = 0.75·sqrt(d)``, and
    the surrogate is ridge regression (``alpha = 1``) on all features.

    Returns:
        An :class:`Explanation`: ``values`` are the surrogate's coefficients, ``base_value`` its
        intercept and ``score`` its weighted R².

    Raises:
        XAIError: shape mismatch, NaN, a constant feature with ``discretizer="none"``.

    Example:
        >>> import numpy as np
        >>> train = np.random.default_rng(0).normal(size=(200, 2))
        >>> lime(lambda Z: 3 * Z[:, 0], [1.0, 0.0], train, discretizer="none", seed=0).values.round(2).tolist()
        [2.94, 0.0]
    """
    xv = as_vector(x, "x")
    train = as_matrix(training_data, "training_data", xv.size)
    names = feature_names_for(feature_names, xv.size)
    try:
        kind = Discretizer(discretizer)
    except ValueError:
        raise XAIError(
            f"`discretizer` must be one of {[k.value for k in Discretizer]}, got {discretizer!r}"
        ) from None
    if not isinstance(n_samples, int) or n_samples < xv.size + 2:
        raise XAIError(
            f"`n_samples` must be an int >= d + 2 = {xv.size + 2} to fit the surrogate, got {n_samples!r}"
        )
    d = xv.size
    width = 0.75 * np.sqrt(d) if kernel_width is None else float(kernel_width)
    if width <= 0:
        raise XAIError(f"`kernel_width` must be > 0, got {kernel_width}")
    rng = Seeds(seed).generator("lime")
    predict = Predictor(f, d, output)
    if kind is Discretizer.NONE:
        mean, std = train.mean(axis=0), train.std(axis=0)
        constant = np.flatnonzero(std == 0)
        if constant.size:
            raise XAIError(
                f"`training_data` feature {names[constant[0]]!r} is constant, so it cannot be "
                "standardised; drop it or use discretizer='quartile'"
            )
        samples = rng.standard_normal((n_samples, d)) * std + mean
        samples[0] = xv
        Z = (samples - mean) / std
        zx = (xv - mean) / std
    else:
        samples = np.empty((n_samples, d))
        Z = np.empty((n_samples, d))
        for j in range(d):
            edges = _edges(train[:, j], kind)
            train_bins = np.searchsorted(edges, train[:, j], side="left")
            x_bin = int(np.searchsorted(edges, xv[j], side="left"))
            bins, counts = np.unique(train_bins, return_counts=True)
            drawn = rng.choice(bins, size=n_samples, p=counts / counts.sum())
            order = np.argsort(train_bins, kind="stable")
            starts = np.searchsorted(train_bins[order], bins)
            pick = rng.integers(0, counts[np.searchsorted(bins, drawn)])
            samples[:, j] = train[order[starts[np.searchsorted(bins, drawn)] + pick], j]
            Z[:, j] = drawn == x_bin
        samples[0] = xv
        Z[0] = 1.0
        zx = np.ones(d)
    y = predict(samples)
    dist = np.sqrt(((Z - zx) ** 2).sum(axis=1))
    weights = np.sqrt(np.exp(-(dist**2) / width**2))
    coef, intercept, r2 = _ridge(Z, y, weights, alpha)
    return Explanation(
        coef, intercept, names, f"lime ({kind.value}, {n_samples} samples)", predict.n_evaluations,
        xv, float(y[0]), r2,
    )  # fmt: skip
