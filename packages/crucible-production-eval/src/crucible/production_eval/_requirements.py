"""Deployment requirements: ``"accuracy >= baseline - 0.01"`` and friends, parsed into data.

Grammar: ``<metric> <op> <bound>`` with ``op`` one of ``>=``, ``>``, ``<=``, ``<`` and
``bound`` one of ``baseline``, ``baseline + x``, ``baseline - x``, ``x * baseline`` (or
``baseline * x``), or a number ``x``. ``>``/``>=`` read the same (a test cannot tell them
apart); the margin or factor is what matters.
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping
from enum import StrEnum
from typing import Any

import attrs

from crucible.production_eval._errors import RequirementError

__all__ = ["GATE_METRICS", "BoundKind", "Requirement", "parse_requirement"]


class BoundKind(StrEnum):
    DIFFERENCE = "difference"  # candidate - baseline vs a margin (paired, per item)
    RATIO = "ratio"  # candidate / baseline vs a factor (paired bootstrap)
    ABSOLUTE = "absolute"  # candidate alone vs a number


#: Gate metrics: the trials-table value each is computed from and its statistic.
GATE_METRICS: dict[str, tuple[str, str]] = {
    "accuracy": ("score", "mean"),
    "score": ("score", "mean"),
    "error_rate": ("error", "mean"),
    "latency_mean": ("latency_ms", "mean"),
    "latency_p50": ("latency_ms", "p50"),
    "latency_p95": ("latency_ms", "p95"),
    "latency_p99": ("latency_ms", "p99"),
    "cost_per_query": ("cost_usd", "mean"),
    "output_tokens": ("output_tokens", "mean"),
    "guard_detection_rate": ("guard", "mean"),
}

_NUM = r"[-+]?(?:\d+\.?\d*|\.\d+)(?:[eE][-+]?\d+)?"
_PATTERNS = (
    (re.compile(rf"^baseline\s*([-+])\s*({_NUM})$"), "diff"),
    (re.compile(rf"^({_NUM})\s*\*\s*baseline$"), "ratio"),
    (re.compile(rf"^baseline\s*\*\s*({_NUM})$"), "ratio"),
    (re.compile(r"^baseline$"), "same"),
    (re.compile(rf"^({_NUM})$"), "abs"),
)


@attrs.frozen
class Requirement:
    """One requirement on the candidate.

    Attributes:
        metric: a key of :data:`GATE_METRICS`.
        op: ``">="`` (higher is better) or ``"<="`` (lower is better).
        kind: :class:`BoundKind`.
        value: the margin (difference: candidate - baseline must stay above/below it), the
            factor (ratio) or the limit (absolute).
        text: the requirement as written.
    """

    metric: str
    op: str
    kind: BoundKind
    value: float
    text: str

    @property
    def higher_is_better(self) -> bool:
        return self.op == ">="

    def to_dict(self) -> dict[str, Any]:
        return {
            "metric": self.metric,
            "op": self.op,
            "kind": self.kind.value,
            "value": self.value,
            "text": self.text,
        }

    def __str__(self) -> str:
        return self.text


def _check_metric(metric: str, where: str) -> None:
    if metric not in GATE_METRICS:
        raise RequirementError(
            f"{where}: unknown metric {metric!r}; use one of {', '.join(sorted(GATE_METRICS))}"
        )


def parse_requirement(spec: str | Mapping[str, Any] | Requirement, index: int = 0) -> Requirement:
    """A :class:`Requirement` from a string, a mapping (``metric``, ``op``, ``kind``, ``value``)
    or a requirement.

    Raises:
        RequirementError: naming the requirement's position and the part that does not parse.

    Example:
        >>> r = parse_requirement("latency_p95 <= 1.1 * baseline")
        >>> (r.metric, r.kind.value, r.value)
        ('latency_p95', 'ratio', 1.1)
    """
    where = f"requirements[{index}]"
    if isinstance(spec, Requirement):
        return spec
    if isinstance(spec, Mapping):
        try:
            metric, op = str(spec["metric"]), str(spec["op"])
            kind, value = BoundKind(spec["kind"]), float(spec["value"])
        except (KeyError, ValueError, TypeError) as exc:
            raise RequirementError(
                f"{where} must have metric, op ('>=' or '<='), kind "
                f"({', '.join(k.value for k in BoundKind)}) and value: {exc}"
            ) from None
        _check_metric(metric, where)
        if op not in (">=", "<="):
            raise RequirementError(f"{where}: `op` must be '>=' or '<=', got {op!r}")
        return Requirement(metric, op, kind, value, f"{metric} {op} {kind.value} {value:g}")
    if not isinstance(spec, str):
        raise RequirementError(f"{where} must be a string or a mapping, got {type(spec).__name__}")
    text = " ".join(spec.split())
    match = re.fullmatch(r"([A-Za-z_][A-Za-z0-9_]*)\s*(>=|<=|>|<|==)\s*(.+)", text)
    if match is None:
        raise RequirementError(
            f"{where} {spec!r} does not parse: expected '<metric> <op> <bound>', e.g. "
            "'accuracy >= baseline - 0.01'"
        )
    metric, op, rhs = match.groups()
    _check_metric(metric, f"{where} {spec!r}")
    if op == "==":
        raise RequirementError(
            f"{where} {spec!r}: operator '==' cannot be tested; use '>=' or '<=' with a margin"
        )
    op = ">=" if op in (">", ">=") else "<="
    for pattern, form in _PATTERNS:
        found = pattern.fullmatch(rhs.strip())
        if found is None:
            continue
        if form == "diff":
            sign = 1.0 if found.group(1) == "+" else -1.0
            return Requirement(metric, op, BoundKind.DIFFERENCE, sign * float(found.group(2)), text)
        if form == "ratio":
            factor = float(found.group(1))
            if not (math.isfinite(factor) and factor > 0):
                raise RequirementError(f"{where} {spec!r}: the factor must be > 0, got {factor}")
            return Requirement(metric, op, BoundKind.RATIO, factor, text)
        if form == "same":
            return Requirement(metric, op, BoundKind.DIFFERENCE, 0.0, text)
        return Requirement(metric, op, BoundKind.ABSOLUTE, float(found.group(1)), text)
    raise RequirementError(
        f"{where} {spec!r}: the bound {rhs.strip()!r} does not parse; use 'baseline', "
        "'baseline - 0.01', '1.1 * baseline' or a number"
    )
