"""Failure analysis, ensemble consensus and cost-benefit tables of a run."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import polars as pl

from crucible.harness._metrics import Metric, metric_values

__all__ = [
    "consensus_table",
    "cost_benefit",
    "disagreements",
    "errors_by_condition",
    "pareto",
    "with_votes",
]


def item_scores(trials: pl.DataFrame, metric: Metric) -> pl.DataFrame:
    """One row per item, one column per condition: the item's mean score over repeats."""
    long = (
        trials.select("condition", "item_id", metric_values(trials, metric).alias("v"))
        .group_by("item_id", "condition")
        .agg(pl.col("v").mean())
    )
    return long.pivot(on="condition", index="item_id", values="v").sort("item_id")


def disagreements(
    trials: pl.DataFrame,
    metric: Metric,
    conditions: Sequence[str],
    items: Mapping[str, Mapping[str, object]],
    cluster_field: str | None,
) -> pl.DataFrame:
    """Items whose mean score differs between conditions, with each condition's score and its
    first-repeat prediction."""
    wide = item_scores(trials, metric)
    present = [c for c in conditions if c in wide.columns]
    if len(present) < 2:
        return pl.DataFrame({"item_id": pl.Series([], dtype=pl.String)})
    spread = pl.max_horizontal(present) - pl.min_horizontal(present)
    out = wide.filter(spread > 0)
    first = trials.filter(pl.col("repeat") == trials["repeat"].min()).select(
        "item_id", "condition", "prediction"
    )
    preds = first.pivot(on="condition", index="item_id", values="prediction")
    preds = preds.rename({c: f"{c} answer" for c in preds.columns if c != "item_id"})
    out = out.join(preds, on="item_id", how="left")
    expected = [str(items.get(i, {}).get("expected")) for i in out["item_id"].to_list()]
    out = out.with_columns(pl.Series("expected", expected, dtype=pl.String))
    if cluster_field:
        labels = [str(items.get(i, {}).get(cluster_field)) for i in out["item_id"].to_list()]
        out = out.with_columns(pl.Series(cluster_field, labels, dtype=pl.String))
    return out


def errors_by_condition(trials: pl.DataFrame) -> pl.DataFrame:
    """Count of errored trials per condition and error type."""
    return (
        trials.filter(pl.col("error_type").is_not_null())
        .group_by("condition", "error_type")
        .agg(pl.len().alias("trials"))
        .sort("condition", "trials", descending=[False, True])
    )


def failures_by_cluster(
    trials: pl.DataFrame,
    metric: Metric,
    items: Mapping[str, Mapping[str, object]],
    cluster_field: str,
) -> pl.DataFrame:
    """Per condition and cluster: trials and the share scored wrong."""
    labels = {i: str(f.get(cluster_field)) for i, f in items.items()}
    return (
        trials.select(
            "condition",
            pl.col("item_id").replace_strict(labels, default="?").alias(cluster_field),
            (1.0 - metric_values(trials, metric)).alias("wrong"),
        )
        .group_by("condition", cluster_field)
        .agg(pl.len().alias("trials"), pl.col("wrong").sum().alias("failures"))
        .with_columns((pl.col("failures") / pl.col("trials")).alias("failure_rate"))
        .sort("condition", cluster_field)
    )


def consensus_table(
    trials: pl.DataFrame, consensus: pl.DataFrame, metric: Metric | None
) -> pl.DataFrame:
    """Per condition with votes and agreement level: trials, share and accuracy."""
    if consensus.is_empty():
        return pl.DataFrame()
    score = metric_values(trials, metric).alias("correct") if metric is not None else pl.lit(None)
    joined = consensus.join(
        trials.select("condition", "item_id", "repeat", score),
        on=["condition", "item_id", "repeat"],
        how="inner",
    ).with_columns(
        (pl.col("agreement") * pl.col("members")).round(0).cast(pl.Int64).alias("agreeing")
    )
    table = (
        joined.group_by("condition", "agreeing", "members")
        .agg(
            pl.len().alias("trials"),
            pl.col("correct").mean().alias("accuracy"),
            pl.col("agreement").first(),
        )
        .with_columns(
            (pl.col("trials") / pl.col("trials").sum().over("condition")).alias("share"),
            (pl.col("agreeing").cast(pl.String) + "/" + pl.col("members").cast(pl.String)).alias(
                "level"
            ),
        )
        .sort("condition", "agreement", descending=[False, True])
    )
    return table.select("condition", "level", "agreement", "trials", "share", "accuracy")


def cost_benefit(
    trials: pl.DataFrame, accuracy: Metric | None, conditions: Sequence[str]
) -> pl.DataFrame:
    """Per condition: accuracy, cost per query and per correct answer, errors per 1000,
    latency percentiles, and whether it is on the accuracy-cost-latency Pareto front."""
    acc = metric_values(trials, accuracy) if accuracy is not None else pl.lit(None)
    table = (
        trials.group_by("condition")
        .agg(
            pl.len().alias("trials"),
            acc.mean().alias("accuracy"),
            acc.sum().alias("correct"),
            pl.col("cost_usd").mean().alias("cost_per_query"),
            pl.col("cost_usd").sum().alias("total_cost"),
            pl.col("latency_ms").median().alias("latency_p50_ms"),
            pl.col("latency_ms").quantile(0.95, "linear").alias("latency_p95_ms"),
        )
        .with_columns(
            (pl.col("total_cost") / pl.col("correct")).alias("cost_per_correct"),
            ((1.0 - pl.col("accuracy")) * 1000.0).alias("errors_per_1000"),
        )
    )
    order = {c: i for i, c in enumerate(conditions)}
    table = table.sort(pl.col("condition").replace_strict(order, default=len(order)))
    front = pareto(table)
    return table.with_columns(pl.Series("pareto", front, dtype=pl.Boolean))


def pareto(table: pl.DataFrame) -> list[bool]:
    """Whether each row is Pareto-optimal: no other row has accuracy at least as high, cost and
    p50 latency at least as low, and is strictly better on one of them."""
    rows = [
        (
            -(r["accuracy"] if r["accuracy"] is not None else 0.0),
            r["cost_per_query"] if r["cost_per_query"] is not None else 0.0,
            r["latency_p50_ms"] if r["latency_p50_ms"] is not None else 0.0,
        )
        for r in table.iter_rows(named=True)
    ]
    front = []
    for i, ri in enumerate(rows):
        dominated = any(
            all(x <= y for x, y in zip(rj, ri, strict=True)) and rj != ri
            for j, rj in enumerate(rows)
            if j != i
        )
        front.append(not dominated)
    return front


def with_votes(per_item: pl.DataFrame, consensus: pl.DataFrame) -> pl.DataFrame:
    """``per_item`` with a ``<condition> votes`` column (``agreeing/members`` on the first
    repeat) for every condition that reported votes."""
    if consensus.is_empty() or per_item.is_empty():
        return per_item
    first = consensus.filter(pl.col("repeat") == consensus["repeat"].min()).with_columns(
        (
            (pl.col("agreement") * pl.col("members")).round(0).cast(pl.Int64).cast(pl.String)
            + "/"
            + pl.col("members").cast(pl.String)
        ).alias("level")
    )
    votes = first.pivot(on="condition", index="item_id", values="level")
    votes = votes.rename({c: f"{c} votes" for c in votes.columns if c != "item_id"})
    return per_item.join(votes, on="item_id", how="left")
