"""Training examples and the results of training calls, shaped like Tinker's types."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import attrs
import numpy as np

from crucible.core import ValidationError

__all__ = ["Datum", "ForwardBackwardOutput", "OptimStepResult"]


def _tokens(value: Sequence[int] | np.ndarray) -> tuple[int, ...]:
    arr = np.asarray(value)
    if arr.ndim != 1 or arr.size == 0 or not np.issubdtype(arr.dtype, np.integer):
        raise ValidationError(
            f"Datum `model_input` must be a non-empty 1-D sequence of int tokens, got {value!r:.80}"
        )
    return tuple(int(t) for t in arr)


def _inputs(value: Mapping[str, Any]) -> dict[str, np.ndarray]:
    if not isinstance(value, Mapping):
        raise ValidationError(
            f"Datum `loss_fn_inputs` must be a mapping of name -> 1-D array, got {value!r:.80}"
        )
    out: dict[str, np.ndarray] = {}
    for key, arr in value.items():
        a = np.asarray(arr)
        if a.ndim != 1:
            raise ValidationError(
                f"Datum `loss_fn_inputs[{key!r}]` must be 1-D, got shape {a.shape}"
            )
        out[str(key)] = a.astype(np.int64) if key == "target_tokens" else a.astype(np.float64)
    return out


@attrs.frozen(eq=False)
class Datum:
    """One training sequence: input tokens and the per-position inputs of the loss.

    ``loss_fn_inputs`` holds ``target_tokens`` (the next token at each input position) and
    ``weights`` (how much each position counts; 0 masks it), plus loss-specific arrays such as
    ``logprobs`` and ``advantages`` for ``importance_sampling``. Every array has the length of
    ``model_input``.

    Example:
        >>> d = Datum.from_prompt_completion([72, 105], [33, 10])
        >>> d.model_input, list(d.loss_fn_inputs["weights"])
        ((72, 105, 33), [0.0, 1.0, 1.0])
    """

    model_input: tuple[int, ...] = attrs.field(converter=_tokens)
    loss_fn_inputs: dict[str, np.ndarray] = attrs.field(converter=_inputs)

    def __attrs_post_init__(self) -> None:
        n = len(self.model_input)
        if "target_tokens" not in self.loss_fn_inputs:
            raise ValidationError(
                "Datum `loss_fn_inputs` needs 'target_tokens'; "
                f"got keys {sorted(self.loss_fn_inputs)}"
            )
        for key, arr in self.loss_fn_inputs.items():
            if len(arr) != n:
                raise ValidationError(
                    f"Datum `loss_fn_inputs[{key!r}]` has length {len(arr)} but `model_input` "
                    f"has {n}: target_tokens, weights and the other loss inputs must all have "
                    "one entry per input token"
                )

    @property
    def target_tokens(self) -> np.ndarray:
        return self.loss_fn_inputs["target_tokens"]

    @property
    def weights(self) -> np.ndarray:
        w = self.loss_fn_inputs.get("weights")
        return np.ones(len(self.model_input)) if w is None else w

    @property
    def length(self) -> int:
        return len(self.model_input)

    @classmethod
    def from_prompt_completion(
        cls, prompt_tokens: Sequence[int], completion_tokens: Sequence[int]
    ) -> Datum:
        """The standard supervised example: weights 0 on the prompt, 1 on the completion."""
        if len(completion_tokens) == 0:
            raise ValidationError("`completion_tokens` is empty: there is nothing to learn")
        full = [*prompt_tokens, *completion_tokens]
        if len(full) < 2:
            raise ValidationError("a Datum needs at least two tokens (prompt + completion)")
        weights = [0.0] * (len(prompt_tokens) - 1) + [1.0] * len(completion_tokens)
        if len(prompt_tokens) == 0:
            weights = [1.0] * (len(full) - 1)
        return cls(full[:-1], {"target_tokens": full[1:], "weights": weights})

    def to_dict(self) -> dict[str, Any]:
        return {
            "model_input": list(self.model_input),
            "loss_fn_inputs": {k: v.tolist() for k, v in self.loss_fn_inputs.items()},
        }


@attrs.frozen
class ForwardBackwardOutput:
    """What ``forward`` / ``forward_backward`` return.

    Attributes:
        loss_fn_outputs: per datum, ``{"logprobs": ..., "elementwise_loss": ...}`` arrays.
        metrics: reduced metrics named ``name:reduction`` (``loss:sum``, ...).
    """

    loss_fn_outputs: tuple[dict[str, np.ndarray], ...]
    metrics: dict[str, float]

    @property
    def loss(self) -> float:
        """The summed loss (``metrics["loss:sum"]``)."""
        return float(self.metrics["loss:sum"])

    def to_dict(self) -> dict[str, Any]:
        return {
            "loss_fn_outputs": [
                {k: v.tolist() for k, v in o.items()} for o in self.loss_fn_outputs
            ],
            "metrics": dict(self.metrics),
        }

    def __str__(self) -> str:
        return f"ForwardBackwardOutput({len(self.loss_fn_outputs)} data, metrics {self.metrics})"


@attrs.frozen
class OptimStepResult:
    """What ``optim_step`` returns: the step count after the update and its metrics."""

    step: int
    metrics: dict[str, float]

    def to_dict(self) -> dict[str, Any]:
        return {"step": self.step, "metrics": dict(self.metrics)}
