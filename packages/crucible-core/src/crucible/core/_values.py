"""The values every Crucible package exchanges: items, messages, token usage and completions.

All are frozen attrs classes with slots, validated at construction, and round-trip through
``to_dict()`` / ``from_dict()`` (plain JSON-compatible dicts).
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from typing import Any, Literal, Self

import attrs

from crucible.core._errors import ValidationError

__all__ = ["Completion", "Item", "Message", "TokenLogprob", "Usage"]

Role = Literal["system", "user", "assistant", "tool"]
_ROLES = ("system", "user", "assistant", "tool")


def _jsonable(value: Any) -> Any:
    """Convert nested attrs values, tuples and mappings into JSON-compatible structures."""
    to_dict = getattr(value, "to_dict", None)
    if callable(to_dict):
        return to_dict()
    if isinstance(value, Mapping):
        return {str(k): _jsonable(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_jsonable(v) for v in value]
    return value


def _item_id(value: object) -> str:
    if isinstance(value, bool) or not isinstance(value, str | int):
        raise ValidationError(f"Item `id` must be a non-empty string or an int, got {value!r}")
    text = str(value)
    if not text:
        raise ValidationError("Item `id` must be a non-empty string, got ''")
    return text


def _metadata(value: Mapping[str, Any] | None) -> dict[str, Any]:
    if value is None:
        return {}
    if not isinstance(value, Mapping):
        raise ValidationError(f"`metadata` must be a mapping, got {type(value).__name__}")
    return dict(value)


@attrs.frozen(slots=True)
class Item:
    """One evaluation item.

    Attributes:
        id: stable identifier, unique within its dataset (ints are converted to strings).
        input: what the model is asked: a string, or a mapping of fields a prompt template renders.
        expected: the reference answer (a letter, a number, a string, a list of accepted answers...).
        metadata: anything else (subject, difficulty, choices, cluster, ...).

    Example:
        >>> Item(id=1, input="What is 2+2?", expected="4").id
        '1'
    """

    id: str = attrs.field(converter=_item_id)
    input: Any
    expected: Any = None
    metadata: dict[str, Any] = attrs.field(factory=dict, converter=_metadata)

    def to_dict(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "input": _jsonable(self.input),
            "expected": _jsonable(self.expected),
            "metadata": _jsonable(self.metadata),
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Self:
        return cls(
            id=data["id"],
            input=data.get("input"),
            expected=data.get("expected"),
            metadata=data.get("metadata") or {},
        )


def _role(value: str) -> str:
    if value not in _ROLES:
        raise ValidationError(f"Message `role` must be one of {', '.join(_ROLES)}; got {value!r}")
    return value


def _content(value: object) -> str:
    if not isinstance(value, str):
        raise ValidationError(f"Message `content` must be a string, got {type(value).__name__}")
    return value


@attrs.frozen(slots=True)
class Message:
    """One chat message.

    Example:
        >>> Message("user", "Hello").to_dict()
        {'role': 'user', 'content': 'Hello'}
    """

    role: str = attrs.field(converter=_role)
    content: str = attrs.field(converter=_content)

    def to_dict(self) -> dict[str, Any]:
        return {"role": self.role, "content": self.content}

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Self:
        return cls(role=data["role"], content=data["content"])


def _count(instance: object, attribute: attrs.Attribute[int], value: int) -> None:
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        raise ValidationError(f"Usage `{attribute.name}` must be a non-negative int, got {value!r}")


@attrs.frozen(slots=True)
class Usage:
    """Token counts of one call.

    Conventions (the same for every provider, whatever its response shape):

    * ``input_tokens`` counts every prompt token, cached ones included;
      ``cached_input_tokens`` is the part of them served from the provider's prompt cache.
    * ``output_tokens`` counts visible output tokens; ``reasoning_tokens`` counts hidden
      reasoning ("thinking") tokens separately, when the provider reports them.

    ``Usage`` values add up: ``u1 + u2`` sums every count.

    Example:
        >>> (Usage(10, 2) + Usage(5, 1, cached_input_tokens=4)).total_tokens
        18
    """

    input_tokens: int = attrs.field(default=0, validator=_count)
    output_tokens: int = attrs.field(default=0, validator=_count)
    cached_input_tokens: int = attrs.field(default=0, validator=_count)
    reasoning_tokens: int = attrs.field(default=0, validator=_count)

    def __attrs_post_init__(self) -> None:
        if self.cached_input_tokens > self.input_tokens:
            raise ValidationError(
                f"Usage `cached_input_tokens` ({self.cached_input_tokens}) cannot exceed "
                f"`input_tokens` ({self.input_tokens}): cached tokens are part of the input"
            )

    @property
    def total_tokens(self) -> int:
        return self.input_tokens + self.output_tokens + self.reasoning_tokens

    def __add__(self, other: Usage) -> Usage:
        if not isinstance(other, Usage):
            return NotImplemented
        return Usage(
            self.input_tokens + other.input_tokens,
            self.output_tokens + other.output_tokens,
            self.cached_input_tokens + other.cached_input_tokens,
            self.reasoning_tokens + other.reasoning_tokens,
        )

    def to_dict(self) -> dict[str, int]:
        return {
            "input_tokens": self.input_tokens,
            "output_tokens": self.output_tokens,
            "cached_input_tokens": self.cached_input_tokens,
            "reasoning_tokens": self.reasoning_tokens,
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Self:
        return cls(
            input_tokens=int(data.get("input_tokens", 0)),
            output_tokens=int(data.get("output_tokens", 0)),
            cached_input_tokens=int(data.get("cached_input_tokens", 0)),
            reasoning_tokens=int(data.get("reasoning_tokens", 0)),
        )


@attrs.frozen(slots=True)
class TokenLogprob:
    """The log-probability of one generated token."""

    token: str
    logprob: float

    def to_dict(self) -> dict[str, Any]:
        return {"token": self.token, "logprob": self.logprob}

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Self:
        return cls(token=str(data["token"]), logprob=float(data["logprob"]))


def _optional_nonneg(
    instance: object, attribute: attrs.Attribute[Any], value: float | None
) -> None:
    if value is None:
        return
    if not isinstance(value, int | float) or math.isnan(value) or value < 0:
        raise ValidationError(f"Completion `{attribute.name}` must be >= 0 or None, got {value!r}")


def _confidence(instance: object, attribute: attrs.Attribute[Any], value: float | None) -> None:
    if value is None:
        return
    if not isinstance(value, int | float) or not 0.0 <= value <= 1.0:
        raise ValidationError(f"Completion `confidence` must be in [0, 1] or None, got {value!r}")


def _logprobs(
    value: Sequence[TokenLogprob | Mapping[str, Any]] | None,
) -> tuple[TokenLogprob, ...] | None:
    if value is None:
        return None
    return tuple(v if isinstance(v, TokenLogprob) else TokenLogprob.from_dict(v) for v in value)


@attrs.frozen(slots=True)
class Completion:
    """The result of one model call.

    Attributes:
        text: the generated text.
        model: the model that answered (as the provider reported it).
        provider: the provider name (``"openai"``, ``"sim"``, ...).
        usage: token counts (see :class:`Usage` for the conventions).
        cost_usd: the call's cost from the price table, or ``None`` when the model is unpriced.
        latency_ms: wall time of the call, retries included.
        ttft_ms: time to first token (streaming calls only), else ``None``.
        finish_reason: why generation stopped (``"stop"``, ``"length"``, ...), as the provider said.
        logprobs: per-token log-probabilities when requested and returned.
        confidence: a probability in [0, 1] for the answer, when known (e.g. from logprobs).
        raw: the provider's response body (or a composite result for ensembles), for inspection.
    """

    text: str
    model: str
    provider: str
    usage: Usage = attrs.field(factory=Usage)
    cost_usd: float | None = attrs.field(default=None, validator=_optional_nonneg)
    latency_ms: float = attrs.field(default=0.0, validator=_optional_nonneg)
    ttft_ms: float | None = attrs.field(default=None, validator=_optional_nonneg)
    finish_reason: str | None = None
    logprobs: tuple[TokenLogprob, ...] | None = attrs.field(default=None, converter=_logprobs)
    confidence: float | None = attrs.field(default=None, validator=_confidence)
    raw: Any = attrs.field(default=None, eq=False, repr=False)

    def to_dict(self) -> dict[str, Any]:
        return {
            "text": self.text,
            "model": self.model,
            "provider": self.provider,
            "usage": self.usage.to_dict(),
            "cost_usd": self.cost_usd,
            "latency_ms": self.latency_ms,
            "ttft_ms": self.ttft_ms,
            "finish_reason": self.finish_reason,
            "logprobs": None if self.logprobs is None else [lp.to_dict() for lp in self.logprobs],
            "confidence": self.confidence,
            "raw": _jsonable(self.raw),
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Self:
        return cls(
            text=data["text"],
            model=data["model"],
            provider=data["provider"],
            usage=Usage.from_dict(data.get("usage") or {}),
            cost_usd=data.get("cost_usd"),
            latency_ms=float(data.get("latency_ms", 0.0)),
            ttft_ms=data.get("ttft_ms"),
            finish_reason=data.get("finish_reason"),
            logprobs=data.get("logprobs"),
            confidence=data.get("confidence"),
            raw=data.get("raw"),
        )

    def __str__(self) -> str:
        cost = "unpriced" if self.cost_usd is None else f"${self.cost_usd:.6f}"
        return (
            f"{self.provider}:{self.model} -> {self.text!r} "
            f"[{self.usage.input_tokens} in / {self.usage.output_tokens} out tokens, "
            f"{cost}, {self.latency_ms:.0f} ms]"
        )
