"""Shared fixtures: synthetic production events in the telemetry event schema."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import numpy as np
import polars as pl
import pytest

T0 = datetime(2026, 3, 1, tzinfo=UTC)


def _make_events(
    n: int,
    *,
    seed: int = 0,
    start: int = 0,
    every_s: float = 36.0,
    accuracy: float | np.ndarray = 0.9,
    latency_mu: float = 6.0,
) -> pl.DataFrame:
    """``n`` events (ids ``e<start>``...), one every ``every_s`` seconds from T0."""
    rng = np.random.default_rng(seed)
    idx = np.arange(start, start + n)
    acc = np.broadcast_to(np.asarray(accuracy, dtype=float), (n,))
    return pl.DataFrame(
        {
            "event_id": [f"e{i}" for i in idx],
            "time": [T0 + timedelta(seconds=float(every_s * i)) for i in idx],
            "score": (rng.random(n) < acc).astype(float),
            "latency_ms": rng.lognormal(latency_mu, 0.4, n),
            "success": rng.random(n) > 0.01,
            "cost_usd": rng.uniform(0.001, 0.002, n),
            "output_tokens": rng.integers(50, 150, n),
            "input_tokens": rng.integers(100, 200, n),
        }
    )


@pytest.fixture
def baseline() -> dict[str, np.ndarray]:
    rng = np.random.default_rng(123)
    return {
        "pass_rate": (rng.random(2000) < 0.9).astype(float),
        "latency_p95": rng.lognormal(6.0, 0.4, 2000),
        "error_rate": (rng.random(2000) < 0.01).astype(float),
        "cost_per_request": rng.uniform(0.001, 0.002, 2000),
    }


@pytest.fixture
def make_events() -> object:
    """The event factory (``make_events(n, accuracy=..., start=...)``)."""
    return _make_events
