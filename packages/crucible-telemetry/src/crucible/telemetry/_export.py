"""Export events to CSV, JSONL or Parquet, written atomically (temp file + rename)."""

from __future__ import annotations

import contextlib
import os
import tempfile
from enum import StrEnum
from pathlib import Path

import polars as pl

from crucible.telemetry._errors import TelemetryError
from crucible.telemetry._store import Store

__all__ = ["FileFormat", "export", "file_format"]


class FileFormat(StrEnum):
    """Tabular file formats for export and import."""

    CSV = "csv"
    JSONL = "jsonl"
    PARQUET = "parquet"


_SUFFIXES = {
    ".csv": FileFormat.CSV,
    ".jsonl": FileFormat.JSONL,
    ".ndjson": FileFormat.JSONL,
    ".parquet": FileFormat.PARQUET,
    ".pq": FileFormat.PARQUET,
}


def file_format(path: Path, format: str | FileFormat | None, argument: str = "path") -> FileFormat:
    """The format named by ``format``, else by the suffix of ``path``."""
    if format is not None:
        try:
            return FileFormat(str(format).lower())
        except ValueError:
            raise TelemetryError(
                f"`format` must be one of {[f.value for f in FileFormat]}, got {format!r}"
            ) from None
    try:
        return _SUFFIXES[path.suffix.lower()]
    except KeyError:
        raise TelemetryError(
            f"`{argument}` {str(path)!r}: cannot tell the format from the suffix "
            f"{path.suffix!r}; use .csv, .jsonl or .parquet, or pass format="
        ) from None


def export(
    source: Store | pl.DataFrame, path: str | os.PathLike[str], *, format: str | None = None
) -> Path:
    """Write events to ``path`` as CSV, JSONL or Parquet (from the suffix, or ``format``).

    The file is written to a temporary name in the same directory and renamed into place, so a
    reader never sees half a file and a failed export leaves nothing behind.

    Returns:
        The path written.

    Raises:
        TelemetryError: unknown format, ``path`` is a directory or its directory is missing.
    """
    target = Path(path)
    fmt = file_format(target, format)
    if isinstance(source, Store):
        frame = source.frame()
    elif isinstance(source, pl.DataFrame):
        frame = source
    else:
        raise TelemetryError(
            f"`source` must be a Store or a polars DataFrame, got {type(source).__name__}"
        )
    if target.is_dir():
        raise TelemetryError(f"`path` {str(target)!r} is a directory; give a file name")
    if not target.parent.is_dir():
        raise TelemetryError(
            f"`path` {str(target)!r}: directory {str(target.parent)!r} does not exist; create it"
        )
    fd, tmp_name = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".tmp", dir=target.parent)
    os.close(fd)
    tmp = Path(tmp_name)
    try:
        if fmt is FileFormat.CSV:
            frame.write_csv(tmp)
        elif fmt is FileFormat.JSONL:
            frame.write_ndjson(tmp)
        else:
            frame.write_parquet(tmp)
        os.replace(tmp, target)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            tmp.unlink()
        raise
    return target
