"""What metrics read: a store or a polars frame of events, and how to group it."""

from __future__ import annotations

from collections.abc import Sequence

import polars as pl

from crucible.telemetry._errors import TelemetryError
from crucible.telemetry._schema import EVALUATION_EVENT, EVENT_SCHEMA
from crucible.telemetry._store import Store

__all__ = ["CALL_KEYS", "Source", "by_columns", "grouped", "is_call", "lazy_events"]

#: Columns :func:`is_call` reads.
CALL_KEYS = ("name", "model", "provider")

Source = Store | pl.DataFrame | pl.LazyFrame


def by_columns(by: str | Sequence[str]) -> list[str]:
    cols = [by] if isinstance(by, str) else list(by)
    unknown = [c for c in cols if c not in EVENT_SCHEMA]
    if unknown:
        raise TelemetryError(
            f"`by` has unknown columns {unknown}; group by event columns such as "
            "'experiment', 'condition', 'model', 'provider'"
        )
    return cols


def lazy_events(source: Source, columns: Sequence[str]) -> pl.LazyFrame:
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


def grouped(lf: pl.LazyFrame, by: list[str], aggs: list[pl.Expr]) -> pl.LazyFrame:
    if by:
        return lf.group_by(by).agg(aggs)
    return lf.select(aggs)


def is_call(lf: pl.LazyFrame) -> pl.LazyFrame:
    """Only model-call rows: not evaluations, and naming a model or a provider (a span that
    only groups calls, such as a trial or an ensemble span, is context, not a call)."""
    return lf.filter(
        (pl.col("name") != EVALUATION_EVENT)
        & (pl.col("model").is_not_null() | pl.col("provider").is_not_null())
    )
