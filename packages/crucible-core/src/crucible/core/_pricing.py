"""A versioned, dated price table and the cost of a call from all four token kinds.

Prices are USD per 1 million tokens. A call costs::

    (input - cached_input) * input + cached_input * cached_input_price
    + output * output_price + reasoning * reasoning_price

``cached_input`` defaults to ``input`` and ``reasoning`` to ``output`` where a provider does not
price them separately. A model missing from the table costs ``None`` (with a
:class:`UnpricedModelWarning`), never a silent 0.
"""

from __future__ import annotations

import datetime as _dt
import math
import warnings
from collections.abc import Mapping
from typing import Any, Self

import attrs

from crucible.core._errors import ConfigurationError
from crucible.core._values import Usage

__all__ = ["DEFAULT_PRICES", "Cost", "Price", "Pricing", "UnpricedModelWarning"]


class UnpricedModelWarning(UserWarning):
    """A model has no entry in the price table, so its cost is ``None``."""


def _price_value(instance: object, attribute: attrs.Attribute[Any], value: float | None) -> None:
    if value is None:
        return
    if (
        isinstance(value, bool)
        or not isinstance(value, int | float)
        or math.isnan(value)
        or value < 0
    ):
        raise ConfigurationError(
            f"Price `{attribute.name}` must be a non-negative number of USD per 1M tokens, got {value!r}"
        )


@attrs.frozen(slots=True)
class Price:
    """USD per 1M tokens for each token kind.

    Example:
        >>> Price(input=2.5, output=10.0, cached_input=1.25).cost(Usage(1000, 100)).total_usd
        0.0035
    """

    input: float = attrs.field(validator=_price_value)
    output: float = attrs.field(validator=_price_value)
    cached_input: float | None = attrs.field(default=None, validator=_price_value)
    reasoning: float | None = attrs.field(default=None, validator=_price_value)

    def cost(self, usage: Usage, *, model: str = "", version: str = "") -> Cost:
        cached_price: float = self.input if self.cached_input is None else self.cached_input
        reasoning_price: float = self.output if self.reasoning is None else self.reasoning
        uncached = usage.input_tokens - usage.cached_input_tokens
        return Cost(
            input_usd=uncached * self.input / 1e6,
            cached_input_usd=usage.cached_input_tokens * cached_price / 1e6,
            output_usd=usage.output_tokens * self.output / 1e6,
            reasoning_usd=usage.reasoning_tokens * reasoning_price / 1e6,
            model=model,
            price_version=version,
        )

    def to_dict(self) -> dict[str, float | None]:
        return {
            "input": self.input,
            "output": self.output,
            "cached_input": self.cached_input,
            "reasoning": self.reasoning,
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Self:
        unknown = set(data) - {"input", "output", "cached_input", "reasoning"}
        if unknown:
            raise ConfigurationError(
                f"unknown price field(s) {sorted(unknown)}; use input, output, cached_input, reasoning"
            )
        if "input" not in data or "output" not in data:
            raise ConfigurationError("a price needs both `input` and `output` (USD per 1M tokens)")
        return cls(
            input=data["input"],
            output=data["output"],
            cached_input=data.get("cached_input"),
            reasoning=data.get("reasoning"),
        )


@attrs.frozen(slots=True)
class Cost:
    """The cost of one call, by token kind, and the price-table version it came from."""

    input_usd: float
    cached_input_usd: float
    output_usd: float
    reasoning_usd: float
    model: str = ""
    price_version: str = ""

    @property
    def total_usd(self) -> float:
        return self.input_usd + self.cached_input_usd + self.output_usd + self.reasoning_usd

    def to_dict(self) -> dict[str, Any]:
        return {
            "input_usd": self.input_usd,
            "cached_input_usd": self.cached_input_usd,
            "output_usd": self.output_usd,
            "reasoning_usd": self.reasoning_usd,
            "total_usd": self.total_usd,
            "model": self.model,
            "price_version": self.price_version,
        }


_P = Price

#: List prices (standard tier, prompts up to 200k tokens) as published by the providers.
#: Keys are ``provider:model``; dated snapshots (``gpt-4o-2024-08-06``) match their base name.
DEFAULT_PRICES: dict[str, Price] = {
    # OpenAI
    "openai:gpt-5": _P(1.25, 10.00, cached_input=0.125),
    "openai:gpt-5-mini": _P(0.25, 2.00, cached_input=0.025),
    "openai:gpt-5-nano": _P(0.05, 0.40, cached_input=0.005),
    "openai:gpt-4.1": _P(2.00, 8.00, cached_input=0.50),
    "openai:gpt-4.1-mini": _P(0.40, 1.60, cached_input=0.10),
    "openai:gpt-4.1-nano": _P(0.10, 0.40, cached_input=0.025),
    "openai:gpt-4o": _P(2.50, 10.00, cached_input=1.25),
    "openai:gpt-4o-mini": _P(0.15, 0.60, cached_input=0.075),
    "openai:o3": _P(2.00, 8.00, cached_input=0.50),
    "openai:o4-mini": _P(1.10, 4.40, cached_input=0.275),
    "openai:o3-mini": _P(1.10, 4.40, cached_input=0.55),
    "openai:gpt-4-turbo": _P(10.00, 30.00),
    "openai:gpt-4": _P(30.00, 60.00),
    "openai:gpt-3.5-turbo": _P(0.50, 1.50),
    # Anthropic (cached_input = cache read price)
    "anthropic:claude-opus-4-1": _P(15.00, 75.00, cached_input=1.50),
    "anthropic:claude-opus-4": _P(15.00, 75.00, cached_input=1.50),
    "anthropic:claude-sonnet-4-5": _P(3.00, 15.00, cached_input=0.30),
    "anthropic:claude-sonnet-4": _P(3.00, 15.00, cached_input=0.30),
    "anthropic:claude-3-7-sonnet": _P(3.00, 15.00, cached_input=0.30),
    "anthropic:claude-haiku-4-5": _P(1.00, 5.00, cached_input=0.10),
    "anthropic:claude-3-5-haiku": _P(0.80, 4.00, cached_input=0.08),
    "anthropic:claude-3-haiku": _P(0.25, 1.25, cached_input=0.03),
    # Google Gemini (reasoning = "thinking" tokens, billed at the output price)
    "gemini:gemini-2.5-pro": _P(1.25, 10.00, cached_input=0.31),
    "gemini:gemini-2.5-flash": _P(0.30, 2.50, cached_input=0.075),
    "gemini:gemini-2.5-flash-lite": _P(0.10, 0.40, cached_input=0.025),
    "gemini:gemini-2.0-flash": _P(0.10, 0.40, cached_input=0.025),
    "gemini:gemini-2.0-flash-lite": _P(0.075, 0.30),
    # Simulated presets (priced like the hosted models they mirror; model-a/model-b are set so a
    # query of 500 input and 100 output tokens costs $0.002 and $0.005, as in the stats lab).
    "sim:gpt-4": _P(30.00, 60.00),
    "sim:claude-3": _P(15.00, 75.00),
    "sim:gemini-pro": _P(1.25, 10.00),
    "sim:llama-3": _P(0.59, 0.79),
    "sim:mixtral": _P(0.70, 0.70),
    "sim:model-a": _P(2.00, 10.00),
    "sim:model-b": _P(5.00, 25.00),
    "sim:fast": _P(0.10, 0.40),
    "sim:echo": _P(0.0, 0.0),
}

DEFAULT_VERSION = "2025-10-01"
DEFAULT_EFFECTIVE_DATE = _dt.date(2025, 10, 1)


def _normalise_key(key: str) -> str:
    if not isinstance(key, str) or ":" not in key:
        raise ConfigurationError(
            f"price keys are `provider:model` (e.g. 'openai:gpt-4o'), got {key!r}"
        )
    return key


class Pricing:
    """The price table: defaults, plus overrides by argument or ``crucible.toml``.

    Args:
        overrides: ``{"provider:model": Price | {"input": ..., "output": ...}}``; replaces or adds.
        version: the version label recorded in every cost and run manifest.
        include_defaults: start from :data:`DEFAULT_PRICES` (default) or from an empty table.

    Example:
        >>> pricing = Pricing({"openai-compatible:gemma": {"input": 0, "output": 0}})
        >>> pricing.cost("openai", "gpt-4o-2024-08-06", Usage(1_000_000, 0)).total_usd
        2.5
    """

    def __init__(
        self,
        overrides: Mapping[str, Price | Mapping[str, Any]] | None = None,
        *,
        version: str | None = None,
        effective_date: _dt.date | None = None,
        include_defaults: bool = True,
    ) -> None:
        self._prices: dict[str, Price] = dict(DEFAULT_PRICES) if include_defaults else {}
        for key, value in (overrides or {}).items():
            price = value if isinstance(value, Price) else Price.from_dict(value)
            self._prices[_normalise_key(key)] = price
        suffix = "+overrides" if overrides else ""
        self.version = version or f"{DEFAULT_VERSION}{suffix}"
        self.effective_date = effective_date or DEFAULT_EFFECTIVE_DATE
        self._warned: set[str] = set()

    def __repr__(self) -> str:
        return f"Pricing(version={self.version!r}, models={len(self._prices)})"

    def __contains__(self, key: str) -> bool:
        provider, _, model = key.partition(":")
        return self.lookup(provider, model) is not None

    def items(self) -> list[tuple[str, Price]]:
        return sorted(self._prices.items())

    def lookup(self, provider: str, model: str) -> Price | None:
        """The price of ``provider:model``; dated or suffixed variants match the longest base name."""
        exact = self._prices.get(f"{provider}:{model}")
        if exact is not None:
            return exact
        best: tuple[int, Price] | None = None
        for key, price in self._prices.items():
            key_provider, _, key_model = key.partition(":")
            if key_provider != provider or not model.startswith(key_model):
                continue
            rest = model[len(key_model) :]
            if rest and rest[0] not in "-@:.":
                continue
            # "gpt-4o-mini" must not match "gpt-4o" when the rest is a model family word.
            if rest and not _is_snapshot_suffix(rest[1:]):
                continue
            if best is None or len(key_model) > best[0]:
                best = (len(key_model), price)
        return None if best is None else best[1]

    def cost(self, provider: str, model: str, usage: Usage) -> Cost | None:
        """The :class:`Cost` of a call, or ``None`` (with a warning, once per model) if unpriced."""
        price = self.lookup(provider, model)
        if price is None:
            key = f"{provider}:{model}"
            if key not in self._warned:
                self._warned.add(key)
                warnings.warn(
                    f"no price for {key!r} in price table {self.version}: its cost is reported as "
                    "None. Add it with Pricing({...}) or a [pricing] entry in crucible.toml.",
                    UnpricedModelWarning,
                    stacklevel=3,
                )
            return None
        return price.cost(usage, model=f"{provider}:{model}", version=self.version)

    def cost_usd(self, provider: str, model: str, usage: Usage) -> float | None:
        cost = self.cost(provider, model, usage)
        return None if cost is None else cost.total_usd


def _is_snapshot_suffix(rest: str) -> bool:
    """True for date/version suffixes like ``2024-08-06``, ``20250514``, ``latest``, ``001``."""
    if rest in ("latest", "preview") or rest.startswith(("preview", "exp")):
        return True
    head = rest.split("-")[0].split("@")[0]
    return head.isdigit() and len(head) >= 3
