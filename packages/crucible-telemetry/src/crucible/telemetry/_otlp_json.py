"""Import OTLP JSON files as written by the OpenTelemetry Collector's file exporter."""

from __future__ import annotations

import base64
import json
import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import attrs
import polars as pl
from opentelemetry.trace import StatusCode

from crucible.telemetry._errors import ImportSchemaError, TelemetryError
from crucible.telemetry._rows import SpanLike, spans_to_arrow

__all__ = ["import_otlp_json"]

_STATUS_ERROR = (2, "STATUS_CODE_ERROR")


@attrs.frozen
class _Event:
    name: str
    timestamp: int
    attributes: dict[str, Any]


@attrs.frozen
class _Context:
    trace_id: int
    span_id: int


@attrs.frozen
class _Status:
    status_code: StatusCode


@attrs.frozen
class _Span:
    """A decoded OTLP span, read by :func:`spans_to_arrow` like an SDK ``ReadableSpan``."""

    name: str
    context: _Context
    parent: _Context | None
    start_time: int
    end_time: int | None
    attributes: dict[str, Any]
    status: _Status
    events: list[_Event]


def _any_value(value: Any) -> Any:
    """Decode an OTLP ``AnyValue`` (``{"stringValue": "x"}``, ``{"intValue": "3"}``, ...)."""
    if not isinstance(value, dict) or not value:
        return None
    kind, inner = next(iter(value.items()))
    if kind == "stringValue":
        return str(inner)
    if kind == "boolValue":
        return bool(inner)
    if kind == "intValue":
        return int(inner)  # int64 is a JSON string in OTLP/JSON
    if kind == "doubleValue":
        return float(inner)
    if kind == "bytesValue":
        return base64.b64decode(inner).hex()
    if kind == "arrayValue":
        return [_any_value(v) for v in (inner or {}).get("values", [])]
    if kind == "kvlistValue":
        return {kv["key"]: _any_value(kv.get("value")) for kv in (inner or {}).get("values", [])}
    raise ValueError(f"unknown AnyValue kind {kind!r}")


def _attributes(items: Any) -> dict[str, Any]:
    return {kv["key"]: _any_value(kv.get("value")) for kv in items or []}


def _span_id(value: Any, size: int) -> int:
    if not value:
        return 0
    text = str(value)
    if len(text) == size * 2:
        return int(text, 16)
    # Some exporters write ids base64-encoded (protobuf JSON mapping); accept both.
    return int.from_bytes(base64.b64decode(text), "big")


def _documents(p: Path) -> Iterator[tuple[int, Any]]:
    text = p.read_text(encoding="utf-8")
    stripped = text.strip()
    if not stripped:
        return
    try:
        yield 1, json.loads(stripped)
        return
    except json.JSONDecodeError:
        pass
    for number, line in enumerate(text.splitlines(), start=1):
        if not line.strip():
            continue
        try:
            yield number, json.loads(line)
        except json.JSONDecodeError as exc:
            raise ImportSchemaError(
                f"{p}:{number}:{exc.colno}: invalid JSON ({exc.msg}); the file must hold OTLP "
                "JSON, one ExportTraceServiceRequest per line"
            ) from None


def import_otlp_json(
    path: str | os.PathLike[str], *, experiment: str | None = None
) -> pl.DataFrame:
    """Read an OTLP JSON trace file (``resourceSpans → scopeSpans → spans``) into events.

    Accepts what the OpenTelemetry Collector's ``file`` exporter writes (one JSON object per
    line) and a single OTLP JSON document. Attributes are typed ``AnyValue`` objects; ``intValue``
    may be a string, ids are hex (base64 is accepted too). Spans become rows exactly as live
    spans do under :func:`capture`.

    Args:
        experiment: the experiment of every row (default: each span's ``crucible.experiment_id``,
            else the file's stem).

    Raises:
        ImportSchemaError: malformed JSON or spans; the message names the file, line and field.
    """
    p = Path(path)
    if not p.is_file():
        raise TelemetryError(f"`path` {str(p)!r} is not a file; check the path")
    batch: list[tuple[str | None, SpanLike]] = []
    for number, doc in _documents(p):
        if not isinstance(doc, dict) or "resourceSpans" not in doc:
            raise ImportSchemaError(
                f"{p}:{number}: expected an object with `resourceSpans` (OTLP JSON traces), got "
                f"{str(doc)[:60]!r}"
            )
        for r_index, resource_spans in enumerate(doc["resourceSpans"] or []):
            scopes = resource_spans.get("scopeSpans") or resource_spans.get(
                "instrumentationLibrarySpans", []
            )
            for s_index, scope in enumerate(scopes or []):
                for index, span in enumerate(scope.get("spans") or []):
                    field = f"resourceSpans[{r_index}].scopeSpans[{s_index}].spans[{index}]"
                    try:
                        batch.append(_span(span, experiment, p.stem))
                    except (KeyError, TypeError, ValueError) as exc:
                        raise ImportSchemaError(
                            f"{p}:{number}: {field}: {type(exc).__name__}: {exc}; each span needs "
                            "traceId, spanId, name and startTimeUnixNano"
                        ) from None
    return pl.DataFrame(spans_to_arrow(batch))


def _span(
    span: dict[str, Any], experiment: str | None, default: str
) -> tuple[str | None, SpanLike]:
    attributes = _attributes(span.get("attributes"))
    start = int(span["startTimeUnixNano"])
    events = [
        _Event(
            name=str(e.get("name", "")),
            timestamp=int(e.get("timeUnixNano", start)),
            attributes=_attributes(e.get("attributes")),
        )
        for e in span.get("events") or []
    ]
    code = (span.get("status") or {}).get("code")
    end = span.get("endTimeUnixNano")
    trace_id = _span_id(span["traceId"], 16)
    parent = _span_id(span.get("parentSpanId"), 8)
    if experiment is None and "crucible.experiment_id" not in attributes:
        experiment = default
    decoded = _Span(
        name=str(span["name"]),
        context=_Context(trace_id, _span_id(span["spanId"], 8)),
        parent=_Context(trace_id, parent) if parent else None,
        start_time=start,
        end_time=int(end) if end is not None else None,
        attributes=attributes,
        status=_Status(StatusCode.ERROR if code in _STATUS_ERROR else StatusCode.UNSET),
        events=events,
    )
    return experiment, decoded
