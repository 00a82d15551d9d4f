"""Reasoning events: one decision a model (or a system) made, why, and what it set aside."""

from __future__ import annotations

import json
import math
import re
import uuid
from collections.abc import Iterable, Mapping
from datetime import UTC, datetime
from enum import StrEnum
from typing import Any

import attrs
from opentelemetry import trace

from crucible.trace._errors import EventValidationError

__all__ = ["CORE_TYPES", "Event", "EventType", "check_type", "current_span_ids"]


class EventType(StrEnum):
    """The six core event types; chains may use further types unless they are strict."""

    HYPOTHESIS_FORMED = "hypothesis_formed"
    ALTERNATIVE_REJECTED = "alternative_rejected"
    CONSTRAINT_EVALUATED = "constraint_evaluated"
    PATTERN_APPLIED = "pattern_applied"
    AMBIGUITY_FLAGGED = "ambiguity_flagged"
    CONFIDENCE_UPDATED = "confidence_updated"


CORE_TYPES: frozenset[str] = frozenset(t.value for t in EventType)

_TYPE = re.compile(r"[a-z][a-z0-9_]*\Z")
_HEX32 = re.compile(r"[0-9a-f]{32}\Z")
_HEX16 = re.compile(r"[0-9a-f]{16}\Z")


def check_type(type_: str, *, strict: bool) -> str:
    """``type_`` normalised (lower case, ``-`` and spaces to ``_``); raises for an unknown type
    when ``strict``."""
    if not isinstance(type_, str):
        raise EventValidationError(f"event `type` must be a string, got {type(type_).__name__}")
    norm = re.sub(r"[\s\-]+", "_", type_.strip().lower())
    if not _TYPE.match(norm):
        raise EventValidationError(
            f"event `type` must be an identifier such as 'hypothesis_formed', got {type_!r}"
        )
    if strict and norm not in CORE_TYPES:
        raise EventValidationError(
            f"event `type` {type_!r} is not a core type ({', '.join(sorted(CORE_TYPES))}); "
            "use one of them or turn strict mode off"
        )
    return norm


def current_span_ids() -> tuple[str | None, str | None]:
    """Trace and span ids (hex) of the current OpenTelemetry span, or ``(None, None)``."""
    ctx = trace.get_current_span().get_span_context()
    if not ctx.is_valid:
        return None, None
    return f"{ctx.trace_id:032x}", f"{ctx.span_id:016x}"


def _new_id() -> str:
    return uuid.uuid4().hex


def _now() -> datetime:
    return datetime.now(UTC)


def _text(value: Any) -> str:
    if not isinstance(value, str):
        raise EventValidationError(f"expected text, got {type(value).__name__} {value!r:.60}")
    return value.strip()


def _optional_text(value: Any) -> str | None:
    if value is None:
        return None
    text = _text(value)
    return text or None


def _alternatives(value: Any) -> tuple[str, ...]:
    if isinstance(value, str):
        value = [value]
    if not isinstance(value, Iterable):
        raise EventValidationError(
            f"`alternatives` must be a list of strings, got {type(value).__name__}"
        )
    out = tuple(_text(v) for v in value)
    return tuple(v for v in out if v)


def _time(value: Any) -> datetime:
    if isinstance(value, str):
        try:
            value = datetime.fromisoformat(value)
        except ValueError:
            raise EventValidationError(
                f"event `time` must be an ISO-8601 timestamp, got {value!r}"
            ) from None
    if not isinstance(value, datetime):
        raise EventValidationError(f"event `time` must be a datetime, got {value!r}")
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


def _metadata(value: Any) -> dict[str, Any]:
    if value is None:
        return {}
    if not isinstance(value, Mapping):
        raise EventValidationError(f"`metadata` must be a mapping, got {type(value).__name__}")
    out = {str(k): v for k, v in value.items()}
    try:
        json.dumps(out, allow_nan=False)
    except (TypeError, ValueError) as exc:
        raise EventValidationError(
            f"`metadata` must be JSON-serialisable (strings, numbers, lists, objects): {exc}"
        ) from None
    return out


def _confidence(value: Any) -> float | None:
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise EventValidationError(f"`confidence` must be a number in [0, 1], got {value!r}")
    number = float(value)
    if math.isnan(number) or not 0.0 <= number <= 1.0:
        raise EventValidationError(
            f"`confidence` must be in [0, 1], got {number!r}; give a probability (0.85, not 85)"
        )
    return number


def _hex(value: Any, pattern: re.Pattern[str], what: str, digits: int) -> str | None:
    if value is None or value == "":
        return None
    text = str(value).lower()
    if not pattern.match(text):
        raise EventValidationError(f"`{what}` must be {digits} hex digits, got {value!r}")
    return text


def _trace_id(value: Any) -> str | None:
    return _hex(value, _HEX32, "trace_id", 32)


def _span_id(value: Any) -> str | None:
    return _hex(value, _HEX16, "span_id", 16)


def _type(value: Any) -> str:
    return check_type(value, strict=False)


@attrs.frozen(kw_only=True)
class Event:
    """One reasoning step.

    Attributes:
        type: a core :class:`EventType` value or any other identifier.
        decision: what was decided (required, non-empty).
        alternatives: the options considered and set aside.
        reasoning: why.
        confidence: the stated confidence, a probability in [0, 1] (or ``None``).
        code_section: the code the decision concerns (a function, a file:line range).
        spec_reference: the requirement it serves (a spec section, an issue).
        metadata: any JSON-serialisable extra fields.
        trace_id, span_id: the OpenTelemetry ids of the model call the event came from; by
            default those of the current span, so the event links back to its call.
        id, time: generated unless given.

    Raises:
        EventValidationError: an empty decision, a confidence outside [0, 1], a malformed type.

    >>> Event(type="hypothesis_formed", decision="use a heap", confidence=0.8).confidence
    0.8
    """

    type: str = attrs.field(converter=_type)
    decision: str = attrs.field(converter=_text)
    alternatives: tuple[str, ...] = attrs.field(default=(), converter=_alternatives)
    reasoning: str = attrs.field(default="", converter=_text)
    confidence: float | None = attrs.field(default=None, converter=_confidence)
    code_section: str | None = attrs.field(default=None, converter=_optional_text)
    spec_reference: str | None = attrs.field(default=None, converter=_optional_text)
    metadata: dict[str, Any] = attrs.field(factory=dict, converter=_metadata, hash=False)
    trace_id: str | None = attrs.field(factory=lambda: current_span_ids()[0], converter=_trace_id)
    span_id: str | None = attrs.field(factory=lambda: current_span_ids()[1], converter=_span_id)
    id: str = attrs.field(factory=_new_id, converter=str)
    time: datetime = attrs.field(factory=_now, converter=_time)

    @decision.validator
    def _decision_nonempty(self, attribute: attrs.Attribute[str], value: str) -> None:
        if not value:
            raise EventValidationError(
                "event `decision` is empty; say what was decided (e.g. 'use binary search')"
            )

    @property
    def is_core(self) -> bool:
        """Whether the type is one of the six core types."""
        return self.type in CORE_TYPES

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready dict (``time`` as ISO-8601)."""
        return {
            "id": self.id,
            "time": self.time.isoformat(),
            "type": self.type,
            "decision": self.decision,
            "alternatives": list(self.alternatives),
            "reasoning": self.reasoning,
            "confidence": self.confidence,
            "code_section": self.code_section,
            "spec_reference": self.spec_reference,
            "metadata": dict(self.metadata),
            "trace_id": self.trace_id,
            "span_id": self.span_id,
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any], *, strict: bool = False) -> Event:
        """Rebuild an event from :meth:`to_dict` output; ``strict`` rejects non-core types."""
        if not isinstance(data, Mapping):
            raise EventValidationError(f"an event must be an object, got {type(data).__name__}")
        known = {f.name for f in attrs.fields(cls)}
        unknown = set(data) - known
        if unknown:
            raise EventValidationError(
                f"unknown event fields {sorted(unknown)}; fields are {sorted(known)}"
            )
        if "type" not in data or "decision" not in data:
            raise EventValidationError("an event needs at least `type` and `decision`")
        check_type(data["type"], strict=strict)
        kwargs = dict(data)
        kwargs.setdefault("trace_id", None)
        kwargs.setdefault("span_id", None)
        return cls(**kwargs)

    def __str__(self) -> str:
        conf = "" if self.confidence is None else f" ({self.confidence:.0%})"
        return f"[{self.type}] {self.decision}{conf}"
