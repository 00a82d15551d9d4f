"""Turn spans (live SDK spans or decoded OTLP spans) into Arrow batches of event rows.

The conversion runs once per batch, column by column, so the span-end hot path only queues the
span; see ``benchmarks/bench_capture.py`` for what that buys.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping, Sequence
from typing import Any, Final, Protocol

import polars as pl
import pyarrow as pa
from opentelemetry.trace import StatusCode

from crucible.core import semconv as sc
from crucible.telemetry._schema import EVALUATION_EVENT, EVENT_COLUMNS, EVENT_SCHEMA, arrow_schema

__all__ = ["SpanLike", "spans_to_arrow"]

_PREFIXES: Final = ("gen_ai.", "crucible.")

_MAPPED: Final = frozenset(
    {
        sc.CRUCIBLE_EXPERIMENT_ID,
        sc.CRUCIBLE_CONDITION,
        sc.GEN_AI_PROVIDER_NAME,
        sc.GEN_AI_REQUEST_MODEL,
        sc.CRUCIBLE_ITEM_ID,
        sc.CRUCIBLE_REPEAT,
        sc.CRUCIBLE_LATENCY_MS,
        sc.CRUCIBLE_TTFT_MS,
        sc.GEN_AI_USAGE_INPUT_TOKENS,
        sc.GEN_AI_USAGE_OUTPUT_TOKENS,
        sc.CRUCIBLE_USAGE_CACHED_INPUT_TOKENS,
        sc.CRUCIBLE_USAGE_REASONING_TOKENS,
        sc.CRUCIBLE_COST_USD,
        sc.ERROR_TYPE,
        sc.GEN_AI_EVALUATION_NAME,
        sc.GEN_AI_EVALUATION_SCORE_VALUE,
        sc.GEN_AI_EVALUATION_SCORE_LABEL,
    }
)


class _Context(Protocol):
    @property
    def trace_id(self) -> int: ...

    @property
    def span_id(self) -> int: ...


class _Status(Protocol):
    @property
    def status_code(self) -> StatusCode: ...


class _Event(Protocol):
    @property
    def name(self) -> str: ...

    @property
    def timestamp(self) -> int: ...

    @property
    def attributes(self) -> Mapping[str, Any] | None: ...


class SpanLike(Protocol):
    """What conversion reads from a span: the SDK's ``ReadableSpan`` or a decoded OTLP span."""

    @property
    def name(self) -> str: ...

    @property
    def context(self) -> _Context | None: ...

    @property
    def parent(self) -> _Context | None: ...

    @property
    def start_time(self) -> int | None: ...

    @property
    def end_time(self) -> int | None: ...

    @property
    def attributes(self) -> Mapping[str, Any] | None: ...

    @property
    def status(self) -> _Status: ...

    @property
    def events(self) -> Sequence[_Event]: ...


def _attributes(span: SpanLike) -> Mapping[str, Any]:
    # The SDK wraps ended spans' attributes in a read-only proxy over a locked mapping; reading
    # the plain dict underneath is several times faster and safe once the span has ended.
    inner = getattr(getattr(span, "_attributes", None), "_dict", None)
    if isinstance(inner, dict):
        return inner
    return span.attributes or {}


def _relevant(attributes: Mapping[str, Any]) -> bool:
    # An explicit loop: any() over a generator costs as much again on this per-span path.
    for key in attributes:  # noqa: SIM110
        if key.startswith(_PREFIXES):
            return True
    return False


def _events(span: SpanLike) -> Sequence[_Event]:
    # The SDK's ``events`` property copies its list into a tuple on every access.
    inner = getattr(span, "_events", None)
    return inner if inner is not None else span.events


def _str(value: Any) -> str | None:
    return None if value is None else str(value)


def _int(value: Any) -> int | None:
    if value is None or isinstance(value, bool):
        return None
    try:
        return int(value)
    except (TypeError, ValueError):
        return None


def _float(value: Any) -> float | None:
    if value is None or isinstance(value, bool):
        return None
    try:
        return float(value)
    except (TypeError, ValueError):
        return None


def _json_default(value: Any) -> Any:
    if isinstance(value, tuple | list):
        return list(value)
    if isinstance(value, bytes):
        return value.hex()
    return str(value)


_dumps = json.JSONEncoder(separators=(",", ":"), default=_json_default).encode


def _extra(attributes: Mapping[str, Any]) -> str | None:
    extra = {k: v for k, v in attributes.items() if k not in _MAPPED}
    return _dumps(extra) if extra else None


_SCHEMA: Final = arrow_schema()
_CONVERT: Final[dict[str, Callable[[Any], Any]]] = {
    "repeat": _int,
    "latency_ms": _float,
    "ttft_ms": _float,
    "input_tokens": _int,
    "output_tokens": _int,
    "cached_input_tokens": _int,
    "reasoning_tokens": _int,
    "cost_usd": _float,
    "score": _float,
}


def _series(name: str, values: list[Any], dtype: pl.DataType) -> pl.Series:
    # Built with polars, not pa.array: pyarrow's sequence conversion imports pandas when it is
    # installed, seconds of delay on the first commit.
    if name == "time":
        return pl.Series(name, values, dtype=pl.Int64).cast(dtype)
    try:
        return pl.Series(name, values, dtype=dtype, strict=True)
    except (TypeError, ValueError, OverflowError, pl.exceptions.PolarsError):
        # Attributes come from anywhere: coerce odd values (a string token count) one by one.
        convert: Callable[[Any], Any] = _CONVERT.get(name, _str)
        return pl.Series(name, [convert(v) for v in values], dtype=dtype)


def _table(columns: dict[str, list[Any]], n: int) -> pa.Table:
    series = [
        _series(name, columns[name], dtype)
        if name in columns
        else pl.Series(name, [None] * n, dtype=dtype)
        for name, dtype in EVENT_SCHEMA.items()
    ]
    return pl.DataFrame(series).to_arrow().cast(_SCHEMA)


def spans_to_arrow(batch: Sequence[tuple[str | None, SpanLike]]) -> pa.Table:
    """Event rows of a batch of ``(experiment, span)`` pairs, as one Arrow table.

    A span yields a row when it carries ``gen_ai.*`` or ``crucible.*`` attributes, and one more
    row per ``gen_ai.evaluation.result`` event. An experiment of ``None`` falls back to the
    span's ``crucible.experiment_id`` (then ``""``).
    """
    spans: list[SpanLike] = []
    attrs: list[Mapping[str, Any]] = []
    exps: list[str] = []
    evaluations: list[tuple[str, SpanLike, Mapping[str, Any]]] = []
    for exp, span in batch:
        a = _attributes(span)
        experiment = exp if exp is not None else str(a.get(sc.CRUCIBLE_EXPERIMENT_ID, ""))
        if _events(span):
            evaluations.append((experiment, span, a))
        if _relevant(a):
            spans.append(span)
            attrs.append(a)
            exps.append(experiment)
    n = len(spans)
    error = StatusCode.ERROR
    errors = [
        a.get(sc.ERROR_TYPE) or ("error" if s.status.status_code is error else None)
        for s, a in zip(spans, attrs, strict=True)
    ]
    latency = [a.get(sc.CRUCIBLE_LATENCY_MS) for a in attrs]
    columns: dict[str, list[Any]] = {
        "time": [(s.start_time or 0) // 1000 for s in spans],
        "experiment": exps,
        "condition": [a.get(sc.CRUCIBLE_CONDITION) for a in attrs],
        "trace_id": [f"{s.context.trace_id:032x}" if s.context else None for s in spans],
        "span_id": [f"{s.context.span_id:016x}" if s.context else None for s in spans],
        "parent_span_id": [f"{s.parent.span_id:016x}" if s.parent else None for s in spans],
        "name": [s.name for s in spans],
        "provider": [a.get(sc.GEN_AI_PROVIDER_NAME) for a in attrs],
        "model": [a.get(sc.GEN_AI_REQUEST_MODEL) or a.get(sc.GEN_AI_RESPONSE_MODEL) for a in attrs],
        "item_id": [a.get(sc.CRUCIBLE_ITEM_ID) for a in attrs],
        "repeat": [a.get(sc.CRUCIBLE_REPEAT) for a in attrs],
        "latency_ms": [
            v
            if v is not None
            else ((s.end_time - s.start_time) / 1e6 if s.end_time and s.start_time else None)
            for v, s in zip(latency, spans, strict=True)
        ],
        "ttft_ms": [a.get(sc.CRUCIBLE_TTFT_MS) for a in attrs],
        "input_tokens": [a.get(sc.GEN_AI_USAGE_INPUT_TOKENS) for a in attrs],
        "output_tokens": [a.get(sc.GEN_AI_USAGE_OUTPUT_TOKENS) for a in attrs],
        "cached_input_tokens": [a.get(sc.CRUCIBLE_USAGE_CACHED_INPUT_TOKENS) for a in attrs],
        "reasoning_tokens": [a.get(sc.CRUCIBLE_USAGE_REASONING_TOKENS) for a in attrs],
        "cost_usd": [a.get(sc.CRUCIBLE_COST_USD) for a in attrs],
        "success": [e is None for e in errors],
        "error_type": errors,
        "attributes": [_extra(a) for a in attrs],
    }
    table = _table(columns, n)
    if not evaluations:
        return table
    return pa.concat_tables([table, _evaluation_table(evaluations)])


def _evaluation_table(spans: list[tuple[str, SpanLike, Mapping[str, Any]]]) -> pa.Table:
    rows: list[dict[str, Any]] = []
    for experiment, span, a in spans:
        ctx, parent = span.context, span.parent
        for event in span.events:
            if event.name != EVALUATION_EVENT:
                continue
            ea: Mapping[str, Any] = event.attributes or {}
            rows.append(
                {
                    "time": event.timestamp // 1000,
                    "experiment": experiment,
                    "condition": ea.get(sc.CRUCIBLE_CONDITION, a.get(sc.CRUCIBLE_CONDITION)),
                    "trace_id": f"{ctx.trace_id:032x}" if ctx else None,
                    "span_id": f"{ctx.span_id:016x}" if ctx else None,
                    "parent_span_id": f"{parent.span_id:016x}" if parent else None,
                    "name": EVALUATION_EVENT,
                    "provider": ea.get(sc.GEN_AI_PROVIDER_NAME, a.get(sc.GEN_AI_PROVIDER_NAME)),
                    "model": ea.get(sc.GEN_AI_REQUEST_MODEL)
                    or a.get(sc.GEN_AI_REQUEST_MODEL)
                    or a.get(sc.GEN_AI_RESPONSE_MODEL),
                    "item_id": ea.get(sc.CRUCIBLE_ITEM_ID, a.get(sc.CRUCIBLE_ITEM_ID)),
                    "repeat": ea.get(sc.CRUCIBLE_REPEAT, a.get(sc.CRUCIBLE_REPEAT)),
                    "evaluation": ea.get(sc.GEN_AI_EVALUATION_NAME),
                    "score": ea.get(sc.GEN_AI_EVALUATION_SCORE_VALUE),
                    "score_label": ea.get(sc.GEN_AI_EVALUATION_SCORE_LABEL),
                    "attributes": _extra(ea),
                }
            )
    columns = (
        {name: [r.get(name) for r in rows] for name in EVENT_COLUMNS if name in rows[0]}
        if rows
        else {}
    )
    return _table(columns, len(rows))
