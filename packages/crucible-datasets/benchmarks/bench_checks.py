"""10 expectations over 1,000,000 rows; prints one JSON line (goal: ≤ 1 s per check)."""

from __future__ import annotations

import json
import os
import platform
import time

import numpy as np
import polars as pl

from crucible.datasets import (
    Expectation,
    between,
    check,
    in_set,
    length,
    mean_between,
    no_duplicate_ids,
    not_null,
    regex,
    row_count,
    unique,
)

N_ROWS = 1_000_000
REPEATS = 5


def make_frame(n: int, seed: int = 0) -> pl.DataFrame:
    rng = np.random.default_rng(seed)
    return pl.DataFrame(
        {
            "id": [f"item-{i}" for i in range(n)],
            "answer": rng.choice(["A", "B", "C", "D"], size=n),
            "score": rng.random(n),
            "latency_ms": rng.lognormal(5, 1, n),
            "text": rng.choice(["short", "a somewhat longer answer", "mid length"], size=n),
        }
    )


def _median_time(frame: pl.DataFrame, expectations: list[Expectation], expect_pass: bool) -> float:
    check(frame, expectations)  # warm-up
    times = []
    for _ in range(REPEATS):
        start = time.perf_counter()
        report = check(frame, expectations)
        times.append(time.perf_counter() - start)
    assert report.passed is expect_pass, str(report)
    return sorted(times)[len(times) // 2]


def main() -> None:
    frame = make_frame(N_ROWS)
    expectations = [
        not_null("id"),
        no_duplicate_ids("id"),
        unique("id"),
        in_set("answer", ["A", "B", "C", "D"]),
        between("score", 0, 1),
        between("latency_ms", 0, 1e6),
        regex("id", r"item-\d+"),
        length("text", 1, 100),
        row_count(min=N_ROWS, max=N_ROWS),
        mean_between("score", 0.45, 0.55),
    ]
    clean = _median_time(frame, expectations, expect_pass=True)
    # 1% of rows break three expectations: the report then also fetches example rows.
    dirty = frame.with_columns(
        pl.when(pl.int_range(pl.len()) % 100 == 0)
        .then(pl.lit("E"))
        .otherwise(pl.col("answer"))
        .alias("answer"),
        pl.when(pl.int_range(pl.len()) % 100 == 1)
        .then(pl.lit(2.0))
        .otherwise(pl.col("score"))
        .alias("score"),
        pl.when(pl.int_range(pl.len()) % 100 == 2)
        .then(pl.lit(""))
        .otherwise(pl.col("text"))
        .alias("text"),
    )
    failing = _median_time(dirty, expectations, expect_pass=False)
    print(
        json.dumps(
            {
                "benchmark": "checks_10_expectations_1m_rows",
                "rows": N_ROWS,
                "expectations": len(expectations),
                "median_s": clean,
                "median_s_with_failures": failing,
                "repeats": REPEATS,
                "goal_s": 1.0,
                "polars": pl.__version__,
                "cpus": os.cpu_count(),
                "python": platform.python_version(),
            }
        )
    )


if __name__ == "__main__":
    main()
