from __future__ import annotations

import asyncio
import json
import threading

import polars as pl
import pytest
from opentelemetry import trace
from opentelemetry.sdk.trace import TracerProvider

from crucible.core import Item, get_model
from crucible.core import semconv as sc
from crucible.telemetry import (
    EVALUATION_EVENT,
    EVENT_COLUMNS,
    MemoryStore,
    TelemetryError,
    capture,
    metrics,
    record_score,
)

from .conftest import emit_call


async def test_simulated_model_calls_become_rows_with_usage_and_cost() -> None:
    model = get_model("sim:gpt-4", seed=0, time_scale=0)
    items = [Item(id=f"q{i}", input=f"What is {i}+{i}?", expected=str(2 * i)) for i in range(5)]
    completions = []
    async with capture("exp-sim") as cap:
        for item in items:
            completions.append(await model.generate(item.input, item=item, condition="base"))
    frame = cap.frame().sort("time")
    assert frame.columns == list(EVENT_COLUMNS)
    assert frame.height == 5
    assert frame["item_id"].to_list() == [f"q{i}" for i in range(5)]
    assert set(frame["provider"]) == {"sim"}
    assert set(frame["model"]) == {"gpt-4"}
    assert set(frame["condition"]) == {"base"}
    assert frame["input_tokens"].to_list() == [c.usage.input_tokens for c in completions]
    assert frame["output_tokens"].to_list() == [c.usage.output_tokens for c in completions]
    assert frame["cost_usd"].to_list() == pytest.approx([c.cost_usd for c in completions])
    assert frame["latency_ms"].to_list() == pytest.approx([c.latency_ms for c in completions])
    assert frame["success"].all()
    assert frame["trace_id"].str.len_chars().to_list() == [32] * 5
    attrs = json.loads(frame["attributes"][0])
    assert attrs[sc.GEN_AI_OPERATION_NAME] == "chat"
    assert sc.GEN_AI_REQUEST_MODEL not in attrs  # mapped to a column, not repeated


def test_spans_without_genai_attributes_are_ignored_and_errors_recorded() -> None:
    tracer = trace.get_tracer("t")
    with capture("exp-plain") as cap:
        with tracer.start_as_current_span("plain work"):
            pass
        emit_call(error="RateLimitError")
    frame = cap.frame()
    assert frame.height == 1
    assert frame["success"].to_list() == [False]
    assert frame["error_type"].to_list() == ["RateLimitError"]
    assert frame["cost_usd"].to_list() == [None]


def test_parent_span_id_links_child_calls() -> None:
    tracer = trace.get_tracer("t")
    with capture("exp-tree") as cap, tracer.start_as_current_span("ensemble") as parent:
        parent.set_attribute(sc.CRUCIBLE_ENSEMBLE_VOTING, "majority")
        emit_call(item_id="a")
        emit_call(item_id="b")
    frame = cap.frame()
    root = frame.filter(pl.col("name") == "ensemble")
    children = frame.filter(pl.col("name") != "ensemble")
    assert root["parent_span_id"].to_list() == [None]
    assert set(children["parent_span_id"]) == {root["span_id"][0]}
    assert set(children["trace_id"]) == {root["trace_id"][0]}


async def test_overlapping_asyncio_captures_never_mix() -> None:
    store = MemoryStore()
    a_started, b_started = asyncio.Event(), asyncio.Event()

    async def run(name: str, mine: asyncio.Event, other: asyncio.Event) -> None:
        async with capture(name, store=store):
            mine.set()
            await asyncio.wait_for(other.wait(), 5)
            for i in range(20):
                emit_call(item_id=f"{name}-{i}")
                await asyncio.sleep(0)  # yield so the two tasks interleave span by span

    await asyncio.gather(run("exp-a", a_started, b_started), run("exp-b", b_started, a_started))
    frame = store.frame()
    assert frame.height == 40
    for name in ("exp-a", "exp-b"):
        mine = frame.filter(pl.col("experiment") == name)
        assert mine.height == 20
        assert mine["item_id"].str.starts_with(name).all()


def test_overlapping_thread_captures_never_mix() -> None:
    stores = {name: MemoryStore() for name in ("t1", "t2", "t3")}
    barrier = threading.Barrier(3, timeout=5)
    errors: list[BaseException] = []

    def run(name: str) -> None:
        try:
            with capture(name, store=stores[name]):
                barrier.wait()
                for i in range(50):
                    emit_call(item_id=f"{name}-{i}")
                barrier.wait()
        except BaseException as exc:
            errors.append(exc)

    threads = [threading.Thread(target=run, args=(n,)) for n in stores]
    for t in threads:
        t.start()
    for t in threads:
        t.join(10)
    assert not errors
    for name, store in stores.items():
        frame = store.frame()
        assert frame.height == 50
        assert set(frame["experiment"]) == {name}
        assert frame["item_id"].str.starts_with(name).all()


def test_nested_capture_wins_and_outer_resumes() -> None:
    outer_store, inner_store = MemoryStore(), MemoryStore()
    with capture("outer", store=outer_store):
        emit_call(item_id="o1")
        with capture("inner", store=inner_store):
            emit_call(item_id="i1")
        emit_call(item_id="o2")
    assert outer_store.frame()["item_id"].to_list() == ["o1", "o2"]
    assert inner_store.frame()["item_id"].to_list() == ["i1"]


def test_span_outside_context_routed_by_experiment_attribute() -> None:
    store = MemoryStore()
    with capture("exp-attr", store=store):
        done = threading.Event()

        def elsewhere() -> None:  # a plain thread: the capture's context is not inherited
            emit_call(item_id="x", extra={sc.CRUCIBLE_EXPERIMENT_ID: "exp-attr"})
            emit_call(item_id="y", extra={sc.CRUCIBLE_EXPERIMENT_ID: "other"})
            done.set()

        threading.Thread(target=elsewhere).start()
        assert done.wait(5)
    assert store.frame()["item_id"].to_list() == ["x"]


def test_explicit_tracer_provider() -> None:
    provider = TracerProvider()
    tracer = provider.get_tracer("t")
    with (
        capture("exp-own", tracer_provider=provider) as cap,
        tracer.start_as_current_span("chat m") as span,
    ):
        span.set_attribute(sc.GEN_AI_REQUEST_MODEL, "m")
    assert cap.frame()["model"].to_list() == ["m"]


def test_bad_arguments() -> None:
    with pytest.raises(TelemetryError, match="`experiment_id` must be a non-empty string"):
        capture("")
    with pytest.raises(TelemetryError, match="`store` must be a MemoryStore or DuckDBStore"):
        capture("x", store="events.duckdb")  # type: ignore[arg-type]
    bad_provider = capture("x", tracer_provider=object())  # type: ignore[arg-type]
    with pytest.raises(TelemetryError, match="`tracer_provider` must be"):
        bad_provider.__enter__()
    cap = capture("x")
    with cap, pytest.raises(TelemetryError, match="already active"):
        cap.__enter__()


def test_record_score_inside_and_after_a_call() -> None:
    tracer = trace.get_tracer("t")
    with capture("exp-score") as cap:
        with tracer.start_as_current_span("chat m") as span:
            span.set_attribute(sc.GEN_AI_REQUEST_MODEL, "m")
            span.set_attribute(sc.CRUCIBLE_CONDITION, "A")
            record_score("exact_match", 1.0, label="pass")
        ended = emit_call(model="m", condition="A", item_id="q2", cost_usd=0.5)
        record_score("exact_match", 0.0, span=trace.NonRecordingSpan(ended))
    frame = cap.frame()
    scores = frame.filter(pl.col("name") == EVALUATION_EVENT).sort("score")
    assert scores["score"].to_list() == [0.0, 1.0]
    assert scores["evaluation"].to_list() == ["exact_match", "exact_match"]
    assert scores["score_label"].to_list() == [None, "pass"]
    # The late score rides a child span of the evaluated call.
    assert scores["parent_span_id"][0] == f"{ended.span_id:016x}"
    m = metrics(frame)
    assert m["n_scored"].to_list() == [2]
    assert m["n_correct"].to_list() == [1]
    assert m["accuracy"].to_list() == [0.5]


def test_record_score_rejects_bad_values() -> None:
    with pytest.raises(TelemetryError, match="`score` must be a finite number"):
        record_score("f1", float("nan"))
    with pytest.raises(TelemetryError, match="`name` must be a non-empty string"):
        record_score("", 1.0)


def test_trial_spans_are_context_and_scores_on_them_find_their_call() -> None:
    """The harness shape: a trial span (no model) around the model call, scored on the trial."""
    tracer = trace.get_tracer("t")
    with capture("exp-trial") as cap:
        for i, (condition, model, score) in enumerate(
            [("A", "m1", 1.0), ("A", "m1", 0.0), ("B", "m2", 1.0)]
        ):
            with tracer.start_as_current_span(f"trial {condition}") as trial:
                trial.set_attribute(sc.CRUCIBLE_CONDITION, condition)
                trial.set_attribute(sc.CRUCIBLE_ITEM_ID, f"q{i}")
                trial.set_attribute(sc.CRUCIBLE_ATTEMPTS, 1)
                emit_call(model=model, condition=condition, item_id=f"q{i}", cost_usd=0.5)
                record_score("exact_match", score, span=trial, item_id=f"q{i}", condition=condition)
    frame = cap.frame()
    assert frame.height == 3 + 3 + 3  # trial spans, calls and evaluations are all stored
    m = metrics(frame)
    assert m.select("condition", "model", "n_calls", "n_scored", "n_correct").rows() == [
        ("A", "m1", 2, 2, 1),
        ("B", "m2", 1, 1, 1),
    ]
    assert m["cost_per_correct_usd"].to_list() == [1.0, 0.5]
