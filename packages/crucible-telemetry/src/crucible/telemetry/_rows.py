"""Turn spans (live SDK spans or decoded OTLP spans) into event rows, and rows into Arrow batches."""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from typing import Any, Final, Protocol

import pyarrow as pa

from crucible.core import semconv as sc
from crucible.telemetry._schema import EVALUATION_EVENT, EVENT_COLUMNS, arrow_schema

__all__ = ["Row", "SpanEvent", "is_relevant", "rows_to_arrow", "span_rows"]

#: One row in :data:`EVENT_COLUMNS` order; ``time`` is epoch microseconds and ``attributes`` a
#: mapping (encoded to JSON when the batch is built, off the hot path).
Row = tuple[Any, ...]

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


class SpanEvent(Protocol):
    """What a span event offers (the SDK's ``Event`` and the OTLP importer's decoded events)."""

    @property
    def name(self) -> str: ...

    @property
    def timestamp(self) -> int: ...

    @property
    def attributes(self) -> Mapping[str, Any] | None: ...


def is_relevant(attributes: Mapping[str, Any] | None, events: Sequence[SpanEvent]) -> bool:
    """Whether a span yields rows: it carries GenAI/Crucible attributes or an evaluation event."""
    if attributes:
        for key in attributes:
            if key.startswith(_PREFIXES):
                return True
    return any(e.name == EVALUATION_EVENT for e in events)


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


def span_rows(
    experiment: str | None,
    name: str,
    trace_id: int,
    span_id: int,
    parent_span_id: int | None,
    start_ns: int,
    end_ns: int | None,
    attributes: Mapping[str, Any] | None,
    error_status: bool,
    events: Sequence[SpanEvent] = (),
) -> list[Row]:
    """The rows of one span: one for the span when it has GenAI/Crucible attributes, one per
    ``gen_ai.evaluation.result`` event.

    ``experiment`` falls back to the span's ``crucible.experiment_id`` (then ``""``).
    """
    a: Mapping[str, Any] = attributes or {}
    get = a.get
    exp = experiment if experiment is not None else str(get(sc.CRUCIBLE_EXPERIMENT_ID, ""))
    tid = f"{trace_id:032x}"
    sid = f"{span_id:016x}"
    pid = f"{parent_span_id:016x}" if parent_span_id else None
    condition = _str(get(sc.CRUCIBLE_CONDITION))
    provider = _str(get(sc.GEN_AI_PROVIDER_NAME))
    model = _str(get(sc.GEN_AI_REQUEST_MODEL) or get(sc.GEN_AI_RESPONSE_MODEL))
    item_id = _str(get(sc.CRUCIBLE_ITEM_ID))
    repeat = _int(get(sc.CRUCIBLE_REPEAT))
    rows: list[Row] = []
    own = False
    for key in a:
        if key.startswith(_PREFIXES):
            own = True
            break
    if own:
        latency = _float(get(sc.CRUCIBLE_LATENCY_MS))
        if latency is None and end_ns is not None:
            latency = (end_ns - start_ns) / 1e6
        error_type = _str(get(sc.ERROR_TYPE))
        if error_type is None and error_status:
            error_type = "error"
        extra = {k: v for k, v in a.items() if k not in _MAPPED}
        rows.append(
            (
                start_ns // 1000,
                exp,
                condition,
                tid,
                sid,
                pid,
                name,
                provider,
                model,
                item_id,
                repeat,
                latency,
                _float(get(sc.CRUCIBLE_TTFT_MS)),
                _int(get(sc.GEN_AI_USAGE_INPUT_TOKENS)),
                _int(get(sc.GEN_AI_USAGE_OUTPUT_TOKENS)),
                _int(get(sc.CRUCIBLE_USAGE_CACHED_INPUT_TOKENS)),
                _int(get(sc.CRUCIBLE_USAGE_REASONING_TOKENS)),
                _float(get(sc.CRUCIBLE_COST_USD)),
                error_type is None,
                error_type,
                None,
                None,
                None,
                extra,
            )
        )
    for event in events:
        if event.name != EVALUATION_EVENT:
            continue
        ea: Mapping[str, Any] = event.attributes or {}
        eget = ea.get
        extra = {k: v for k, v in ea.items() if k not in _MAPPED}
        rows.append(
            (
                event.timestamp // 1000,
                str(eget(sc.CRUCIBLE_EXPERIMENT_ID, exp)) if experiment is None else exp,
                _str(eget(sc.CRUCIBLE_CONDITION, condition)),
                tid,
                sid,
                pid,
                EVALUATION_EVENT,
                _str(eget(sc.GEN_AI_PROVIDER_NAME, provider)),
                _str(eget(sc.GEN_AI_REQUEST_MODEL, model)),
                _str(eget(sc.CRUCIBLE_ITEM_ID, item_id)),
                _int(eget(sc.CRUCIBLE_REPEAT, repeat)),
                None,
                None,
                None,
                None,
                None,
                None,
                None,
                None,
                None,
                _str(eget(sc.GEN_AI_EVALUATION_NAME)),
                _float(eget(sc.GEN_AI_EVALUATION_SCORE_VALUE)),
                _str(eget(sc.GEN_AI_EVALUATION_SCORE_LABEL)),
                extra,
            )
        )
    return rows


def _json(value: Any) -> str | None:
    if not value:
        return None
    return json.dumps(dict(value), default=_json_default, separators=(",", ":"), sort_keys=True)


def _json_default(value: Any) -> Any:
    if isinstance(value, tuple | list):
        return list(value)
    if isinstance(value, bytes):
        return value.hex()
    return str(value)


_SCHEMA: Final = arrow_schema()
_ATTR_INDEX: Final = EVENT_COLUMNS.index("attributes")


def rows_to_arrow(rows: Sequence[Row]) -> pa.Table:
    """Build one Arrow table (event schema) from rows, column by column."""
    columns: list[Sequence[Any]] = (
        list(zip(*rows, strict=True)) if rows else [()] * len(EVENT_COLUMNS)
    )
    arrays = []
    for i, field in enumerate(_SCHEMA):
        values: Any = columns[i]
        if i == _ATTR_INDEX:
            values = [_json(v) for v in values]
        arrays.append(pa.array(values, type=field.type))
    return pa.Table.from_arrays(arrays, schema=_SCHEMA)
