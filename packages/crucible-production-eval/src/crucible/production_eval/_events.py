"""Production events in: windows, ids, file formats and the ingestion report."""

from __future__ import annotations

import math
import os
import re
from pathlib import Path
from typing import Any

import attrs
import polars as pl

from crucible.production_eval._errors import EventError, ProductionEvalError

__all__ = ["IngestReport", "event_ids", "parse_window", "read_events"]

_UNITS = {"s": 1, "m": 60, "h": 3600, "d": 86400}


def parse_window(window: str | float) -> float:
    """Window length in seconds from ``"30s"``, ``"15m"``, ``"1h"``, ``"1d"`` or a number."""
    if isinstance(window, int | float) and not isinstance(window, bool):
        seconds = float(window)
    else:
        match = re.fullmatch(r"\s*(\d+(?:\.\d+)?)\s*([smhd])\s*", str(window))
        if match is None:
            raise ProductionEvalError(
                f"`window` must look like '30s', '15m', '1h' or '1d', got {window!r}"
            )
        seconds = float(match.group(1)) * _UNITS[match.group(2)]
    if not (math.isfinite(seconds) and seconds > 0):
        raise ProductionEvalError(f"`window` must be a positive duration, got {window!r}")
    return seconds


@attrs.frozen
class IngestReport:
    """What one ingestion did: rows read, newly stored, already stored, and skipped (by reason)."""

    rows: int
    inserted: int
    duplicates: int
    skipped: dict[str, int]

    def to_dict(self) -> dict[str, Any]:
        return attrs.asdict(self)


def read_events(source: str | os.PathLike[str] | pl.DataFrame) -> pl.DataFrame:
    """Events from a DataFrame or a file: JSONL/CSV/Parquet (event schema) or OTLP JSON."""
    if isinstance(source, pl.DataFrame):
        return source
    from crucible.telemetry import import_events, import_otlp_json

    path = Path(source)
    if not path.is_file():
        raise EventError(f"`source` {str(path)!r} is not a file")
    if path.suffix == ".json":
        return import_otlp_json(path)
    return import_events(path)


def event_ids(frame: pl.DataFrame) -> pl.Expr:
    candidates: list[pl.Expr] = []
    for col in ("event_id", "id"):
        if col in frame.columns:
            candidates.append(pl.col(col).cast(pl.String))
    if "attributes" in frame.columns:
        for key in ("event_id", "id"):
            candidates.append(pl.col("attributes").str.json_path_match(f"$.{key}"))
    if "span_id" in frame.columns:
        suffix = pl.col("evaluation") if "evaluation" in frame.columns else pl.lit("")
        candidates.append(pl.col("span_id") + pl.lit(":") + suffix.fill_null(""))
    if not candidates:
        raise EventError(
            "events have no `event_id`, `id` or `span_id` column: the monitor needs an id per "
            "event to ingest idempotently"
        )
    return pl.coalesce(candidates)
