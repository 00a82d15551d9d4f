"""Hyperparameter values: LoRA shape, Adam settings and sampling settings (Tinker's names)."""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

import attrs

from crucible.core import ValidationError

__all__ = ["AdamParams", "LoraConfig", "SamplingParams"]


def _positive_int(cls: str) -> Any:
    def check(instance: object, attribute: attrs.Attribute[int], value: int) -> None:
        if isinstance(value, bool) or not isinstance(value, int) or value <= 0:
            raise ValidationError(f"{cls} `{attribute.name}` must be a positive int, got {value!r}")

    return check


def _finite(value: object) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool) and math.isfinite(value)


@attrs.frozen
class LoraConfig:
    """Shape of the low-rank adapters (Hu et al., 2021).

    Attributes:
        rank: ``r``, the inner dimension of ``B·A``; must be > 0.
        alpha: scaling numerator; the update is ``(alpha / rank)·B·A``. ``None`` means
            ``alpha = rank`` (scale 1), which keeps the learning rate meaningful across ranks.
        dropout: dropout probability on the adapter input during training, in [0, 1).
        train_mlp, train_attn, train_unembed: which projections get adapters (Tinker's names).
        seed: seeds the adapter initialisation and dropout; ``None`` uses 0.

    Example:
        >>> LoraConfig(rank=8, alpha=16).scale
        2.0
    """

    rank: int = attrs.field(default=32, validator=_positive_int("LoraConfig"))
    alpha: float | None = None
    dropout: float = 0.0
    train_mlp: bool = True
    train_attn: bool = True
    train_unembed: bool = True
    seed: int | None = None

    def __attrs_post_init__(self) -> None:
        if self.alpha is not None and (not _finite(self.alpha) or self.alpha <= 0):
            raise ValidationError(f"LoraConfig `alpha` must be > 0 or None, got {self.alpha!r}")
        if not _finite(self.dropout) or not 0.0 <= self.dropout < 1.0:
            raise ValidationError(f"LoraConfig `dropout` must be in [0, 1), got {self.dropout!r}")
        if not (self.train_mlp or self.train_attn or self.train_unembed):
            raise ValidationError(
                "LoraConfig trains nothing: set at least one of `train_mlp`, `train_attn`, "
                "`train_unembed` to True"
            )
        if self.seed is not None and (
            isinstance(self.seed, bool) or not isinstance(self.seed, int) or self.seed < 0
        ):
            raise ValidationError(
                f"LoraConfig `seed` must be a non-negative int or None, got {self.seed!r}"
            )

    @property
    def scale(self) -> float:
        """``alpha / rank``, the factor on ``B·A``."""
        return (self.rank if self.alpha is None else self.alpha) / self.rank

    def to_dict(self) -> dict[str, Any]:
        return attrs.asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> LoraConfig:
        return cls(**data)


@attrs.frozen
class AdamParams:
    """AdamW settings (Kingma & Ba, 2015; Loshchilov & Hutter, 2019) with Tinker's defaults.

    Attributes:
        learning_rate: step size, > 0.
        beta1, beta2: moment decay rates, each in [0, 1).
        eps: added to the root of the second moment, > 0.
        weight_decay: decoupled weight decay, >= 0.
        grad_clip_norm: clip the global gradient norm to this value; 0 disables clipping.

    Example:
        >>> AdamParams(learning_rate=1e-3).beta2
        0.95
    """

    learning_rate: float = 1e-4
    beta1: float = 0.9
    beta2: float = 0.95
    eps: float = 1e-12
    weight_decay: float = 0.0
    grad_clip_norm: float = 0.0

    def __attrs_post_init__(self) -> None:
        if not _finite(self.learning_rate) or self.learning_rate <= 0:
            raise ValidationError(
                f"AdamParams `learning_rate` must be > 0, got {self.learning_rate!r}"
            )
        for name in ("beta1", "beta2"):
            value = getattr(self, name)
            if not _finite(value) or not 0.0 <= value < 1.0:
                raise ValidationError(f"AdamParams `{name}` must be in [0, 1), got {value!r}")
        if not _finite(self.eps) or self.eps <= 0:
            raise ValidationError(f"AdamParams `eps` must be > 0, got {self.eps!r}")
        for name in ("weight_decay", "grad_clip_norm"):
            value = getattr(self, name)
            if not _finite(value) or value < 0:
                raise ValidationError(f"AdamParams `{name}` must be >= 0, got {value!r}")

    def to_dict(self) -> dict[str, float]:
        return attrs.asdict(self)


def _stop(value: str | Sequence[str]) -> tuple[str, ...]:
    return (value,) if isinstance(value, str) else tuple(value)


@attrs.frozen
class SamplingParams:
    """How a :class:`~crucible.lora.Sampler` generates.

    Attributes:
        max_tokens: most tokens to generate, > 0.
        temperature: 0 means greedy decoding.
        top_p: nucleus sampling mass in (0, 1].
        stop: strings that end generation (not included in the text).
        seed: seeds sampling; ``None`` draws fresh randomness.
    """

    max_tokens: int = attrs.field(default=32, validator=_positive_int("SamplingParams"))
    temperature: float = 1.0
    top_p: float = 1.0
    stop: tuple[str, ...] = attrs.field(default=(), converter=_stop)
    seed: int | None = None

    def __attrs_post_init__(self) -> None:
        if not _finite(self.temperature) or self.temperature < 0:
            raise ValidationError(
                f"SamplingParams `temperature` must be >= 0, got {self.temperature!r}"
            )
        if not _finite(self.top_p) or not 0.0 < self.top_p <= 1.0:
            raise ValidationError(f"SamplingParams `top_p` must be in (0, 1], got {self.top_p!r}")
