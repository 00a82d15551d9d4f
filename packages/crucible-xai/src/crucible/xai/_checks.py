"""Checking explanations: deletion/insertion curves, infidelity, max-sensitivity, Shapley axioms."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import attrs
import numpy as np
import numpy.typing as npt

from crucible.core import Seeds
from crucible.xai._model import Explanation, ModelFn, Predictor, XAIError, as_matrix, as_vector

__all__ = [
    "Curve",
    "deletion_curve",
    "dummy_gap",
    "efficiency_gap",
    "infidelity",
    "insertion_curve",
    "linearity_gap",
    "max_sensitivity",
    "symmetry_gap",
]

Explainer = Callable[[ModelFn, np.ndarray, np.ndarray], Explanation]


@attrs.frozen
class Curve:
    """A deletion or insertion curve: model output after each step, and its area.

    Attributes:
        fraction: share of features removed (deletion) or inserted (insertion), 0 … 1.
        output: f at each step.
        auc: trapezoidal area under ``output`` over ``fraction``.
        order: features in the order they were removed/inserted (largest attribution first).
    """

    kind: str
    fraction: np.ndarray = attrs.field(eq=False)
    output: np.ndarray = attrs.field(eq=False)
    auc: float
    order: tuple[int, ...]

    def to_dict(self) -> dict[str, Any]:
        return {"kind": self.kind, "fraction": self.fraction.tolist(), "output": self.output.tolist(),
                "auc": self.auc, "order": list(self.order)}  # fmt: skip


def _curve(
    kind: str, f: ModelFn, explanation: Explanation, baseline: npt.ArrayLike, output: int | None
) -> Curve:
    x = explanation.x
    base = as_vector(baseline, "baseline")
    if base.size != x.size:
        raise XAIError(f"`baseline` has {base.size} features but the explanation has {x.size}")
    order = np.argsort(-explanation.values, kind="stable")
    d = x.size
    start, end = (x, base) if kind == "deletion" else (base, x)
    rows = np.repeat(start[None], d + 1, axis=0)
    for step in range(1, d + 1):
        rows[step:, order[step - 1]] = end[order[step - 1]]
    out = Predictor(f, d, output)(rows)
    frac = np.arange(d + 1) / d
    auc = float(np.sum((out[1:] + out[:-1]) / 2 * np.diff(frac)))
    return Curve(kind, frac, out, auc, tuple(int(i) for i in order))


def deletion_curve(
    f: ModelFn, explanation: Explanation, baseline: npt.ArrayLike, *, output: int | None = None
) -> Curve:
    """Deletion curve (Petsiuk, Das & Saenko 2018): replace features by ``baseline`` in order of
    decreasing attribution; a faithful explanation makes the output fall fast (low AUC).

    Example:
        >>> import numpy as np
        >>> from crucible.xai import kernel_shap
        >>> f = lambda Z: 2 * Z[:, 0] + Z[:, 1]
        >>> deletion_curve(f, kernel_shap(f, [1.0, 1.0], np.zeros((1, 2))), [0.0, 0.0]).output.tolist()
        [3.0, 1.0, 0.0]
    """
    return _curve("deletion", f, explanation, baseline, output)


def insertion_curve(
    f: ModelFn, explanation: Explanation, baseline: npt.ArrayLike, *, output: int | None = None
) -> Curve:
    """Insertion curve (Petsiuk et al. 2018): start from ``baseline`` and insert features of
    ``x`` in order of decreasing attribution; faithful explanations rise fast (high AUC)."""
    return _curve("insertion", f, explanation, baseline, output)


def infidelity(
    f: ModelFn,
    explanation: Explanation,
    *,
    noise_scale: float = 0.1,
    n_perturbations: int = 1000,
    seed: int = 0,
    output: int | None = None,
) -> float:
    """Infidelity (Yeh et al. 2019): E_I[(Iᵀφ − (f(x) − f(x − I)))²], I ~ N(0, σ²·Id).

    Zero for the gradient of a linear model; smaller is more faithful.
    """
    if noise_scale <= 0 or n_perturbations < 1:
        raise XAIError("`noise_scale` must be > 0 and `n_perturbations` >= 1")
    x = explanation.x
    rng = Seeds(seed).generator("infidelity")
    noise = rng.normal(0.0, noise_scale, (n_perturbations, x.size))
    predict = Predictor(f, x.size, output)
    fx = predict(x[None])[0]
    change = fx - predict(x[None] - noise)
    return float(np.mean((noise @ explanation.values - change) ** 2))


def max_sensitivity(
    explain: Callable[[np.ndarray], Explanation],
    x: npt.ArrayLike,
    *,
    radius: float = 0.1,
    n_perturbations: int = 20,
    seed: int = 0,
) -> float:
    """Max-sensitivity (Yeh et al. 2019): max over perturbations ``||δ||_∞ ≤ radius`` of
    ``||φ(x + δ) − φ(x)||_2``, by Monte Carlo over ``n_perturbations`` uniform draws.

    ``explain`` maps an instance to its :class:`Explanation` (e.g. a lambda around
    :func:`kernel_shap` with a fixed model and background).
    """
    xv = as_vector(x, "x")
    if radius <= 0 or n_perturbations < 1:
        raise XAIError("`radius` must be > 0 and `n_perturbations` >= 1")
    rng = Seeds(seed).generator("max_sensitivity")
    phi = explain(xv).values
    worst = 0.0
    for delta in rng.uniform(-radius, radius, (n_perturbations, xv.size)):
        worst = max(worst, float(np.linalg.norm(explain(xv + delta).values - phi)))
    return worst


def efficiency_gap(explanation: Explanation) -> float:
    """|Σ φ − (f(x) − base)|: zero for Shapley values (efficiency axiom)."""
    return abs(float(explanation.values.sum()) - (explanation.prediction - explanation.base_value))


def symmetry_gap(
    explain: Explainer, f: ModelFn, x: npt.ArrayLike, background: npt.ArrayLike, i: int, j: int
) -> float:
    """|φ_i − φ_j| for features the caller states are interchangeable: ``f`` symmetric in
    columns i and j, ``x_i == x_j`` and the background symmetric under swapping them."""
    e = explain(f, as_vector(x, "x"), as_matrix(background, "background"))
    return abs(float(e.values[i] - e.values[j]))


def dummy_gap(
    explain: Explainer, f: ModelFn, x: npt.ArrayLike, background: npt.ArrayLike, feature: int
) -> float:
    """|φ_feature| for a feature ``f`` ignores: zero under the dummy (null player) axiom."""
    e = explain(f, as_vector(x, "x"), as_matrix(background, "background"))
    return abs(float(e.values[feature]))


def linearity_gap(
    explain: Explainer,
    f: ModelFn,
    g: ModelFn,
    x: npt.ArrayLike,
    background: npt.ArrayLike,
    *,
    a: float = 1.0,
    b: float = 1.0,
) -> float:
    """max |φ(a·f + b·g) − a·φ(f) − b·φ(g)|: zero under the linearity (additivity) axiom."""
    xv, bg = as_vector(x, "x"), as_matrix(background, "background")

    def combined(X: np.ndarray) -> np.ndarray:
        out: np.ndarray = a * np.asarray(f(X)) + b * np.asarray(g(X))
        return out

    ef, eg, eh = explain(f, xv, bg), explain(g, xv, bg), explain(combined, xv, bg)
    return float(np.max(np.abs(eh.values - a * ef.values - b * eg.values)))
