"""The values a guard returns: detections, results and the actions a guard can take."""

from __future__ import annotations

import math
from enum import StrEnum
from typing import Any

import attrs

from crucible.core import ValidationError

__all__ = ["Action", "Detection", "GuardResult", "Stage", "check_text", "check_unit"]


class Action(StrEnum):
    """What a guard does with text that has a violation (a detection at or above the threshold)."""

    BLOCK = "block"  #: refuse it (``GuardedModel`` raises :class:`GuardBlockedError`)
    REDACT = "redact"  #: replace every violating span and let the rest through
    FLAG = "flag"  #: let it through unchanged, marked unsafe


class Stage(StrEnum):
    """Which side of a model call a detector looks at."""

    INPUT = "input"
    OUTPUT = "output"


def check_unit(name: str, value: object) -> float:
    """``value`` as a float in [0, 1], or a :class:`ValidationError` naming ``name``."""
    if (
        isinstance(value, bool)
        or not isinstance(value, int | float)
        or math.isnan(value)
        or not 0.0 <= value <= 1.0
    ):
        raise ValidationError(f"`{name}` must be a number in [0, 1], got {value!r}")
    return float(value)


def check_text(name: str, value: object) -> str:
    """``value`` if it is a non-empty string, else a :class:`ValidationError` naming ``name``."""
    if not isinstance(value, str):
        raise ValidationError(f"`{name}` must be a string, got {type(value).__name__}")
    if not value:
        raise ValidationError(f"`{name}` is an empty string; give the text to check")
    return value


def _confidence(instance: object, attribute: attrs.Attribute[float], value: float) -> None:
    check_unit(f"Detection.{attribute.name}", value)


@attrs.frozen(slots=True)
class Detection:
    """One finding in a text.

    Attributes:
        detector: the detector's registered name (``"prompt_injection"``, ``"pii"``, ...).
        category: what was found (``"instruction_override"``, ``"email"``, ...).
        confidence: how sure the detector is, in [0, 1].
        start: character offset (not byte offset) of the finding in the *original* text.
        end: character offset one past its end; ``text[start:end]`` is what was flagged.
        evidence: a short human-readable reason (the matched rule, the decoded payload, ...).
    """

    detector: str
    category: str
    confidence: float = attrs.field(validator=_confidence)
    start: int
    end: int
    evidence: str = ""

    def __attrs_post_init__(self) -> None:
        if self.start < 0 or self.end < self.start:
            raise ValidationError(
                f"Detection offsets must satisfy 0 <= start <= end, got {self.start}..{self.end}"
            )

    def to_dict(self) -> dict[str, Any]:
        return attrs.asdict(self)

    def __str__(self) -> str:
        return (
            f"{self.detector}/{self.category} {self.confidence:.2f} "
            f"[{self.start}:{self.end}] {self.evidence}"
        )


@attrs.frozen(slots=True)
class GuardResult:
    """The outcome of one check.

    Attributes:
        safe: ``True`` when no detection reaches the guard's threshold.
        action_taken: the action applied (``None`` when the text is safe).
        detections: every finding, violations and sub-threshold ones, ordered by offset.
        redacted_text: the text with violating spans replaced when the action is ``redact``,
            else ``None``.
        latency_ms: wall time of the check.
        threshold: the confidence a detection needed to count as a violation.
    """

    safe: bool
    action_taken: Action | None
    detections: tuple[Detection, ...]
    redacted_text: str | None
    latency_ms: float
    threshold: float = 0.7

    @property
    def violations(self) -> tuple[Detection, ...]:
        """The detections at or above the threshold."""
        return tuple(d for d in self.detections if d.confidence >= self.threshold)

    @property
    def categories(self) -> frozenset[str]:
        """The categories of the violations."""
        return frozenset(d.category for d in self.violations)

    def to_dict(self) -> dict[str, Any]:
        return {
            "safe": self.safe,
            "action_taken": None if self.action_taken is None else str(self.action_taken),
            "detections": [d.to_dict() for d in self.detections],
            "redacted_text": self.redacted_text,
            "latency_ms": self.latency_ms,
            "threshold": self.threshold,
        }

    def __str__(self) -> str:
        head = "safe" if self.safe else f"unsafe ({self.action_taken})"
        lines = [
            f"GuardResult: {head}, {len(self.detections)} detection(s), {self.latency_ms:.2f} ms"
        ]
        lines += [f"  {d}" for d in self.detections]
        return "\n".join(lines)
