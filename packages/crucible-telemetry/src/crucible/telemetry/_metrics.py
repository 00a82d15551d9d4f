"""Metrics over captured or imported events, computed by polars expressions (no Python loops)."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import timedelta
from typing import Any

import polars as pl

from crucible.telemetry._errors import TelemetryError
from crucible.telemetry._schema import EVALUATION_EVENT, EVENT_SCHEMA
from crucible.telemetry._store import DuckDBStore, Store

__all__ = ["error_breakdown", "metrics", "reliability", "timeseries"]

Source = Store | pl.DataFrame | pl.LazyFrame

_QUANTILES = (("p50", 0.5), ("p90", 0.9), ("p95", 0.95), ("p99", 0.99))


def _by(by: str | Sequence[str]) -> list[str]:
    cols = [by] if isinstance(by, str) else list(by)
    unknown = [c for c in cols if c not in EVENT_SCHEMA]
    if unknown:
        raise TelemetryError(
            f"`by` has unknown columns {unknown}; group by event columns such as "
            "'experiment', 'condition', 'model', 'provider'"
        )
    return cols


def _lazy(source: Source, columns: Sequence[str]) -> pl.LazyFrame:
    needed = list(dict.fromkeys(columns))
    if isinstance(source, Store):
        return source.frame(needed).lazy()
    if isinstance(source, pl.DataFrame | pl.LazyFrame):
        lf = source.lazy()
        have = lf.collect_schema().names()
        missing = [c for c in needed if c not in have]
        if missing:
            raise TelemetryError(
                f"the events frame lacks columns {missing}; pass a store or a frame with the "
                "event schema (see EVENT_SCHEMA)"
            )
        return lf.select(needed)
    raise TelemetryError(
        f"`source` must be a Store or a polars DataFrame of events, got {type(source).__name__}"
    )


def _grouped(lf: pl.LazyFrame, by: list[str], aggs: list[pl.Expr]) -> pl.LazyFrame:
    if by:
        return lf.group_by(by).agg(aggs)
    return lf.select(aggs)


_CALL_COLUMNS = (
    "name",
    "success",
    "latency_ms",
    "ttft_ms",
    "input_tokens",
    "output_tokens",
    "cached_input_tokens",
    "reasoning_tokens",
    "cost_usd",
)


def metrics(
    source: Source,
    by: str | Sequence[str] = ("condition", "model"),
    *,
    correct_at: float = 0.5,
) -> pl.DataFrame:
    """Per-group call metrics: volume, reliability, latency, tokens, cost and, with scores, accuracy.

    Calls are the non-evaluation rows; latency and TTFT statistics cover successful calls
    (failed calls often end at a timeout, which would say more about the timeout than about
    the model). Quantiles are linear interpolation (numpy's default, Hyndman & Fan type 7).
    Evaluation rows (``gen_ai.evaluation.result``, see :func:`record_score`) take their group
    from their own attributes, else from the call span they were recorded on or under, else
    from the first call of the same ``item_id`` in the same experiment; a score
    ``>= correct_at`` counts as a correct answer, and ``cost_per_correct`` is the group's total
    cost over its correct answers (null when there are none).

    Returns:
        One row per group with a fixed set of columns: the ``by`` columns, ``n_calls``,
        ``n_success``, ``n_errors``, ``success_rate``, ``error_rate``, ``latency_mean_ms``,
        ``latency_p50_ms`` … ``latency_p99_ms``, ``ttft_mean_ms``, ``ttft_p50_ms``, the four token
        totals, ``cost_usd``, ``cost_per_call_usd``, ``n_scored``, ``mean_score``, ``n_correct``,
        ``accuracy``, ``cost_per_correct_usd``.

    Example:
        >>> import polars as pl
        >>> from crucible.telemetry import metrics
        >>> metrics(pl.DataFrame(schema=EVENT_SCHEMA)).height
        0
    """
    cols = _by(by)
    if isinstance(correct_at, bool) or not isinstance(correct_at, int | float):
        raise TelemetryError(f"`correct_at` must be a number, got {correct_at!r}")
    if isinstance(source, DuckDBStore):
        per_call, lf, calls = _duckdb_inputs(source, cols)
    else:
        lf = _lazy(
            source,
            [*cols, *_CALL_COLUMNS, "experiment", "item_id", "span_id", "parent_span_id", "score"],
        )
        calls = lf.filter(pl.col("name") != EVALUATION_EVENT)
        per_call = _call_aggregates(calls, cols)
    per_call = per_call.with_columns(
        (pl.col("cost_usd") / pl.col("n_calls")).alias("cost_per_call_usd")
    )
    scores = _scored(lf, calls, cols)
    return _join(per_call, _score_aggregates(scores, cols, correct_at), cols)


def _call_aggregates(calls: pl.LazyFrame, cols: list[str]) -> pl.LazyFrame:
    ok = pl.col("success")
    lat = pl.col("latency_ms").filter(ok)
    ttft = pl.col("ttft_ms").filter(ok)
    call_aggs = [
        pl.len().cast(pl.Int64).alias("n_calls"),
        ok.sum().cast(pl.Int64).alias("n_success"),
        (~ok).sum().cast(pl.Int64).alias("n_errors"),
        ok.cast(pl.Float64).mean().alias("success_rate"),
        (1.0 - ok.cast(pl.Float64).mean()).alias("error_rate"),
        lat.mean().alias("latency_mean_ms"),
        *[lat.quantile(q, "linear").alias(f"latency_{n}_ms") for n, q in _QUANTILES],
        ttft.mean().alias("ttft_mean_ms"),
        ttft.quantile(0.5, "linear").alias("ttft_p50_ms"),
        pl.col("input_tokens").sum().alias("input_tokens"),
        pl.col("output_tokens").sum().alias("output_tokens"),
        pl.col("cached_input_tokens").sum().alias("cached_input_tokens"),
        pl.col("reasoning_tokens").sum().alias("reasoning_tokens"),
        pl.col("cost_usd").sum().alias("cost_usd"),
    ]
    return _grouped(calls, cols, call_aggs)


def _call_sql(store: DuckDBStore, cols: list[str]) -> str:
    """The same aggregation as :func:`_call_aggregates`, pushed down to DuckDB (quantile_cont is
    the same linear interpolation as polars' ``"linear"``)."""
    group = ", ".join(f'"{c}"' for c in cols)
    ok = "FILTER (WHERE success)"
    quantiles = ", ".join(
        f"quantile_cont(latency_ms, {q}) {ok} AS latency_{n}_ms" for n, q in _QUANTILES
    )
    sums = ", ".join(
        f"coalesce(sum({c}), 0)::BIGINT AS {c}"
        for c in ("input_tokens", "output_tokens", "cached_input_tokens", "reasoning_tokens")
    )
    select = f"{group}, " if cols else ""
    return (
        f"SELECT {select}count(*)::BIGINT AS n_calls, "
        f"count(*) FILTER (WHERE success)::BIGINT AS n_success, "
        f"count(*) FILTER (WHERE NOT success)::BIGINT AS n_errors, "
        f"avg(success::DOUBLE) AS success_rate, 1.0 - avg(success::DOUBLE) AS error_rate, "
        f"avg(latency_ms) {ok} AS latency_mean_ms, {quantiles}, "
        f"avg(ttft_ms) {ok} AS ttft_mean_ms, quantile_cont(ttft_ms, 0.5) {ok} AS ttft_p50_ms, "
        f"{sums}, coalesce(sum(cost_usd), 0.0) AS cost_usd "
        f'FROM "{store.table}" WHERE name <> ?' + (f" GROUP BY {group}" if cols else "")
    )


def _duckdb_inputs(
    store: DuckDBStore, cols: list[str]
) -> tuple[pl.LazyFrame, pl.LazyFrame, pl.LazyFrame]:
    """Call aggregates computed in DuckDB, plus the evaluation rows and the few calls they may
    refer to: only those cross into polars, not a million call rows."""
    per_call = store.sql(_call_sql(store, cols), [EVALUATION_EVENT])
    if not cols and per_call["n_calls"][0] == 0:
        per_call = per_call.with_columns(pl.lit(0.0).alias("cost_usd"))
    per_call = per_call.cast({c: EVENT_SCHEMA[c] for c in cols})
    needed = list(dict.fromkeys([*cols, "experiment", "item_id", "span_id", "parent_span_id"]))
    fields = ", ".join(f'"{c}"' for c in needed)
    t = f'"{store.table}"'
    scores = store.sql(
        f"SELECT {fields}, name, score FROM {t} WHERE name = ? AND score IS NOT NULL",
        [EVALUATION_EVENT],
    )
    if scores.height == 0:
        return per_call.lazy(), scores.lazy(), scores.drop("score").lazy()
    calls = store.sql(
        f"SELECT {fields}, name FROM {t} c WHERE name <> ? AND ("
        f"span_id IN (SELECT span_id FROM {t} WHERE name = ?) OR "
        f"span_id IN (SELECT parent_span_id FROM {t} WHERE name = ?) OR "
        f"(experiment, item_id) IN (SELECT experiment, item_id FROM {t} WHERE name = ?))",
        [EVALUATION_EVENT] * 4,
    )
    return per_call.lazy(), scores.lazy(), calls.lazy()


def _score_aggregates(scores: pl.LazyFrame, cols: list[str], correct_at: float) -> pl.LazyFrame:
    score_aggs = [
        pl.len().cast(pl.Int64).alias("n_scored"),
        pl.col("score").mean().alias("mean_score"),
        (pl.col("score") >= correct_at).sum().cast(pl.Int64).alias("n_correct"),
    ]
    return _grouped(scores, cols, score_aggs)


def _join(per_call: pl.LazyFrame, per_score: pl.LazyFrame, cols: list[str]) -> pl.DataFrame:
    if cols:
        out = per_call.join(per_score, on=cols, how="full", nulls_equal=True, coalesce=True)
    else:
        out = pl.concat([per_call, per_score], how="horizontal")
    out = out.with_columns(
        pl.col("n_calls").fill_null(0),
        pl.col("n_scored").fill_null(0),
        pl.col("n_correct").fill_null(0),
    ).with_columns(
        pl.when(pl.col("n_scored") > 0)
        .then(pl.col("n_correct") / pl.col("n_scored"))
        .otherwise(None)
        .alias("accuracy"),
        pl.when(pl.col("n_correct") > 0)
        .then(pl.col("cost_usd") / pl.col("n_correct"))
        .otherwise(None)
        .alias("cost_per_correct_usd"),
    )
    result = out.collect()
    if cols:
        result = result.sort(cols, nulls_last=True)
    if not cols and result["n_calls"][0] == 0 and result["n_scored"][0] == 0:
        return result.clear()
    return result


def _scored(lf: pl.LazyFrame, calls: pl.LazyFrame, cols: list[str]) -> pl.LazyFrame:
    scores = lf.filter((pl.col("name") == EVALUATION_EVENT) & pl.col("score").is_not_null())
    fill = [c for c in cols if c != "experiment"]
    if not fill:
        return scores
    lookup = calls.select(["span_id", *fill]).unique("span_id", keep="first")
    own = lookup.rename({c: f"{c}__own" for c in fill})
    parent = lookup.rename({"span_id": "parent_span_id", **{c: f"{c}__parent" for c in fill}})
    item_keys = ["experiment", "item_id"]
    same_item = [c for c in fill if c not in item_keys]
    item = (
        calls.filter(pl.col("item_id").is_not_null())
        .select([*item_keys, *same_item])
        .unique(item_keys, keep="first")
        .rename({c: f"{c}__item" for c in same_item})
    )
    return (
        scores.join(own, on="span_id", how="left")
        .join(parent, on="parent_span_id", how="left")
        .join(item, on=item_keys, how="left")
        .with_columns(
            [
                pl.coalesce(
                    c,
                    f"{c}__own",
                    f"{c}__parent",
                    *([f"{c}__item"] if c in same_item else []),
                ).alias(c)
                for c in fill
            ]
        )
    )


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
    cols = _by(by)
    if not isinstance(availability_target, int | float) or not 0 < availability_target <= 1:
        raise TelemetryError(
            f"`availability_target` must be in (0, 1], e.g. 0.999, got {availability_target!r}"
        )
    if latency_sla_ms is not None and (
        not isinstance(latency_sla_ms, int | float) or not latency_sla_ms > 0
    ):
        raise TelemetryError(f"`latency_sla_ms` must be a positive number, got {latency_sla_ms!r}")
    lf = _lazy(source, [*cols, "name", "success", "latency_ms", "error_type"])
    calls = lf.filter(pl.col("name") != EVALUATION_EVENT)
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
    out = _grouped(calls, cols, aggs).with_columns(
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
    cols = _by(by)
    lf = _lazy(source, [*cols, "name", "success", "error_type"])
    calls = lf.filter(pl.col("name") != EVALUATION_EVENT)
    totals = _grouped(calls, cols, [pl.len().alias("_calls")])
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
    cols = _by(by)
    if not isinstance(every, str | timedelta) or not every:
        raise TelemetryError(
            f"`every` must be a duration such as '1m' or a timedelta, got {every!r}"
        )
    lf = _lazy(
        source,
        [
            *cols,
            "time",
            "name",
            "success",
            "latency_ms",
            "input_tokens",
            "output_tokens",
            "cost_usd",
        ],
    )
    calls = lf.filter(pl.col("name") != EVALUATION_EVENT).sort("time")
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
