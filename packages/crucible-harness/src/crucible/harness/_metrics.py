"""The metrics of a run: which columns, binary or continuous, and their items x repeats matrices."""

from __future__ import annotations

from collections.abc import Sequence
from enum import StrEnum

import attrs
import numpy as np
import polars as pl

__all__ = [
    "Metric",
    "MetricKind",
    "item_matrix",
    "item_means",
    "metric_values",
    "metrics_of",
    "with_metric_columns",
]


class MetricKind(StrEnum):
    """Binary metrics (0/1 scores) get proportion methods; continuous ones mean methods."""

    BINARY = "binary"
    CONTINUOUS = "continuous"


@attrs.frozen
class Metric:
    """One analysed quantity.

    Attributes:
        name: the name reports and hypotheses use (``accuracy`` is the first scorer).
        column: the trials column holding it.
        kind: binary or continuous.
        higher_is_better: direction for Pareto fronts and wording.
        unit: a unit for display (``ms``, ``USD``, ``tokens`` or empty).
        errors_count_as_zero: a trial that errored scores 0 (a failed call is not a right
            answer); latency, cost and tokens of errored trials are missing instead.
    """

    name: str
    column: str
    kind: MetricKind
    higher_is_better: bool
    unit: str = ""
    errors_count_as_zero: bool = False


def _is_binary(values: pl.Series) -> bool:
    present = values.drop_nulls()
    return present.len() > 0 and bool(present.is_in([0.0, 1.0]).all())


def with_metric_columns(trials: pl.DataFrame) -> pl.DataFrame:
    """The trials with a ``tokens`` column (input + output + reasoning)."""
    return trials.with_columns(
        pl.when(pl.col("error_type").is_null() | pl.col("prediction").is_not_null())
        .then(pl.col("input_tokens") + pl.col("output_tokens") + pl.col("reasoning_tokens"))
        .otherwise(None)
        .cast(pl.Float64)
        .alias("tokens")
    )


def metrics_of(trials: pl.DataFrame, scorers: Sequence[str]) -> list[Metric]:
    """Every scorer (the first binary one named ``accuracy``), latency, cost and tokens."""
    found: list[Metric] = []
    named = False
    for scorer in scorers:
        column = f"score_{scorer}"
        kind = MetricKind.BINARY if _is_binary(trials[column]) else MetricKind.CONTINUOUS
        name = scorer
        if kind is MetricKind.BINARY and not named:
            name, named = "accuracy", True
        found.append(Metric(name, column, kind, True, "", errors_count_as_zero=True))
    found.append(Metric("latency_ms", "latency_ms", MetricKind.CONTINUOUS, False, "ms"))
    if trials["cost_usd"].drop_nulls().len() > 0:
        found.append(Metric("cost_usd", "cost_usd", MetricKind.CONTINUOUS, False, "USD"))
    found.append(Metric("tokens", "tokens", MetricKind.CONTINUOUS, False, "tokens"))
    return found


def metric_values(trials: pl.DataFrame, metric: Metric) -> pl.Expr:
    """The metric's per-trial values (errored trials score 0 for scores)."""
    expr = pl.col(metric.column).cast(pl.Float64)
    return expr.fill_null(0.0) if metric.errors_count_as_zero else expr


def item_matrix(
    trials: pl.DataFrame, metric: Metric, condition: str, items: Sequence[str]
) -> np.ndarray:
    """``items`` x repeats values of ``metric`` under ``condition`` (NaN where missing)."""
    part = trials.filter(pl.col("condition") == condition).select(
        "item_id", "repeat", metric_values(trials, metric).alias("value")
    )
    repeats = sorted(set(part["repeat"].to_list())) or [0]
    index = {item: i for i, item in enumerate(items)}
    col = {r: j for j, r in enumerate(repeats)}
    out = np.full((len(items), len(repeats)), np.nan)
    for item, rep, value in part.iter_rows():
        if item in index and value is not None:
            out[index[item], col[rep]] = value
    return out


def item_means(
    trials: pl.DataFrame, metric: Metric, condition: str, items: Sequence[str]
) -> np.ndarray:
    """Per-item means over repeats (NaN for items with no value)."""
    matrix = item_matrix(trials, metric, condition, items)
    counts = np.sum(~np.isnan(matrix), axis=1)
    sums = np.nansum(matrix, axis=1)
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(counts > 0, sums / np.maximum(counts, 1), np.nan)
