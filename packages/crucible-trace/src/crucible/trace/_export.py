"""Chains as JSON, Markdown, CSV, or one self-contained HTML viewer; written atomically."""

from __future__ import annotations

import csv
import io
import json
import os
from enum import StrEnum
from pathlib import Path

from crucible.trace._chain import Chain
from crucible.trace._errors import ChainStoreError
from crucible.trace._files import write_atomic
from crucible.trace._viewer import to_html

__all__ = ["ExportFormat", "export", "to_csv", "to_html", "to_json", "to_markdown"]


class ExportFormat(StrEnum):
    """Export formats."""

    JSON = "json"
    MARKDOWN = "md"
    CSV = "csv"
    HTML = "html"


_SUFFIXES = {
    ".json": ExportFormat.JSON,
    ".md": ExportFormat.MARKDOWN,
    ".markdown": ExportFormat.MARKDOWN,
    ".csv": ExportFormat.CSV,
    ".html": ExportFormat.HTML,
    ".htm": ExportFormat.HTML,
}

CSV_COLUMNS = (
    "chain_id",
    "index",
    "id",
    "time",
    "type",
    "decision",
    "alternatives",
    "reasoning",
    "confidence",
    "code_section",
    "spec_reference",
    "trace_id",
    "span_id",
    "metadata",
)


def to_json(chain: Chain) -> str:
    """The chain as indented JSON (``Chain.from_dict(json.loads(...))`` reads it back)."""
    return json.dumps(chain.to_dict(), ensure_ascii=False, indent=2) + "\n"


def _md(text: str) -> str:
    return text.replace("\n", " ").replace("|", "\\|")


def to_markdown(chain: Chain) -> str:
    """A readable Markdown report: a summary table and one section per event."""
    stats = chain.statistics()
    mean = "—" if stats.mean_confidence is None else f"{stats.mean_confidence:.2f}"
    lines = [
        f"# Reasoning chain: {chain.name or chain.id}",
        "",
        f"- id: `{chain.id}`",
        f"- created: {chain.created.isoformat()}",
        f"- events: {stats.n_events}, decision points: {stats.n_decision_points}, "
        f"mean confidence: {mean}",
        "",
        "| # | type | decision | confidence |",
        "| --- | --- | --- | --- |",
    ]
    for i, e in enumerate(chain.events, start=1):
        conf = "—" if e.confidence is None else f"{e.confidence:.2f}"
        lines.append(f"| {i} | {e.type} | {_md(e.decision)} | {conf} |")
    for i, e in enumerate(chain.events, start=1):
        lines += ["", f"## {i}. {e.type}: {e.decision}", ""]
        if e.confidence is not None:
            lines.append(f"**Confidence:** {e.confidence:.2f}  ")
        lines.append(f"**Time:** {e.time.isoformat()}  ")
        if e.code_section:
            lines.append(f"**Code:** `{e.code_section}`  ")
        if e.spec_reference:
            lines.append(f"**Spec:** {e.spec_reference}  ")
        if e.span_id:
            lines.append(f"**Model call:** trace `{e.trace_id}`, span `{e.span_id}`  ")
        if e.reasoning:
            lines += ["", e.reasoning]
        if e.alternatives:
            lines += ["", "Alternatives considered:", *[f"- {a}" for a in e.alternatives]]
    return "\n".join(lines) + "\n"


def to_csv(chain: Chain) -> str:
    """One row per event (alternatives joined by `` | ``, metadata as JSON)."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(CSV_COLUMNS)
    for i, e in enumerate(chain.events):
        writer.writerow(
            [
                chain.id,
                i,
                e.id,
                e.time.isoformat(),
                e.type,
                e.decision,
                " | ".join(e.alternatives),
                e.reasoning,
                "" if e.confidence is None else repr(e.confidence),
                e.code_section or "",
                e.spec_reference or "",
                e.trace_id or "",
                e.span_id or "",
                json.dumps(e.metadata, ensure_ascii=False) if e.metadata else "",
            ]
        )
    return buffer.getvalue()


_WRITERS = {
    ExportFormat.JSON: to_json,
    ExportFormat.MARKDOWN: to_markdown,
    ExportFormat.CSV: to_csv,
    ExportFormat.HTML: to_html,
}


def export(
    chain: Chain, path: str | os.PathLike[str], *, format: str | ExportFormat | None = None
) -> Path:
    """Write ``chain`` to ``path`` as JSON, Markdown, CSV or HTML (from the suffix or
    ``format``), atomically.

    Raises:
        ChainStoreError: unknown format, or ``path`` is a directory or in a missing directory.
    """
    if not isinstance(chain, Chain):
        raise ChainStoreError(f"`chain` must be a Chain, got {type(chain).__name__}")
    target = Path(path)
    if format is not None:
        try:
            fmt = ExportFormat(str(format).lower())
        except ValueError:
            raise ChainStoreError(
                f"`format` must be one of {[f.value for f in ExportFormat]}, got {format!r}"
            ) from None
    else:
        try:
            fmt = _SUFFIXES[target.suffix.lower()]
        except KeyError:
            raise ChainStoreError(
                f"`path` {str(target)!r}: cannot tell the format from {target.suffix!r}; use "
                ".json, .md, .csv or .html, or pass format="
            ) from None
    return write_atomic(target, _WRITERS[fmt](chain))
