"""Chains: the ordered reasoning events of one task, with queries and statistics."""

from __future__ import annotations

import re
import statistics
import uuid
from collections import Counter
from collections.abc import Iterable, Iterator, Mapping
from datetime import UTC, datetime
from typing import Any

import attrs

from crucible.trace._errors import EventValidationError
from crucible.trace._event import Event, EventType, _metadata, _time, check_type

__all__ = ["Chain", "ChainStatistics", "_chain_safe_id"]

_ID = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,127}\Z")


def _chain_safe_id(value: Any) -> str:
    text = str(value)
    if not _ID.match(text):
        raise EventValidationError(
            f"chain `id` must be 1–128 letters, digits, '.', '_' or '-' (it names a file), "
            f"got {value!r}"
        )
    return text


def _event_list(value: Iterable[Event]) -> list[Event]:
    return list(value)


@attrs.frozen
class ChainStatistics:
    """Summary of a chain: counts, confidence and duration."""

    n_events: int
    counts: dict[str, int]
    n_decision_points: int
    n_low_confidence: int
    mean_confidence: float | None
    min_confidence: float | None
    max_confidence: float | None
    duration_s: float | None

    def to_dict(self) -> dict[str, Any]:
        return attrs.asdict(self)

    def __str__(self) -> str:
        mean = "n/a" if self.mean_confidence is None else f"{self.mean_confidence:.2f}"
        span = "n/a" if self.duration_s is None else f"{self.duration_s:.1f}s"
        kinds = ", ".join(f"{k}={v}" for k, v in sorted(self.counts.items()))
        return (
            f"{self.n_events} events ({kinds}); mean confidence {mean}; "
            f"{self.n_decision_points} decision points; duration {span}"
        )


@attrs.define(eq=False)
class Chain:
    """An ordered list of :class:`Event` for one task (a generation, an agent run).

    ``strict`` chains accept only the six core event types.

    >>> chain = Chain(name="sort")
    >>> _ = chain.add(type="hypothesis_formed", decision="use merge sort", confidence=0.7)
    >>> len(chain)
    1
    """

    name: str = attrs.field(default="", converter=str)
    events: list[Event] = attrs.field(factory=list, converter=_event_list)
    id: str = attrs.field(factory=lambda: uuid.uuid4().hex, converter=_chain_safe_id)
    created: datetime = attrs.field(factory=lambda: datetime.now(UTC), converter=_time)
    metadata: dict[str, Any] = attrs.field(factory=dict, converter=_metadata)
    strict: bool = False

    def __attrs_post_init__(self) -> None:
        for i, event in enumerate(self.events):
            if not isinstance(event, Event):
                raise EventValidationError(
                    f"`events[{i}]` must be an Event, got {type(event).__name__}"
                )
            if self.strict:
                check_type(event.type, strict=True)

    def __len__(self) -> int:
        return len(self.events)

    def __iter__(self) -> Iterator[Event]:
        return iter(self.events)

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Chain):
            return NotImplemented
        return (
            self.id == other.id
            and self.name == other.name
            and self.created == other.created
            and self.metadata == other.metadata
            and self.events == other.events
        )

    __hash__ = None  # type: ignore[assignment]  # mutable

    def add(self, event: Event | None = None, /, **fields: Any) -> Event:
        """Append ``event``, or an event built from ``fields``; returns it.

        Raises:
            EventValidationError: invalid fields, or a non-core type in a strict chain.
        """
        if event is None:
            if "type" in fields:
                check_type(fields["type"], strict=self.strict)
            event = Event(**fields)
        elif fields:
            raise EventValidationError("pass an Event or keyword fields, not both")
        elif not isinstance(event, Event):
            raise EventValidationError(f"`event` must be an Event, got {type(event).__name__}")
        if self.strict:
            check_type(event.type, strict=True)
        self.events.append(event)
        return event

    def extend(self, events: Iterable[Event]) -> None:
        """Append several events."""
        for event in events:
            self.add(event)

    def merge(self, other: Chain, *, name: str | None = None) -> Chain:
        """A new chain with both chains' events in time order (an event id seen twice is kept
        once)."""
        seen: dict[str, Event] = {}
        for event in [*self.events, *other.events]:
            seen.setdefault(event.id, event)
        events = sorted(seen.values(), key=lambda e: e.time)
        return Chain(
            name=name if name is not None else f"{self.name}+{other.name}",
            events=events,
            metadata={**other.metadata, **self.metadata},
            strict=self.strict or other.strict,
        )

    def _derived(self, events: list[Event], suffix: str) -> Chain:
        return Chain(
            name=f"{self.name} [{suffix}]",
            events=events,
            created=self.created,
            metadata=dict(self.metadata),
            strict=self.strict,
        )

    def filter(self, type: str | EventType | Iterable[str | EventType] | None = None) -> Chain:
        """A new chain with only the events of ``type`` (one type or several)."""
        if type is None:
            return self._derived(list(self.events), "all")
        wanted = (
            {check_type(str(type), strict=False)}
            if isinstance(type, str)
            else {check_type(str(t), strict=False) for t in type}
        )
        return self._derived([e for e in self.events if e.type in wanted], "+".join(sorted(wanted)))

    def decision_points(self) -> list[Event]:
        """Events where a choice was made between options: they list alternatives, or they
        reject one (``alternative_rejected``)."""
        return [
            e for e in self.events if e.alternatives or e.type == EventType.ALTERNATIVE_REJECTED
        ]

    def low_confidence(self, threshold: float = 0.5) -> list[Event]:
        """Events whose stated confidence is below ``threshold``."""
        if not isinstance(threshold, int | float) or not 0 <= threshold <= 1:
            raise EventValidationError(f"`threshold` must be in [0, 1], got {threshold!r}")
        return [e for e in self.events if e.confidence is not None and e.confidence < threshold]

    def for_span(self, span_id: str) -> list[Event]:
        """Events that came from the model call with this span id (hex)."""
        return [e for e in self.events if e.span_id == span_id.lower()]

    def statistics(self, *, low_confidence: float = 0.5) -> ChainStatistics:
        """Counts per type, confidence summary and duration (first to last event)."""
        confidences = [e.confidence for e in self.events if e.confidence is not None]
        times = [e.time for e in self.events]
        return ChainStatistics(
            n_events=len(self.events),
            counts=dict(Counter(e.type for e in self.events)),
            n_decision_points=len(self.decision_points()),
            n_low_confidence=len(self.low_confidence(low_confidence)),
            mean_confidence=statistics.fmean(confidences) if confidences else None,
            min_confidence=min(confidences) if confidences else None,
            max_confidence=max(confidences) if confidences else None,
            duration_s=(max(times) - min(times)).total_seconds() if times else None,
        )

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready dict."""
        return {
            "id": self.id,
            "name": self.name,
            "created": self.created.isoformat(),
            "metadata": dict(self.metadata),
            "strict": self.strict,
            "events": [e.to_dict() for e in self.events],
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Chain:
        """Rebuild a chain from :meth:`to_dict` output."""
        if not isinstance(data, Mapping):
            raise EventValidationError(f"a chain must be an object, got {type(data).__name__}")
        strict = bool(data.get("strict", False))
        raw_events = data.get("events", [])
        if not isinstance(raw_events, list):
            raise EventValidationError("chain `events` must be a list")
        events = []
        for i, raw in enumerate(raw_events):
            try:
                events.append(Event.from_dict(raw, strict=strict))
            except EventValidationError as exc:
                raise EventValidationError(f"events[{i}]: {exc}") from None
        return cls(
            name=data.get("name", ""),
            events=events,
            id=data.get("id", uuid.uuid4().hex),
            created=data.get("created", datetime.now(UTC)),
            metadata=data.get("metadata") or {},
            strict=strict,
        )

    def __str__(self) -> str:
        lines = [f"Chain {self.name or self.id} ({len(self.events)} events)"]
        lines += [f"  {i + 1}. {e}" for i, e in enumerate(self.events)]
        return "\n".join(lines)
