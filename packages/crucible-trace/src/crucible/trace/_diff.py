"""Where two chains' decisions diverge."""

from __future__ import annotations

import difflib
from enum import StrEnum
from typing import Any

import attrs

from crucible.trace._chain import Chain
from crucible.trace._errors import EventValidationError
from crucible.trace._event import Event

__all__ = ["ChainDiff", "Divergence", "DivergenceKind", "diff"]


class DivergenceKind(StrEnum):
    """How two chains differ at one point."""

    CHANGED = "changed"  # same kind of step, another decision
    ONLY_A = "only_a"  # a step the first chain took and the second did not
    ONLY_B = "only_b"


@attrs.frozen
class Divergence:
    """One point where the chains differ; ``index_a`` / ``index_b`` are event positions."""

    kind: DivergenceKind
    index_a: int | None
    index_b: int | None
    event_a: Event | None
    event_b: Event | None

    @property
    def event(self) -> Event:
        """The event of the first chain, else of the second."""
        event = self.event_a if self.event_a is not None else self.event_b
        if event is None:
            raise EventValidationError("a divergence has at least one event")
        return event

    def __str__(self) -> str:
        if self.event_a is not None and self.event_b is not None:
            return (
                f"changed at a[{self.index_a}]/b[{self.index_b}] ({self.event_a.type}): "
                f"{self.event_a.decision!r} -> {self.event_b.decision!r}"
            )
        event = self.event
        index = self.index_a if self.kind is DivergenceKind.ONLY_A else self.index_b
        side = "a" if self.kind is DivergenceKind.ONLY_A else "b"
        return f"only in {side}[{index}]: {event}"


@attrs.frozen
class ChainDiff:
    """The comparison of two chains.

    Attributes:
        common_prefix: how many leading events both chains share (same type and decision).
        divergences: every difference, in order.
        same: whether the decision sequences are identical.
    """

    common_prefix: int
    divergences: tuple[Divergence, ...]
    n_a: int
    n_b: int

    @property
    def same(self) -> bool:
        return not self.divergences

    @property
    def first(self) -> Divergence | None:
        """Where the chains first part ways, or ``None``."""
        return self.divergences[0] if self.divergences else None

    def to_dict(self) -> dict[str, Any]:
        return {
            "common_prefix": self.common_prefix,
            "n_a": self.n_a,
            "n_b": self.n_b,
            "divergences": [
                {
                    "kind": d.kind.value,
                    "index_a": d.index_a,
                    "index_b": d.index_b,
                    "decision_a": d.event_a.decision if d.event_a else None,
                    "decision_b": d.event_b.decision if d.event_b else None,
                    "type": d.event.type,
                }
                for d in self.divergences
            ],
        }

    def __str__(self) -> str:
        if self.same:
            return f"same decisions ({self.n_a} events)"
        head = f"diverge after {self.common_prefix} shared events"
        return "\n".join([head, *(f"  {d}" for d in self.divergences)])


def _key(event: Event) -> tuple[str, str]:
    return event.type, " ".join(event.decision.lower().split())


def diff(a: Chain, b: Chain) -> ChainDiff:
    """Align two chains by (type, decision) and report where they diverge.

    Alignment is a longest-matching-blocks sequence alignment (Ratcliff/Obershelp, as in
    :mod:`difflib`); decisions compare case- and whitespace-insensitively. A replaced run is
    paired step by step: a step of the same type with another decision is ``changed``, the rest
    are ``only_a`` / ``only_b``.

    >>> x, y = Chain(name="x"), Chain(name="y")
    >>> _ = x.add(type="hypothesis_formed", decision="use a heap", trace_id=None, span_id=None)
    >>> _ = y.add(type="hypothesis_formed", decision="sort first", trace_id=None, span_id=None)
    >>> diff(x, y).first.kind
    <DivergenceKind.CHANGED: 'changed'>
    """
    if not isinstance(a, Chain) or not isinstance(b, Chain):
        raise EventValidationError("diff() compares two Chain objects")
    ka, kb = [_key(e) for e in a.events], [_key(e) for e in b.events]
    matcher = difflib.SequenceMatcher(a=ka, b=kb, autojunk=False)
    out: list[Divergence] = []
    for tag, i1, i2, j1, j2 in matcher.get_opcodes():
        if tag == "equal":
            continue
        left, right = list(range(i1, i2)), list(range(j1, j2))
        while left and right:
            i, j = left[0], right[0]
            if a.events[i].type == b.events[j].type:
                out.append(Divergence(DivergenceKind.CHANGED, i, j, a.events[i], b.events[j]))
                left.pop(0)
                right.pop(0)
            elif len(left) >= len(right):
                out.append(Divergence(DivergenceKind.ONLY_A, i, None, a.events[i], None))
                left.pop(0)
            else:
                out.append(Divergence(DivergenceKind.ONLY_B, None, j, None, b.events[j]))
                right.pop(0)
        out += [Divergence(DivergenceKind.ONLY_A, i, None, a.events[i], None) for i in left]
        out += [Divergence(DivergenceKind.ONLY_B, None, j, None, b.events[j]) for j in right]
    prefix = 0
    for x, y in zip(ka, kb, strict=False):
        if x != y:
            break
        prefix += 1
    return ChainDiff(prefix, tuple(out), len(a.events), len(b.events))
