"""Loss functions over per-token log-probabilities, as Tinker defines them.

Every loss is a function of the target log-probabilities ``lp`` of one datum and its
``loss_fn_inputs``; it returns the per-token loss and ``dL/dlp``. The backend chains ``dL/dlp``
through the model, so adding a loss needs no new backward code.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from enum import StrEnum
from typing import Any

import attrs
import numpy as np

from crucible.core import ValidationError

__all__ = ["CustomLoss", "CustomLossResult", "LossFn", "loss_and_grad", "parse_loss"]


class LossFn(StrEnum):
    """Built-in losses (Tinker's names).

    * ``cross_entropy``: ``-Σ w·lp`` (supervised learning; weights default to 1).
    * ``importance_sampling``: ``-Σ (p/q)·A`` with ``q`` the sampler's ``logprobs`` and ``A`` the
      ``advantages`` (policy gradient with an importance-sampling correction).
    * ``ppo``: the clipped surrogate ``-Σ min(r·A, clip(r, 1-ε_lo, 1+ε_hi)·A)`` (Schulman et
      al., 2017); ``loss_fn_config`` may set ``clip_low_threshold`` / ``clip_high_threshold``
      (defaults 0.8 and 1.2).
    """

    CROSS_ENTROPY = "cross_entropy"
    IMPORTANCE_SAMPLING = "importance_sampling"
    PPO = "ppo"


def parse_loss(loss_fn: str | LossFn) -> LossFn:
    try:
        return LossFn(loss_fn)
    except ValueError:
        valid = ", ".join(repr(v.value) for v in LossFn)
        raise ValidationError(
            f"unknown `loss_fn` {loss_fn!r}; valid losses: {valid} "
            "(or pass a custom loss to `forward_backward_custom`)"
        ) from None


def _need(inputs: Mapping[str, np.ndarray], key: str, loss: LossFn) -> np.ndarray:
    if key not in inputs:
        raise ValidationError(
            f"loss {loss.value!r} needs `loss_fn_inputs[{key!r}]`; got keys {sorted(inputs)}"
        )
    return inputs[key]


def loss_and_grad(
    loss: LossFn,
    lp: np.ndarray,
    inputs: Mapping[str, np.ndarray],
    config: Mapping[str, float] | None = None,
) -> tuple[np.ndarray, np.ndarray]:
    """Per-token loss and ``dL/dlp`` of one datum."""
    if loss is LossFn.CROSS_ENTROPY:
        w = inputs.get("weights")
        w = np.ones_like(lp) if w is None else w
        return -w * lp, -w
    old = _need(inputs, "logprobs", loss)
    adv = _need(inputs, "advantages", loss)
    ratio = np.exp(lp - old)
    if loss is LossFn.IMPORTANCE_SAMPLING:
        return -ratio * adv, -ratio * adv
    cfg = dict(config or {})
    lo = float(cfg.get("clip_low_threshold", 0.8))
    hi = float(cfg.get("clip_high_threshold", 1.2))
    clipped = np.clip(ratio, lo, hi)
    unclipped_obj = ratio * adv
    clipped_obj = clipped * adv
    use_unclipped = unclipped_obj <= clipped_obj
    obj = np.where(use_unclipped, unclipped_obj, clipped_obj)
    # The clipped branch is constant in lp (its derivative is zero where the clip is active).
    grad = np.where(use_unclipped, -ratio * adv, -np.where(clipped == ratio, ratio, 0.0) * adv)
    return -obj, grad


@attrs.frozen
class CustomLossResult:
    """What a custom loss returns: the loss, ``dL/dlogprobs`` per datum, and metrics."""

    loss: float
    grads: Sequence[np.ndarray]
    metrics: dict[str, float] = attrs.field(factory=dict)


#: A custom loss: ``(data, logprobs per datum) -> CustomLossResult``. The backend computes the
#: log-probabilities with ``forward``, then back-propagates the returned gradients as the linear
#: surrogate ``Σ g·lp`` (the approach of Tinker's ``forward_backward_custom``).
CustomLoss = Callable[[Sequence[Any], list[np.ndarray]], CustomLossResult]
