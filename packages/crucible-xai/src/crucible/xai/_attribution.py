"""Occlusion and integrated gradients."""

from __future__ import annotations

from collections.abc import Callable, Sequence

import numpy as np
import numpy.typing as npt

from crucible.xai._model import (
    Explanation,
    ModelFn,
    Predictor,
    XAIError,
    as_matrix,
    as_vector,
    feature_names_for,
)

__all__ = ["integrated_gradients", "occlusion"]


def occlusion(
    f: ModelFn,
    x: npt.ArrayLike,
    background: npt.ArrayLike,
    *,
    output: int | None = None,
    feature_names: Sequence[str] | None = None,
) -> Explanation:
    """Occlusion (Zeiler & Fergus 2014): the drop in output when one feature is replaced.

    φ_i = f(x) − E_b[f(x with x_i := b_i)] over background rows ``b`` (a single row is a fixed
    baseline). Unlike SHAP the values need not sum to ``f(x) − base`` when features interact.

    Example:
        >>> occlusion(lambda X: X[:, 0] * X[:, 1], [2.0, 3.0], [[0.0, 0.0]]).values.tolist()
        [6.0, 6.0]
    """
    xv = as_vector(x, "x")
    bg = as_matrix(background, "background", xv.size)
    d, m = xv.size, bg.shape[0]
    predict = Predictor(f, d, output)
    rows = np.repeat(xv[None, None, :], d, axis=0).repeat(m, axis=1)  # (d, m, d)
    idx = np.arange(d)
    rows[idx, :, idx] = bg.T
    occluded = predict(rows.reshape(-1, d)).reshape(d, m).mean(axis=1)
    fx = float(predict(xv[None, :])[0])
    base = float(predict(bg).mean())
    return Explanation(
        fx - occluded, base, feature_names_for(feature_names, d), "occlusion",
        predict.n_evaluations, xv, fx,
    )  # fmt: skip


def integrated_gradients(
    f: ModelFn,
    x: npt.ArrayLike,
    baseline: npt.ArrayLike,
    *,
    gradient: Callable[[np.ndarray], npt.ArrayLike],
    n_steps: int = 64,
    output: int | None = None,
    feature_names: Sequence[str] | None = None,
) -> Explanation:
    """Integrated gradients (Sundararajan, Taly & Yan 2017) with Gauss–Legendre quadrature.

    φ_i = (x_i − x'_i) ∫_0^1 ∂f/∂x_i (x' + α(x − x')) dα, approximated with ``n_steps``
    Gauss–Legendre nodes (exact for polynomial paths of degree < 2·n_steps). Completeness:
    Σ φ_i ≈ f(x) − f(x'); the gap is reported as ``score``.

    Args:
        gradient: ``(n, d)`` points -> ``(n, d)`` gradients of the explained output.
        baseline: the reference point x' (often zeros or the training mean).

    Example:
        >>> f = lambda X: (X**2).sum(axis=1)
        >>> e = integrated_gradients(f, [1.0, 2.0], [0.0, 0.0], gradient=lambda X: 2 * X)
        >>> e.values.round(9).tolist()
        [1.0, 4.0]
    """
    xv = as_vector(x, "x")
    base = as_vector(baseline, "baseline")
    if base.size != xv.size:
        raise XAIError(f"`baseline` has {base.size} features but `x` has {xv.size}")
    if not isinstance(n_steps, int) or n_steps < 1:
        raise XAIError(f"`n_steps` must be an int >= 1, got {n_steps!r}")
    if not callable(gradient):
        raise XAIError("`gradient` must be a callable returning (n, d) gradients")
    d = xv.size
    nodes, w = np.polynomial.legendre.leggauss(n_steps)
    alphas, w = (nodes + 1) / 2, w / 2
    path = base[None, :] + alphas[:, None] * (xv - base)[None, :]
    grads = np.asarray(gradient(path), dtype=np.float64)
    if grads.shape != (n_steps, d):
        raise XAIError(
            f"`gradient` must return shape ({n_steps}, {d}) for {n_steps} points, got {grads.shape}"
        )
    phi = (xv - base) * (w @ grads)
    predict = Predictor(f, d, output)
    ends = predict(np.stack([base, xv]))
    gap = float(phi.sum() - (ends[1] - ends[0]))
    return Explanation(
        phi, float(ends[0]), feature_names_for(feature_names, d),
        f"integrated_gradients ({n_steps} Gauss–Legendre nodes)", predict.n_evaluations + n_steps,
        xv, float(ends[1]), gap,
    )  # fmt: skip
