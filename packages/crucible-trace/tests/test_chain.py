from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from opentelemetry import trace
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter

from crucible.trace import (
    Chain,
    DivergenceKind,
    Event,
    EventType,
    EventValidationError,
    diff,
    parse,
)

T0 = datetime(2025, 1, 1, tzinfo=UTC)


def _chain(*steps: tuple[str, str, float | None], name: str = "c") -> Chain:
    chain = Chain(name=name)
    for i, (type_, decision, confidence) in enumerate(steps):
        chain.add(
            type=type_,
            decision=decision,
            confidence=confidence,
            time=T0 + timedelta(seconds=i),
            alternatives=["other"] if type_ == "hypothesis_formed" else [],
        )
    return chain


def test_event_validation() -> None:
    with pytest.raises(EventValidationError, match=r"`confidence` must be in \[0, 1\], got 1.7"):
        Event(type="hypothesis_formed", decision="x", confidence=1.7)
    with pytest.raises(EventValidationError, match="`decision` is empty"):
        Event(type="hypothesis_formed", decision="   ")
    with pytest.raises(EventValidationError, match="must be an identifier"):
        Event(type="not a type!", decision="x")
    with pytest.raises(EventValidationError, match="`trace_id` must be 32 hex digits"):
        Event(type="pattern_applied", decision="x", trace_id="xyz")
    assert Event(type="Pattern-Applied", decision="  x ").type == "pattern_applied"
    with pytest.raises(EventValidationError, match="`metadata` must be JSON-serialisable"):
        Event(type="pattern_applied", decision="x", metadata={"f": object()})


def test_strict_chain_rejects_unknown_types() -> None:
    strict = Chain(name="s", strict=True)
    strict.add(type=EventType.PATTERN_APPLIED, decision="ok")
    with pytest.raises(EventValidationError, match="'design_choice' is not a core type"):
        strict.add(type="design_choice", decision="x")
    with pytest.raises(EventValidationError, match="not a core type"):
        strict.add(Event(type="design_choice", decision="x"))
    assert len(strict) == 1
    lenient = Chain()
    lenient.add(type="design_choice", decision="x")
    assert not lenient.events[0].is_core


def test_queries_and_statistics() -> None:
    chain = _chain(
        ("hypothesis_formed", "heap", 0.6),
        ("alternative_rejected", "no sort", 0.9),
        ("constraint_evaluated", "n <= 1e5", None),
        ("confidence_updated", "tests pass", 0.3),
    )
    assert [e.decision for e in chain.filter("hypothesis_formed")] == ["heap"]
    assert len(chain.filter(["hypothesis_formed", "confidence_updated"])) == 2
    assert [e.decision for e in chain.decision_points()] == ["heap", "no sort"]
    assert [e.decision for e in chain.low_confidence(0.5)] == ["tests pass"]
    stats = chain.statistics()
    assert stats.n_events == 4
    assert stats.counts["hypothesis_formed"] == 1
    assert stats.mean_confidence == pytest.approx((0.6 + 0.9 + 0.3) / 3)
    assert stats.min_confidence == 0.3
    assert stats.duration_s == 3.0
    assert stats.n_decision_points == 2
    assert "4 events" in str(stats)
    with pytest.raises(EventValidationError, match="`threshold` must be in"):
        chain.low_confidence(2)


def test_merge_orders_by_time_and_deduplicates() -> None:
    a = _chain(("hypothesis_formed", "a1", None), ("pattern_applied", "a2", None), name="a")
    b = Chain(
        name="b",
        events=[
            a.events[0],
            Event(type="pattern_applied", decision="b1", time=T0 + timedelta(milliseconds=500)),
        ],
    )
    merged = a.merge(b)
    assert [e.decision for e in merged] == ["a1", "b1", "a2"]
    assert merged.name == "a+b"


def test_events_link_to_the_model_call_span(spans: InMemorySpanExporter) -> None:
    tracer = trace.get_tracer("crucible.trace.tests")
    with tracer.start_as_current_span("chat gpt-4o") as span:
        result = parse('<event type="pattern_applied"><decision>memoise</decision></event>')
        direct = Event(type="pattern_applied", decision="x")
        ctx = span.get_span_context()
    (event,) = result.events
    assert event.trace_id == f"{ctx.trace_id:032x}"
    assert event.span_id == f"{ctx.span_id:016x}"
    assert direct.span_id == event.span_id
    chain = result.chain(name="from call")
    assert chain.for_span(f"{ctx.span_id:016x}") == [event]
    (finished,) = [s for s in spans.get_finished_spans() if s.name == "chat gpt-4o"]
    assert finished.context is not None
    assert event.span_id == f"{finished.context.span_id:016x}"  # what telemetry stores
    outside = Event(type="pattern_applied", decision="x")
    assert outside.trace_id is None and outside.span_id is None


def test_diff_finds_the_divergence() -> None:
    a = _chain(
        ("hypothesis_formed", "use a heap", 0.7),
        ("constraint_evaluated", "n is small", 0.9),
        ("pattern_applied", "early exit", 0.8),
    )
    b = _chain(
        ("hypothesis_formed", "Use a  HEAP", 0.5),
        ("constraint_evaluated", "n is large", 0.9),
        ("pattern_applied", "early exit", 0.8),
        ("ambiguity_flagged", "ties?", 0.4),
    )
    d = diff(a, b)
    assert d.common_prefix == 1  # decisions compare case- and space-insensitively
    assert not d.same
    first = d.first
    assert first is not None
    assert first.kind is DivergenceKind.CHANGED
    assert (first.index_a, first.index_b) == (1, 1)
    assert [x.kind for x in d.divergences] == [DivergenceKind.CHANGED, DivergenceKind.ONLY_B]
    assert d.divergences[1].index_b == 3
    assert "'n is small' -> 'n is large'" in str(d)
    assert diff(a, a).same
    assert d.to_dict()["divergences"][0]["decision_b"] == "n is large"
