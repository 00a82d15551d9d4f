from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import numpy as np
import polars as pl
import pytest
from polars.testing import assert_frame_equal

from crucible.telemetry import (
    EVALUATION_EVENT,
    EVENT_SCHEMA,
    DuckDBStore,
    MemoryStore,
    TelemetryError,
    empty_events,
    error_breakdown,
    metrics,
    reliability,
    timeseries,
)

T0 = datetime(2025, 1, 1, tzinfo=UTC)


def _events() -> pl.DataFrame:
    """Condition A: 4 calls (1 timeout), condition B: 3 calls; scores for some items."""
    rows = [
        # condition, model, item, latency, cost, error, minute
        ("A", "m1", "q1", 100.0, 0.10, None, 0),
        ("A", "m1", "q2", 200.0, 0.20, None, 0),
        ("A", "m1", "q3", 400.0, 0.30, None, 1),
        ("A", "m1", "q4", 9000.0, None, "ProviderTimeoutError", 1),
        ("B", "m2", "r1", 50.0, 0.01, None, 0),
        ("B", "m2", "r2", 60.0, 0.02, "RateLimitError", 2),
        ("B", "m2", "r3", 70.0, 0.03, "RateLimitError", 2),
    ]
    calls = pl.DataFrame(
        {
            "time": [T0 + timedelta(minutes=r[6], seconds=i) for i, r in enumerate(rows)],
            "experiment": ["e"] * len(rows),
            "condition": [r[0] for r in rows],
            "span_id": [f"{i:016x}" for i in range(len(rows))],
            "name": [f"chat {r[1]}" for r in rows],
            "model": [r[1] for r in rows],
            "item_id": [r[2] for r in rows],
            "latency_ms": [r[3] for r in rows],
            "cost_usd": [r[4] for r in rows],
            "input_tokens": [10] * len(rows),
            "output_tokens": [5] * len(rows),
            "success": [r[5] is None for r in rows],
            "error_type": [r[5] for r in rows],
        }
    )
    scores = pl.DataFrame(
        {
            "time": [T0 + timedelta(minutes=3)] * 4,
            "experiment": ["e"] * 4,
            # q1/A scored on its own call span; q2/A carries its condition itself; B by item.
            "condition": [None, "A", None, None],
            "span_id": [f"{0:016x}", "ff00000000000000", "ff00000000000001", "ff00000000000002"],
            "parent_span_id": [None, f"{1:016x}", None, None],
            "name": [EVALUATION_EVENT] * 4,
            "item_id": ["q1", "q2", "r1", "zz"],
            "evaluation": ["exact_match"] * 4,
            "score": [1.0, 1.0, 0.0, 1.0],
        }
    )
    both = pl.concat([calls, scores], how="diagonal")
    return empty_events().vstack(
        both.select(
            [
                pl.col(c).cast(t) if c in both.columns else pl.lit(None, t).alias(c)
                for c, t in EVENT_SCHEMA.items()
            ]
        )
    )


def test_counts_rates_latency_and_cost() -> None:
    m = metrics(_events())
    assert m["condition"].to_list() == ["A", "B", None]
    a = m.row(0, named=True)
    assert a["n_calls"] == 4
    assert a["n_success"] == 3
    assert a["n_errors"] == 1
    assert a["success_rate"] == pytest.approx(0.75)
    assert a["error_rate"] == pytest.approx(0.25)
    ok = np.array([100.0, 200.0, 400.0])  # latency is over successful calls
    assert a["latency_mean_ms"] == pytest.approx(ok.mean())
    # numpy 2: np.percentile(ok, q) (linear, Hyndman & Fan type 7)
    for name, q in (("p50", 50), ("p90", 90), ("p95", 95), ("p99", 99)):
        assert a[f"latency_{name}_ms"] == pytest.approx(np.percentile(ok, q))
    assert a["cost_usd"] == pytest.approx(0.6)
    assert a["cost_per_call_usd"] == pytest.approx(0.15)
    assert a["input_tokens"] == 40
    # q1 scored on its own span, q2 under its call (condition on the row): 2 correct of 2.
    assert a["n_scored"] == 2
    assert a["n_correct"] == 2
    assert a["accuracy"] == 1.0
    assert a["cost_per_correct_usd"] == pytest.approx(0.3)
    b = m.row(1, named=True)
    assert b["model"] == "m2"
    assert b["n_scored"] == 1  # joined to B's call of r1 through the item id
    assert b["n_correct"] == 0
    assert b["cost_per_correct_usd"] is None
    orphan = m.row(2, named=True)  # a score whose item has no call: its own group
    assert orphan["n_calls"] == 0
    assert orphan["n_scored"] == 1


def test_grouping_and_fixed_schema() -> None:
    by_model = metrics(_events(), by="model")
    overall = metrics(_events(), by=())
    assert by_model.columns[0] == "model"
    assert overall.columns == by_model.columns[1:]
    assert overall["n_calls"].to_list() == [7]
    assert overall["n_scored"].to_list() == [4]
    empty = metrics(empty_events())
    assert empty.height == 0
    assert empty.columns == metrics(_events()).columns


def test_store_and_frame_give_the_same_metrics(tmp_path: Path) -> None:
    frame = _events()
    with DuckDBStore(tmp_path / "m.duckdb") as duck, MemoryStore() as memory:
        duck.extend(frame)
        memory.extend(frame)
        from_duck = metrics(duck)
        from_memory = metrics(memory)
        overall_duck = metrics(duck, by=())
    expected = metrics(frame)
    # DuckDB sums in another order: equal up to floating-point rounding.
    assert_frame_equal(from_duck, expected, rel_tol=1e-12)
    assert from_memory.equals(expected)
    assert_frame_equal(overall_duck, metrics(frame, by=()), rel_tol=1e-12)


def test_reliability_against_sla() -> None:
    r = reliability(_events(), availability_target=0.7, latency_sla_ms=150)
    a, b = r.row(0, named=True), r.row(1, named=True)
    assert a["availability"] == pytest.approx(0.75)
    assert a["meets_availability"] is True
    assert a["within_sla"] == pytest.approx(0.25)  # only the 100 ms call was ok and fast enough
    assert a["meets_sla"] is False
    assert a["top_error_type"] == "ProviderTimeoutError"
    assert b["availability"] == pytest.approx(1 / 3)
    assert b["meets_availability"] is False
    assert b["top_error_type"] == "RateLimitError"
    no_sla = reliability(_events())
    assert no_sla["within_sla"].to_list() == [None, None]
    with pytest.raises(TelemetryError, match=r"`availability_target` must be in \(0, 1\]"):
        reliability(_events(), availability_target=99.9)
    with pytest.raises(TelemetryError, match="`latency_sla_ms` must be a positive number"):
        reliability(_events(), latency_sla_ms=0)


def test_error_breakdown() -> None:
    e = error_breakdown(_events())
    assert e.rows() == [
        ("A", "m1", "ProviderTimeoutError", 1, 1.0, 0.25),
        ("B", "m2", "RateLimitError", 2, 1.0, pytest.approx(2 / 3)),
    ]
    overall = error_breakdown(_events(), by=())
    assert overall["n_errors"].to_list() == [2, 1]
    assert overall["share_of_errors"].to_list() == pytest.approx([2 / 3, 1 / 3])


def test_timeseries_windows() -> None:
    ts = timeseries(_events(), every="1m", by=())
    assert ts["time"].to_list() == [T0, T0 + timedelta(minutes=1), T0 + timedelta(minutes=2)]
    assert ts["n_calls"].to_list() == [3, 2, 2]
    assert ts["error_rate"].to_list() == pytest.approx([0.0, 0.5, 1.0])
    assert ts["tokens"].to_list() == [45, 30, 30]
    by_condition = timeseries(_events(), every=timedelta(minutes=5))
    assert by_condition.select("condition", "n_calls").rows() == [("A", 4), ("B", 3)]
    with pytest.raises(TelemetryError, match="`every` 'soon' is not a valid duration"):
        timeseries(_events(), every="soon")


def test_bad_sources_and_columns() -> None:
    with pytest.raises(TelemetryError, match="`by` has unknown columns \\['region'\\]"):
        metrics(_events(), by=("region",))
    with pytest.raises(TelemetryError, match="lacks columns"):
        metrics(pl.DataFrame({"condition": ["A"]}))
    with pytest.raises(TelemetryError, match="`source` must be a Store or a polars DataFrame"):
        metrics([1, 2, 3])  # type: ignore[arg-type]
