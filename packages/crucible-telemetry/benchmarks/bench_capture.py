"""Capture throughput against the bare OpenTelemetry SDK, and metrics over 1 000 000 events.

Prints one JSON line. Run: ``python packages/crucible-telemetry/benchmarks/bench_capture.py``.
"""

from __future__ import annotations

import gc
import json
import statistics
import tempfile
import time
from pathlib import Path

import duckdb
import numpy as np
import polars as pl
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import BatchSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter

from crucible.core import semconv as sc
from crucible.telemetry import EVENT_SCHEMA, DuckDBStore, capture, metrics

SPANS = 20_000
EVENTS = 1_000_000
ROUNDS = 3
CAPTURE_ROUNDS = 7


def _emit(provider: TracerProvider, n: int) -> None:
    tracer = provider.get_tracer("bench")
    for i in range(n):
        with tracer.start_as_current_span("chat gpt-4o") as span:
            span.set_attribute(sc.GEN_AI_OPERATION_NAME, "chat")
            span.set_attribute(sc.GEN_AI_PROVIDER_NAME, "openai")
            span.set_attribute(sc.GEN_AI_REQUEST_MODEL, "gpt-4o")
            span.set_attribute(sc.CRUCIBLE_CONDITION, "A" if i % 2 else "B")
            span.set_attribute(sc.CRUCIBLE_ITEM_ID, f"q{i}")
            span.set_attribute(sc.CRUCIBLE_REPEAT, 0)
            span.set_attribute(sc.GEN_AI_USAGE_INPUT_TOKENS, 120)
            span.set_attribute(sc.GEN_AI_USAGE_OUTPUT_TOKENS, 40)
            span.set_attribute(sc.CRUCIBLE_LATENCY_MS, 812.5)
            span.set_attribute(sc.CRUCIBLE_COST_USD, 0.0012)


def bare_sdk() -> tuple[float, float]:
    provider = TracerProvider()
    exporter = InMemorySpanExporter()
    processor = BatchSpanProcessor(exporter, max_queue_size=SPANS + 1)
    provider.add_span_processor(processor)
    start, cpu = time.perf_counter(), time.process_time()
    _emit(provider, SPANS)
    processor.force_flush()
    elapsed, cpu = time.perf_counter() - start, time.process_time() - cpu
    provider.shutdown()
    exported = len(exporter.get_finished_spans())
    if exported != SPANS:
        raise RuntimeError(f"bare SDK exported {exported} of {SPANS} spans")
    return SPANS / elapsed, cpu / SPANS


def with_capture(directory: Path, round_: int) -> tuple[float, float]:
    provider = TracerProvider()
    store = DuckDBStore(directory / f"bench-{round_}.duckdb", batch_size=5000)
    start, cpu = time.perf_counter(), time.process_time()
    with capture("bench", store=store, tracer_provider=provider):
        _emit(provider, SPANS)
    elapsed, cpu = time.perf_counter() - start, time.process_time() - cpu
    stored = store.frame(["experiment"]).height
    store.close()
    if stored != SPANS:
        raise RuntimeError(f"capture stored {stored} of {SPANS} spans")
    provider.shutdown()
    return SPANS / elapsed, cpu / SPANS


def synthetic_events(n: int, seed: int = 0) -> pl.DataFrame:
    rng = np.random.default_rng(seed)
    conditions = np.array(["A", "B", "C", "D"])
    models = np.array(["gpt-4o", "claude", "gemini"])
    success = rng.random(n) > 0.03
    frame = pl.DataFrame(
        {
            "time": pl.datetime_range(
                pl.datetime(2025, 1, 1, time_zone="UTC"),
                pl.datetime(2025, 1, 2, time_zone="UTC"),
                interval=f"{86_400_000_000 // n}us",
                eager=True,
            )[:n],
            "experiment": ["prod"] * n,
            "condition": conditions[rng.integers(0, 4, n)],
            "model": models[rng.integers(0, 3, n)],
            "name": ["chat"] * n,
            "latency_ms": rng.lognormal(6.5, 0.5, n),
            "input_tokens": rng.integers(10, 2000, n),
            "output_tokens": rng.integers(10, 500, n),
            "cost_usd": rng.random(n) / 100,
            "success": success,
        }
    ).with_columns(
        pl.when(pl.col("success"))
        .then(None)
        .otherwise(pl.lit("RateLimitError"))
        .alias("error_type")
    )
    return frame.select(
        [
            pl.col(c).cast(t) if c in frame.columns else pl.lit(None, t).alias(c)
            for c, t in EVENT_SCHEMA.items()
        ]
    )


_SQL = """
SELECT condition, model, count(*) AS n_calls,
       sum(CASE WHEN success THEN 1 ELSE 0 END) AS n_success,
       avg(CASE WHEN success THEN 1.0 ELSE 0.0 END) AS success_rate,
       avg(latency_ms) FILTER (WHERE success) AS latency_mean_ms,
       quantile_cont(latency_ms, [0.5, 0.9, 0.95, 0.99]) FILTER (WHERE success) AS latency_q,
       sum(input_tokens) AS input_tokens, sum(output_tokens) AS output_tokens,
       sum(cost_usd) AS cost_usd, sum(cost_usd) / count(*) AS cost_per_call_usd
FROM events WHERE name <> 'gen_ai.evaluation.result'
GROUP BY condition, model ORDER BY condition, model
"""


def _median_ms(fn: object) -> float:
    times = []
    for _ in range(ROUNDS):
        start = time.perf_counter()
        fn()  # type: ignore[operator]
        times.append((time.perf_counter() - start) * 1000)
    return statistics.median(times)


def main() -> None:
    bare, ours = [], []
    with tempfile.TemporaryDirectory() as tmp:
        # Interleaved rounds, so load from other processes hits both sides alike.
        for r in range(CAPTURE_ROUNDS):
            gc.collect()
            bare.append(bare_sdk())
            gc.collect()
            ours.append(with_capture(Path(tmp), r))
        bare_sps = statistics.median(b[0] for b in bare)
        ours_sps = statistics.median(o[0] for o in ours)
        bare_cpu = statistics.median(b[1] for b in bare)
        ours_cpu = statistics.median(o[1] for o in ours)
        ratios = sorted(b[0] / o[0] for b, o in zip(bare, ours, strict=True))
        events = synthetic_events(EVENTS)
        metrics_frame_ms = _median_ms(lambda: metrics(events))
        con = duckdb.connect()
        con.register("events_arrow", events.to_arrow())
        con.execute("CREATE TABLE events AS SELECT * FROM events_arrow")
        sql_ms = _median_ms(lambda: con.execute(_SQL).fetchall())
        con.close()
        store = DuckDBStore(Path(tmp) / "million.duckdb")
        store.extend(events)
        metrics_store_ms = _median_ms(lambda: metrics(store))
        store.close()
    print(
        json.dumps(
            {
                "benchmark": "crucible-telemetry capture and metrics",
                "spans": SPANS,
                "bare_sdk_batch_inmemory_spans_per_s": round(bare_sps),
                "capture_duckdb_spans_per_s": round(ours_sps),
                "capture_slowdown_pct": round((bare_sps / ours_sps - 1) * 100, 1),
                "capture_slowdown_pct_per_round_min_max": [
                    round((ratios[0] - 1) * 100, 1),
                    round((ratios[-1] - 1) * 100, 1),
                ],
                "capture_overhead_us_per_span": round((1 / ours_sps - 1 / bare_sps) * 1e6, 2),
                "bare_sdk_cpu_us_per_span": round(bare_cpu * 1e6, 2),
                "capture_cpu_us_per_span": round(ours_cpu * 1e6, 2),
                "capture_cpu_overhead_pct": round((ours_cpu / bare_cpu - 1) * 100, 1),
                "events": EVENTS,
                "metrics_polars_frame_ms": round(metrics_frame_ms, 1),
                "metrics_from_duckdb_store_ms": round(metrics_store_ms, 1),
                "handwritten_duckdb_sql_ms": round(sql_ms, 1),
            }
        )
    )


if __name__ == "__main__":
    main()
