"""Models, inputs and the Explanation value.

A model is any callable from an ``(n, d)`` array to ``n`` outputs, or to ``(n, k)`` class
probabilities from which ``output=`` picks one column. :class:`Predictor` wraps it, checks the
shape of every answer and counts the rows evaluated.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import attrs
import numpy as np
import numpy.typing as npt

from crucible.core import ValidationError

__all__ = ["Explanation", "Predictor", "XAIError", "as_matrix", "as_vector", "feature_names_for"]

ModelFn = Callable[[np.ndarray], Any]


class XAIError(ValidationError):
    """Bad input to a crucible.xai function; the message names the argument and the fix."""


class Predictor:
    """A model callable with its output selected, shape checked and evaluations counted."""

    __slots__ = ("d", "fn", "n_evaluations", "output")

    def __init__(self, fn: ModelFn, d: int, output: int | None = None) -> None:
        if not callable(fn):
            raise XAIError(
                f"`f` must be callable (an (n, d) array -> n outputs), got {type(fn).__name__}"
            )
        self.fn = fn
        self.d = d
        self.output = output
        self.n_evaluations = 0

    def __call__(self, X: np.ndarray) -> np.ndarray:
        X = np.asarray(X, dtype=np.float64)
        try:
            out = np.asarray(self.fn(X), dtype=np.float64)
        except (TypeError, ValueError) as exc:
            raise XAIError(
                f"the model's output is not numeric ({exc}); `f` must return numbers"
            ) from exc
        n = X.shape[0]
        self.n_evaluations += n
        if out.ndim == 2 and out.shape[0] == n:
            if self.output is None:
                if out.shape[1] == 1:
                    out = out[:, 0]
                else:
                    raise XAIError(
                        f"the model returned shape {out.shape} (class probabilities?) for {n} rows; "
                        "pass `output=<class index>` to explain one column"
                    )
            else:
                if not 0 <= self.output < out.shape[1]:
                    raise XAIError(
                        f"`output` must be in [0, {out.shape[1] - 1}] for a model with "
                        f"{out.shape[1]} outputs, got {self.output}"
                    )
                out = out[:, self.output]
        if out.shape != (n,):
            raise XAIError(
                f"the model must return {n} outputs (or ({n}, k) with `output=`) for an ({n}, "
                f"{self.d}) input, got shape {out.shape}; fix `f`"
            )
        if not np.isfinite(out).all():
            raise XAIError("the model returned NaN or infinite outputs; check `f` on these inputs")
        return out


def as_matrix(values: npt.ArrayLike, name: str, d: int | None = None) -> np.ndarray:
    """``values`` as a finite 2-D float array (a 1-D array becomes one row)."""
    if hasattr(values, "to_numpy"):
        values = values.to_numpy()
    try:
        arr = np.asarray(values, dtype=np.float64)
    except (TypeError, ValueError) as exc:
        raise XAIError(f"`{name}` must be a numeric array, got {type(values).__name__}") from exc
    if arr.ndim == 1:
        arr = arr[None, :]
    if arr.ndim != 2 or arr.shape[0] == 0 or arr.shape[1] == 0:
        raise XAIError(f"`{name}` must be a non-empty (n, d) array, got shape {arr.shape}")
    if d is not None and arr.shape[1] != d:
        raise XAIError(
            f"`{name}` has {arr.shape[1]} features but `x` has {d}; use the same columns"
        )
    if not np.isfinite(arr).all():
        raise XAIError(f"`{name}` contains NaN or infinite values; impute or drop them first")
    return arr


def as_vector(values: npt.ArrayLike, name: str) -> np.ndarray:
    """``values`` as one finite 1-D float instance."""
    arr = as_matrix(values, name)
    if arr.shape[0] != 1:
        raise XAIError(f"`{name}` must be one instance (shape (d,) or (1, d)), got {arr.shape}")
    row: np.ndarray = arr[0]
    return row


def feature_names_for(names: Sequence[str] | None, d: int) -> tuple[str, ...]:
    if names is None:
        return tuple(f"x{i}" for i in range(d))
    out = tuple(str(n) for n in names)
    if len(out) != d:
        raise XAIError(
            f"`feature_names` has {len(out)} names for {d} features; give one per column"
        )
    return out


def _tuple_str(values: Sequence[str]) -> tuple[str, ...]:
    return tuple(str(v) for v in values)


@attrs.frozen
class Explanation:
    """Feature attributions for one instance.

    Attributes:
        values: one attribution per feature.
        base_value: the reference output (E[f(background)] for SHAP, the intercept for LIME,
            f(baseline) for occlusion and integrated gradients).
        feature_names: one name per feature.
        method: the method that produced it (``"kernel_shap (exact)"``, ``"lime"``, ...).
        n_evaluations: model rows evaluated.
        x: the explained instance.
        prediction: f(x).
        score: the method's own check when it has one (LIME: the surrogate's weighted R²;
            integrated gradients: the completeness gap Σφ − (f(x) − f(baseline))), else None.
    """

    values: np.ndarray = attrs.field(eq=False)
    base_value: float
    feature_names: tuple[str, ...] = attrs.field(converter=_tuple_str)
    method: str
    n_evaluations: int
    x: np.ndarray = attrs.field(eq=False)
    prediction: float
    score: float | None = None

    def to_dict(self) -> dict[str, Any]:
        return {
            "values": self.values.tolist(),
            "base_value": self.base_value,
            "feature_names": list(self.feature_names),
            "method": self.method,
            "n_evaluations": self.n_evaluations,
            "x": self.x.tolist(),
            "prediction": self.prediction,
            "score": self.score,
        }

    def __str__(self) -> str:
        order = np.argsort(-np.abs(self.values))
        lines = [
            f"{self.method}: f(x) = {self.prediction:.4g}, base = {self.base_value:.4g}, "
            f"{self.n_evaluations} evaluations"
        ]
        for i in order:
            lines.append(
                f"  {self.feature_names[i]:>20} = {self.x[i]:<10.4g} {self.values[i]:+.4g}"
            )
        return "\n".join(lines)
