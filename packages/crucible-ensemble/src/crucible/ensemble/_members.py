"""Ensemble members: resolving specs, labelling, and checking per-member weights and costs."""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

from crucible.core import ConfigurationError, Model, get_model

__all__ = [
    "check_costs",
    "check_number",
    "check_weights",
    "label_of",
    "price_rank",
    "resolve_model",
]


def label_of(model: Model) -> str:
    spec = getattr(model, "spec", None)
    if isinstance(spec, str):
        return spec
    name = getattr(model, "name", None)
    return name if isinstance(name, str) else type(model).__name__


def resolve_model(model: Model | str, index: int) -> Model:
    if isinstance(model, str):
        return get_model(model)
    if not isinstance(model, Model):
        raise ConfigurationError(
            f"`models[{index}]` must be a Model (with async generate) or a spec string like "
            f"'sim:gpt-4', got {model!r:.80}"
        )
    return model


def check_number(
    name: str, value: Any, low: float, high: float, *, open_low: bool = False
) -> float:
    ok = isinstance(value, int | float) and not isinstance(value, bool) and math.isfinite(value)
    if not ok or value > high or value < low or (open_low and value == low):
        bracket = "(" if open_low else "["
        raise ConfigurationError(f"`{name}` must be in {bracket}{low:g}, {high:g}], got {value!r}")
    return float(value)


def check_weights(weights: Sequence[float], n: int) -> tuple[float, ...]:
    if isinstance(weights, str) or not isinstance(weights, Sequence):
        raise ConfigurationError(
            f"`weights` must be a sequence of {n} numbers, got {weights!r:.80}"
        )
    if len(weights) != n:
        raise ConfigurationError(
            f"`weights` has {len(weights)} values for {n} models; give one weight per model"
        )
    out = []
    for i, w in enumerate(weights):
        if isinstance(w, bool) or not isinstance(w, int | float) or not math.isfinite(w) or w < 0:
            raise ConfigurationError(f"`weights[{i}]` must be a finite number >= 0, got {w!r}")
        out.append(float(w))
    if not any(out):
        raise ConfigurationError("`weights` are all zero; at least one member needs weight > 0")
    return tuple(out)


def check_costs(costs: Sequence[float], n: int) -> tuple[float, ...]:
    if isinstance(costs, str) or not isinstance(costs, Sequence) or len(costs) != n:
        raise ConfigurationError(f"`costs` must be {n} numbers (one per model), got {costs!r:.80}")
    for i, c in enumerate(costs):
        if isinstance(c, bool) or not isinstance(c, int | float) or not math.isfinite(c) or c < 0:
            raise ConfigurationError(f"`costs[{i}]` must be a finite number >= 0, got {c!r}")
    return tuple(float(c) for c in costs)


def price_rank(model: Model) -> float | None:
    """USD per 1M input + 1M output tokens from the model's price table, if known."""
    pricing = getattr(model, "pricing", None)
    provider = getattr(model, "provider", None)
    name = getattr(model, "name", None)
    lookup = getattr(pricing, "lookup", None)
    if lookup is None or not isinstance(provider, str) or not isinstance(name, str):
        return None
    price = lookup(provider, name)
    return None if price is None else float(price.input + price.output)
