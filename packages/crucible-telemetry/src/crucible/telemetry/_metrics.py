"""Per-group call metrics over captured or imported events (polars, or DuckDB for DuckDB stores)."""

from __future__ import annotations

from collections.abc import Sequence

import polars as pl

from crucible.telemetry._errors import TelemetryError
from crucible.telemetry._schema import EVALUATION_EVENT, EVENT_SCHEMA
from crucible.telemetry._source import CALL_KEYS, Source, by_columns, grouped, is_call, lazy_events
from crucible.telemetry._store import DuckDBStore

__all__ = ["metrics"]

_QUANTILES = (("p50", 0.5), ("p90", 0.9), ("p95", 0.95), ("p99", 0.99))


_LINK_COLUMNS = ("experiment", "condition", "item_id", "span_id", "parent_span_id")
_CALL_COLUMNS = (
    *CALL_KEYS,
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

    Calls are the rows that name a model or a provider (spans that only group calls, such as a
    harness trial or an ensemble span, are context); latency and TTFT statistics cover successful calls
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
        >>> from crucible.telemetry import empty_events, metrics
        >>> metrics(empty_events()).height
        0
    """
    cols = by_columns(by)
    if isinstance(correct_at, bool) or not isinstance(correct_at, int | float):
        raise TelemetryError(f"`correct_at` must be a number, got {correct_at!r}")
    if isinstance(source, DuckDBStore):
        per_call, lf, calls = _duckdb_inputs(source, cols)
    else:
        lf = lazy_events(source, [*cols, *_CALL_COLUMNS, *_LINK_COLUMNS, "score"])
        calls = is_call(lf)
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
    return grouped(calls, cols, call_aggs)


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
        f'FROM "{store.table}" WHERE name <> ? AND (model IS NOT NULL OR provider IS NOT NULL)'
        + (f" GROUP BY {group}" if cols else "")
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
    needed = list(dict.fromkeys([*cols, *_LINK_COLUMNS, "model", "provider"]))
    fields = ", ".join(f'"{c}"' for c in needed)
    t = f'"{store.table}"'
    scores = store.sql(
        f"SELECT {fields}, name, score FROM {t} WHERE name = ? AND score IS NOT NULL",
        [EVALUATION_EVENT],
    )
    if scores.height == 0:
        return per_call.lazy(), scores.lazy(), scores.drop("score").lazy()
    calls = store.sql(
        f"SELECT {fields}, name FROM {t} WHERE name <> ? AND ("
        f"span_id IN (SELECT span_id FROM {t} WHERE name = ?) OR "
        f"parent_span_id IN (SELECT span_id FROM {t} WHERE name = ?) OR "
        f"span_id IN (SELECT parent_span_id FROM {t} WHERE name = ?) OR "
        f"(experiment, item_id) IN (SELECT experiment, item_id FROM {t} WHERE name = ?))",
        [EVALUATION_EVENT] * 5,
    )
    return per_call.lazy(), scores.lazy(), calls.lazy()


def _score_aggregates(scores: pl.LazyFrame, cols: list[str], correct_at: float) -> pl.LazyFrame:
    score_aggs = [
        pl.len().cast(pl.Int64).alias("n_scored"),
        pl.col("score").mean().alias("mean_score"),
        (pl.col("score") >= correct_at).sum().cast(pl.Int64).alias("n_correct"),
    ]
    return grouped(scores, cols, score_aggs)


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
    """Evaluation rows with their group columns filled from the call they score: the call span
    they sit on, else the call under the span they sit on (a trial span), else the call above
    the carrier span they sit on, else the first call of the same item and condition, else of
    the same item."""
    scores = lf.filter((pl.col("name") == EVALUATION_EVENT) & pl.col("score").is_not_null())
    fill = [c for c in cols if c != "experiment"]
    if not fill:
        return scores
    calls = is_call(calls)
    same_condition = ["experiment", "item_id", "condition"]
    same_item = ["experiment", "item_id"]
    sources: list[tuple[str, list[str], list[str], list[str]]] = [
        ("own", ["span_id"], ["span_id"], fill),
        ("child", ["span_id"], ["parent_span_id"], fill),
        ("parent", ["parent_span_id"], ["span_id"], fill),
        ("cond", same_condition, same_condition, [c for c in fill if c not in same_condition]),
        ("item", same_item, same_item, [c for c in fill if c not in same_item]),
    ]
    out = scores
    for tag, left, right, filled in sources:
        if not filled:
            continue
        lookup = (
            calls.filter(
                pl.all_horizontal(pl.col(k).is_not_null() for k in right if k != "condition")
            )
            .select([*right, *filled])
            .unique(right, keep="first", maintain_order=True)
            .rename({c: f"{c}__{tag}" for c in filled})
        )
        out = out.join(lookup, left_on=left, right_on=right, how="left")
    return out.with_columns(
        [
            pl.coalesce(
                c,
                *[f"{c}__{tag}" for tag, _, _, filled in sources if c in filled],
            ).alias(c)
            for c in fill
        ]
    )
