"""Reliability, error breakdown and time series over events (polars expressions only)."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import timedelta
from typing import Any

import polars as pl

from crucible.telemetry._errors import TelemetryError
from crucible.telemetry._source import CALL_KEYS, Source, by_columns, grouped, is_call, lazy_events

__all__ = ["error_breakdown", "reliability", "timeseries"]


def reliability(
    source: Source,
    by: str | Sequence[str] = ("condition", "model"),
    *,
    availability_target: float = 0.99,
    latency_sla_ms: float | None = None,
) -> pl.DataFrame:
    """Availability of each group against an SLA.

    ``availability`` is the share of successful calls; ``meets_availability`` compares it with
    ``availability_target``. With ``latency_sla_ms``, ``within_sla`` is the share of all calls
    that succeeded within that latency (an error or a slow answer both miss the SLA), and
    ``meets_sla`` compares it with the target. ``top_error_type`` is the most frequent error.

    Raises:
        TelemetryError: ``availability_target`` is not in (0, 1] or ``latency_sla_ms`` is not
            positive.
    """
    cols = by_columns(by)
    if not isinstance(availability_target, int | float) or not 0 < availability_target <= 1:
        raise TelemetryError(
            f"`availability_target` must be in (0, 1], e.g. 0.999, got {availability_target!r}"
        )
    if latency_sla_ms is not None and (
        not isinstance(latency_sla_ms, int | float) or not latency_sla_ms > 0
    ):
        raise TelemetryError(f"`latency_sla_ms` must be a positive number, got {latency_sla_ms!r}")
    lf = lazy_events(source, [*cols, *CALL_KEYS, "success", "latency_ms", "error_type"])
    calls = is_call(lf)
    ok = pl.col("success")
    if latency_sla_ms is None:
        within: pl.Expr = pl.lit(None, dtype=pl.Float64)
    else:
        within = (ok & (pl.col("latency_ms") <= latency_sla_ms)).cast(pl.Float64).mean()
    aggs = [
        pl.len().cast(pl.Int64).alias("n_calls"),
        (~ok).sum().cast(pl.Int64).alias("n_errors"),
        ok.cast(pl.Float64).mean().alias("availability"),
        within.alias("within_sla"),
        pl.col("error_type").drop_nulls().mode().sort().first().alias("top_error_type"),
    ]
    out = grouped(calls, cols, aggs).with_columns(
        pl.lit(float(availability_target)).alias("availability_target"),
        (pl.col("availability") >= availability_target).alias("meets_availability"),
        pl.lit(latency_sla_ms, dtype=pl.Float64).alias("latency_sla_ms"),
        (pl.col("within_sla") >= availability_target).alias("meets_sla"),
    )
    order = [
        *cols,
        "n_calls",
        "n_errors",
        "availability",
        "availability_target",
        "meets_availability",
        "latency_sla_ms",
        "within_sla",
        "meets_sla",
        "top_error_type",
    ]
    result = out.select(order).collect()
    if not cols and result["n_calls"][0] == 0:
        return result.clear()
    return result.sort(cols, nulls_last=True) if cols else result


def error_breakdown(
    source: Source, by: str | Sequence[str] = ("condition", "model")
) -> pl.DataFrame:
    """Errors per group and type: ``n_errors``, ``share_of_errors`` and ``share_of_calls``."""
    cols = by_columns(by)
    lf = lazy_events(source, [*cols, *CALL_KEYS, "success", "error_type"])
    calls = is_call(lf)
    totals = grouped(calls, cols, [pl.len().alias("_calls")])
    errors = calls.filter(~pl.col("success")).with_columns(pl.col("error_type").fill_null("error"))
    per_type = errors.group_by([*cols, "error_type"]).agg(pl.len().alias("n_errors"))
    window = pl.col("n_errors").sum().over(cols) if cols else pl.col("n_errors").sum()
    per_type = per_type.with_columns((pl.col("n_errors") / window).alias("share_of_errors"))
    if cols:
        joined = per_type.join(totals, on=cols, how="left", nulls_equal=True)
    else:
        joined = per_type.join(totals, how="cross")
    out = joined.with_columns((pl.col("n_errors") / pl.col("_calls")).alias("share_of_calls"))
    return (
        out.select([*cols, "error_type", "n_errors", "share_of_errors", "share_of_calls"])
        .collect()
        .with_columns(pl.col("n_errors").cast(pl.Int64))
        .sort(
            [*cols, "n_errors", "error_type"],
            descending=[False] * len(cols) + [True, False],
            nulls_last=True,
        )
    )


def timeseries(
    source: Source,
    every: str | timedelta = "1m",
    by: str | Sequence[str] = ("condition",),
) -> pl.DataFrame:
    """Windowed time series of calls: per window (``time`` is its start) and group, ``n_calls``,
    ``error_rate``, ``latency_p50_ms``, ``latency_p95_ms``, ``tokens`` and ``cost_usd``.

    ``every`` is a polars duration string (``"30s"``, ``"5m"``, ``"1h"``) or a timedelta.
    """
    cols = by_columns(by)
    if not isinstance(every, str | timedelta) or not every:
        raise TelemetryError(
            f"`every` must be a duration such as '1m' or a timedelta, got {every!r}"
        )
    lf = lazy_events(
        source,
        [
            *cols,
            *CALL_KEYS,
            "time",
            "success",
            "latency_ms",
            "input_tokens",
            "output_tokens",
            "cost_usd",
        ],
    )
    calls = is_call(lf).sort("time")
    ok = pl.col("success")
    lat = pl.col("latency_ms").filter(ok)
    aggs: list[Any] = [
        pl.len().cast(pl.Int64).alias("n_calls"),
        (1.0 - ok.cast(pl.Float64).mean()).alias("error_rate"),
        lat.quantile(0.5, "linear").alias("latency_p50_ms"),
        lat.quantile(0.95, "linear").alias("latency_p95_ms"),
        (pl.col("input_tokens").fill_null(0) + pl.col("output_tokens").fill_null(0))
        .sum()
        .alias("tokens"),
        pl.col("cost_usd").sum().alias("cost_usd"),
    ]
    try:
        grouped = calls.group_by_dynamic("time", every=every, group_by=cols or None).agg(aggs)
        result = grouped.collect()
    except pl.exceptions.PolarsError as exc:
        raise TelemetryError(f"`every` {every!r} is not a valid duration: {exc}") from exc
    return result.select(
        [
            "time",
            *cols,
            "n_calls",
            "error_rate",
            "latency_p50_ms",
            "latency_p95_ms",
            "tokens",
            "cost_usd",
        ]
    ).sort(["time", *cols], nulls_last=True)
