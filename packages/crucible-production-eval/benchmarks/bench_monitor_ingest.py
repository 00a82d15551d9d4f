"""Monitor ingestion throughput (events/s) into DuckDB, and re-ingestion of the same events."""

from __future__ import annotations

import json
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import numpy as np
import polars as pl

from crucible.production_eval import Monitor


def main(n: int = 200_000) -> None:
    rng = np.random.default_rng(0)
    t0 = datetime(2026, 1, 1, tzinfo=UTC)
    events = pl.DataFrame(
        {
            "event_id": [f"e{i}" for i in range(n)],
            "time": pl.datetime_range(t0, t0 + timedelta(seconds=n - 1), "1s", eager=True),
            "score": (rng.random(n) < 0.9).astype(float),
            "latency_ms": rng.lognormal(6, 0.4, n),
            "success": rng.random(n) > 0.01,
        }
    )
    base = {
        "pass_rate": (rng.random(5000) < 0.9).astype(float),
        "latency_p95": rng.lognormal(6, 0.4, 5000),
    }
    with (
        tempfile.TemporaryDirectory() as d,
        Monitor(
            base,
            metrics=["pass_rate", "latency_p95"],
            store=Path(d) / "m.duckdb",
            batch_size=20_000,
        ) as mon,
    ):
        t = time.perf_counter()
        mon.ingest(events)
        ingest_s = time.perf_counter() - t
        t = time.perf_counter()
        again = mon.ingest(events)
        reingest_s = time.perf_counter() - t
        t = time.perf_counter()
        mon.evaluate(final=True)
        windows = mon.status()["win"].n_unique()
        evaluate_s = time.perf_counter() - t
    print(
        json.dumps(
            {
                "benchmark": "monitor_ingest",
                "events": n,
                "events_per_s": round(n / ingest_s),
                "reingest_events_per_s": round(n / reingest_s),
                "reingest_inserted": again.inserted,
                "windows": windows,
                "evaluate_s_per_window": round(evaluate_s / windows, 4),
            }
        )
    )


if __name__ == "__main__":
    main()
