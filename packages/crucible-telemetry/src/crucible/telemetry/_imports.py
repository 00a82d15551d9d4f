"""Import production telemetry from CSV, JSONL or Parquet with a schema mapping and validation."""

from __future__ import annotations

import json
import os
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import polars as pl

from crucible.telemetry._errors import ImportSchemaError, TelemetryError
from crucible.telemetry._export import FileFormat, file_format
from crucible.telemetry._schema import EVENT_SCHEMA

__all__ = ["import_events"]

_TRUE = ("true", "1", "yes", "y", "t")
_FALSE = ("false", "0", "no", "n", "f")

_DESCRIBE = {
    pl.Int64(): "an integer",
    pl.Float64(): "a number",
    pl.Boolean(): "true/false",
    pl.Datetime("us", "UTC"): "an ISO-8601 time (2025-01-31T12:00:00Z) or epoch seconds",
}


def import_events(
    path: str | os.PathLike[str],
    *,
    mapping: Mapping[str, str] | None = None,
    format: str | FileFormat | None = None,
    experiment: str | None = None,
) -> pl.DataFrame:
    """Read production telemetry into the event schema, validating every mapped column.

    Args:
        path: a ``.csv``, ``.jsonl`` or ``.parquet`` file (or pass ``format``).
        mapping: event column → source column, for columns whose names differ
            (``{"latency_ms": "duration", "model": "llm"}``); same-named columns map themselves.
            Source columns that map to no event column are kept as JSON in ``attributes``.
        experiment: the experiment for rows without one (default: the file's stem).

    Returns:
        A polars DataFrame with exactly the event schema; write it with ``store.extend(frame)``.

    Raises:
        ImportSchemaError: a value does not fit its column; the message names the file, the line
            (CSV, JSONL) or row (Parquet), the column, the value and the expected type.
        TelemetryError: the file is missing or has no ``time`` column.

    Example::

        frame = import_events("prod.csv", mapping={"latency_ms": "duration_ms"})
        DuckDBStore("prod.duckdb").extend(frame)
    """
    p = Path(path)
    if not p.is_file():
        raise TelemetryError(f"`path` {str(p)!r} is not a file; check the path")
    fmt = file_format(p, format)
    mapping = dict(mapping or {})
    unknown = [k for k in mapping if k not in EVENT_SCHEMA]
    if unknown:
        raise TelemetryError(
            f"`mapping` has keys {unknown} that are not event columns; keys are event columns "
            f"({', '.join(EVENT_SCHEMA)}) and values the file's column names"
        )
    raw, where = _read(p, fmt)
    for target, source in mapping.items():
        if source not in raw.columns:
            raise ImportSchemaError(
                f"{p}: `mapping` maps {target!r} to column {source!r}, which the file lacks; "
                f"its columns are {raw.columns}"
            )
    sources = {c: mapping.get(c, c) for c in EVENT_SCHEMA if mapping.get(c, c) in raw.columns}
    if "time" not in sources:
        raise ImportSchemaError(
            f"{p}: no `time` column; map the file's timestamp column with mapping={{'time': ...}}"
        )
    columns: dict[str, pl.Series] = {}
    for target, source in sources.items():
        columns[target] = _convert(raw[source], target, source, p, where)
    n = raw.height
    used = set(sources.values())
    extra = [c for c in raw.columns if c not in used]
    out: list[pl.Series] = []
    for name, dtype in EVENT_SCHEMA.items():
        if name in columns:
            out.append(columns[name].alias(name))
        else:
            out.append(pl.Series(name, [None] * n, dtype=dtype))
    frame = pl.DataFrame(out)
    fills: list[pl.Expr] = [
        pl.col("experiment").fill_null(experiment if experiment is not None else p.stem),
        pl.col("name").fill_null("imported"),
    ]
    if "success" not in columns:
        fills.append(pl.col("error_type").is_null().alias("success"))
    if extra and "attributes" not in columns:
        encoded = raw.select(pl.struct(extra).struct.json_encode().alias("attributes"))
        frame = frame.with_columns(encoded["attributes"])
    return frame.with_columns(fills)


def _read(p: Path, fmt: FileFormat) -> tuple[pl.DataFrame, Any]:
    """The raw frame and how to name a row in messages (a line-number list, or ``None``)."""
    try:
        if fmt is FileFormat.CSV:
            frame = pl.read_csv(p, infer_schema=False)
            return frame, "csv"
        if fmt is FileFormat.PARQUET:
            return pl.read_parquet(p), None
    except pl.exceptions.PolarsError as exc:
        raise ImportSchemaError(f"{p}: cannot read as {fmt.value}: {exc}") from exc
    return _read_jsonl(p)


def _read_jsonl(p: Path) -> tuple[pl.DataFrame, list[int]]:
    records: list[dict[str, Any]] = []
    lines: list[int] = []
    with p.open(encoding="utf-8") as fh:
        for number, line in enumerate(fh, start=1):
            if not line.strip():
                continue
            try:
                record = json.loads(line)
            except json.JSONDecodeError as exc:
                raise ImportSchemaError(
                    f"{p}:{number}:{exc.colno}: invalid JSON ({exc.msg}); each line must be one "
                    "JSON object"
                ) from None
            if not isinstance(record, dict):
                raise ImportSchemaError(
                    f"{p}:{number}: expected a JSON object, got {type(record).__name__}"
                )
            records.append(record)
            lines.append(number)
    keys: dict[str, None] = {}
    for record in records:
        keys.update(dict.fromkeys(record))
    data: dict[str, pl.Series] = {}
    for key in keys:
        values = [r.get(key) for r in records]
        data[key] = _column(key, values)
    return pl.DataFrame(data, height=len(records)) if data else pl.DataFrame(), lines


def _column(key: str, values: list[Any]) -> pl.Series:
    kinds = {type(v) for v in values if v is not None}
    if kinds <= {bool} or kinds <= {int} or kinds <= {float, int} or kinds <= {str}:
        try:
            return pl.Series(key, values, strict=False)
        except (TypeError, ValueError, OverflowError, pl.exceptions.PolarsError):
            pass
    # Mixed or nested values: keep their JSON text so validation can point at the odd one.
    return pl.Series(
        key,
        [None if v is None else v if isinstance(v, str) else json.dumps(v) for v in values],
        dtype=pl.String,
    )


def _convert(series: pl.Series, target: str, source: str, p: Path, where: Any) -> pl.Series:
    dtype = EVENT_SCHEMA[target]
    s = series
    if dtype == pl.String():
        if s.dtype == pl.String:
            return s
        if s.dtype.is_nested():
            return s.to_frame().select(pl.col(s.name).struct.json_encode()).to_series()
        return s.cast(pl.String)
    if s.dtype == pl.String:
        stripped = s.str.strip_chars()
        s = pl.select(pl.when(stripped == "").then(None).otherwise(stripped)).to_series()
        s = s.alias(series.name)
    present = s.is_not_null()
    if dtype == pl.Boolean():
        if s.dtype == pl.Boolean:
            out = s
        elif s.dtype == pl.String:
            low = s.str.to_lowercase()
            out = (
                pl.select(
                    pl.when(low.is_in(_TRUE))
                    .then(True)
                    .when(low.is_in(_FALSE))
                    .then(False)
                    .otherwise(None)
                )
                .to_series()
                .alias(s.name)
            )
        elif s.dtype.is_numeric():
            out = pl.select(pl.when(s == 1).then(True).when(s == 0).then(False)).to_series()
        else:
            out = pl.Series(s.name, [None] * len(s), dtype=pl.Boolean)
    elif isinstance(dtype, pl.Datetime):
        out = _to_time(s)
    elif dtype == pl.Int64():
        as_float = s.cast(pl.Float64, strict=False) if s.dtype != pl.Boolean else s.clear()
        integral = as_float.is_not_null() & (as_float == as_float.floor())
        out = pl.select(pl.when(integral).then(as_float).otherwise(None)).to_series()
        out = out.cast(pl.Int64, strict=False)
    else:
        out = s.cast(pl.Float64, strict=False) if s.dtype != pl.Boolean else s.clear()
    bad = present & out.is_null()
    if bad.any():
        index = int(bad.arg_true()[0])
        value = series[index]
        if where == "csv":
            place = f"{p}:{index + 2}"
        elif isinstance(where, list):
            place = f"{p}:{where[index]}"
        else:
            place = f"{p}: row {index + 1}"
        hint = f"mapping={{'{target}': ...}}" if target == source else "another source column"
        raise ImportSchemaError(
            f"{place}: column {source!r} (event column {target!r}) has {value!r}, expected "
            f"{_DESCRIBE[dtype]} (file type {series.dtype}); fix the value or map {hint}"
        )
    return out.cast(dtype)


def _to_time(s: pl.Series) -> pl.Series:
    if isinstance(s.dtype, pl.Datetime):
        if s.dtype.time_zone is None:
            return s.dt.replace_time_zone("UTC").dt.cast_time_unit("us")
        return s.dt.convert_time_zone("UTC").dt.cast_time_unit("us")
    if s.dtype.is_numeric():
        micros = (s.cast(pl.Float64) * 1e6).round().cast(pl.Int64)
        return micros.cast(pl.Datetime("us")).dt.replace_time_zone("UTC")
    if s.dtype == pl.String:
        parsed = s.str.to_datetime(time_unit="us", strict=False)
        if isinstance(parsed.dtype, pl.Datetime) and parsed.dtype.time_zone is None:
            return parsed.dt.replace_time_zone("UTC")
        return parsed.dt.convert_time_zone("UTC")
    return pl.Series(s.name, [None] * len(s), dtype=pl.Datetime("us", "UTC"))
