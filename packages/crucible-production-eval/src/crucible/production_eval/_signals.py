"""LLM signals as monitored metrics: how each is read from an event row and how it is tested.

Every metric maps one production event (a row of crucible-telemetry's event schema) to one
number, or to null when the event does not carry it (an evaluation row has a score but no
latency). Its kind picks the window test: proportions by a two-proportion z test, means by
Welch's t test, quantiles by a bootstrap interval of the quantile difference.
"""

from __future__ import annotations

from enum import StrEnum

import attrs
import polars as pl

from crucible.production_eval._errors import ProductionEvalError

__all__ = ["METRICS", "MetricKind", "Signal", "get_signal", "signal_values"]


class MetricKind(StrEnum):
    PROPORTION = "proportion"
    MEAN = "mean"
    QUANTILE = "quantile"


@attrs.frozen
class Signal:
    """A monitored metric.

    Attributes:
        name: the metric's name (``"error_rate"``, ``"latency_p95"``).
        kind: :class:`MetricKind`, which decides the window test.
        column: the per-event value column it is computed from.
        higher_is_worse: the direction of a degradation.
        quantile: for quantile metrics, the quantile monitored.
    """

    name: str
    kind: MetricKind
    column: str
    higher_is_worse: bool
    quantile: float = 0.5


def _attr(key: str) -> pl.Expr:
    return pl.col("attributes").str.json_path_match(f"$['{key}']")


#: Per-event value expressions over the event schema, keyed by value column.
VALUE_EXPRESSIONS: dict[str, pl.Expr] = {
    "score": pl.col("score"),
    "error": pl.when(pl.col("success").is_null())
    .then(None)
    .otherwise((~pl.col("success")).cast(pl.Float64)),
    "refusal": _attr("crucible.refusal").replace_strict(
        {"true": 1.0, "false": 0.0, "1": 1.0, "0": 0.0}, default=None, return_dtype=pl.Float64
    ),
    "guard_detection": (_attr("crucible.guard.detections").cast(pl.Float64, strict=False) > 0).cast(
        pl.Float64
    ),
    "latency_ms": pl.col("latency_ms"),
    "cost_usd": pl.col("cost_usd"),
    "output_tokens": pl.col("output_tokens").cast(pl.Float64),
    "input_tokens": pl.col("input_tokens").cast(pl.Float64),
}

METRICS: dict[str, Signal] = {
    "score": Signal("score", MetricKind.MEAN, "score", higher_is_worse=False),
    "pass_rate": Signal("pass_rate", MetricKind.PROPORTION, "score", higher_is_worse=False),
    "error_rate": Signal("error_rate", MetricKind.PROPORTION, "error", higher_is_worse=True),
    "refusal_rate": Signal("refusal_rate", MetricKind.PROPORTION, "refusal", higher_is_worse=True),
    "guard_detection_rate": Signal(
        "guard_detection_rate", MetricKind.PROPORTION, "guard_detection", higher_is_worse=True
    ),
    "latency_mean": Signal("latency_mean", MetricKind.MEAN, "latency_ms", higher_is_worse=True),
    "latency_p50": Signal("latency_p50", MetricKind.QUANTILE, "latency_ms", True, 0.5),
    "latency_p95": Signal("latency_p95", MetricKind.QUANTILE, "latency_ms", True, 0.95),
    "latency_p99": Signal("latency_p99", MetricKind.QUANTILE, "latency_ms", True, 0.99),
    "cost_per_request": Signal("cost_per_request", MetricKind.MEAN, "cost_usd", True),
    "output_length": Signal("output_length", MetricKind.MEAN, "output_tokens", True),
    "input_length": Signal("input_length", MetricKind.MEAN, "input_tokens", True),
}


def get_signal(name: str) -> Signal:
    """The :class:`Signal` called ``name``; raises naming the known metrics otherwise."""
    try:
        return METRICS[name]
    except KeyError:
        raise ProductionEvalError(
            f"unknown metric {name!r}; use one of {', '.join(sorted(METRICS))}"
        ) from None


def signal_values(events: pl.DataFrame) -> pl.DataFrame:
    """The per-event value columns of ``events`` (missing event columns read as null)."""
    frame = events
    for col, dtype in (
        ("score", pl.Float64),
        ("success", pl.Boolean),
        ("attributes", pl.String),
        ("latency_ms", pl.Float64),
        ("cost_usd", pl.Float64),
        ("output_tokens", pl.Int64),
        ("input_tokens", pl.Int64),
    ):
        if col not in frame.columns:
            frame = frame.with_columns(pl.lit(None, dtype=dtype).alias(col))
    return frame.select([expr.alias(name) for name, expr in VALUE_EXPRESSIONS.items()])
