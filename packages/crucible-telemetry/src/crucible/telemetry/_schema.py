"""The one event schema every store, import and export speaks.

Each captured span carrying ``gen_ai.*`` or ``crucible.*`` attributes becomes one row; each
``gen_ai.evaluation.result`` span event becomes one more row named ``gen_ai.evaluation.result``.
Metrics count as model calls the rows that name a model or a provider; other span rows (a
harness trial, an ensemble) are kept as context.

========================  ===================  ==============================================
column                    type                 meaning
========================  ===================  ==============================================
time                      datetime[us, UTC]    span start (event time for evaluation rows)
experiment                str                  experiment the row was captured for
condition                 str | null           ``crucible.condition``
trace_id                  str | null           32 hex digits
span_id                   str | null           16 hex digits
parent_span_id            str | null           16 hex digits, null for a root span
name                      str                  span name (``chat gpt-4o``) or event name
provider                  str | null           ``gen_ai.provider.name``
model                     str | null           ``gen_ai.request.model`` (else response model)
item_id                   str | null           ``crucible.item_id``
repeat                    int64 | null         ``crucible.repeat``
latency_ms                float64 | null       ``crucible.latency_ms``, else span duration
ttft_ms                   float64 | null       time to first token
input_tokens              int64 | null         ``gen_ai.usage.input_tokens``
output_tokens             int64 | null         ``gen_ai.usage.output_tokens``
cached_input_tokens       int64 | null         ``crucible.usage.cached_input_tokens``
reasoning_tokens          int64 | null         ``crucible.usage.reasoning_tokens``
cost_usd                  float64 | null       ``crucible.cost_usd``
success                   bool | null          false when ``error.type`` is set or status is ERROR
error_type                str | null           ``error.type``
evaluation                str | null           ``gen_ai.evaluation.name`` (evaluation rows)
score                     float64 | null       ``gen_ai.evaluation.score.value``
score_label               str | null           ``gen_ai.evaluation.score.label``
attributes                str | null           every other attribute, as a JSON object
========================  ===================  ==============================================
"""

from __future__ import annotations

from typing import Final

import polars as pl
import pyarrow as pa

__all__ = ["EVALUATION_EVENT", "EVENT_COLUMNS", "EVENT_SCHEMA", "arrow_schema", "empty_events"]

#: The name of evaluation rows (and of the span events they come from).
EVALUATION_EVENT: Final = "gen_ai.evaluation.result"

EVENT_SCHEMA: Final[dict[str, pl.DataType]] = {
    "time": pl.Datetime("us", "UTC"),
    "experiment": pl.String(),
    "condition": pl.String(),
    "trace_id": pl.String(),
    "span_id": pl.String(),
    "parent_span_id": pl.String(),
    "name": pl.String(),
    "provider": pl.String(),
    "model": pl.String(),
    "item_id": pl.String(),
    "repeat": pl.Int64(),
    "latency_ms": pl.Float64(),
    "ttft_ms": pl.Float64(),
    "input_tokens": pl.Int64(),
    "output_tokens": pl.Int64(),
    "cached_input_tokens": pl.Int64(),
    "reasoning_tokens": pl.Int64(),
    "cost_usd": pl.Float64(),
    "success": pl.Boolean(),
    "error_type": pl.String(),
    "evaluation": pl.String(),
    "score": pl.Float64(),
    "score_label": pl.String(),
    "attributes": pl.String(),
}

EVENT_COLUMNS: Final[tuple[str, ...]] = tuple(EVENT_SCHEMA)

_ARROW_TYPES: Final[dict[str, pa.DataType]] = {
    "time": pa.timestamp("us", tz="UTC"),
    "repeat": pa.int64(),
    "latency_ms": pa.float64(),
    "ttft_ms": pa.float64(),
    "input_tokens": pa.int64(),
    "output_tokens": pa.int64(),
    "cached_input_tokens": pa.int64(),
    "reasoning_tokens": pa.int64(),
    "cost_usd": pa.float64(),
    "success": pa.bool_(),
    "score": pa.float64(),
}


def arrow_schema() -> pa.Schema:
    """The event schema as an Arrow schema (strings for every column not listed as typed)."""
    return pa.schema([(c, _ARROW_TYPES.get(c, pa.string())) for c in EVENT_COLUMNS])


def empty_events() -> pl.DataFrame:
    """An empty frame with the event schema."""
    return pl.DataFrame(schema=EVENT_SCHEMA)
