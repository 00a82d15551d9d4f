"""crucible-trace: reasoning chains parsed from model output, linked to the model call's span."""

from crucible.trace._chain import Chain, ChainStatistics
from crucible.trace._diff import ChainDiff, Divergence, DivergenceKind, diff
from crucible.trace._errors import (
    ChainStoreError,
    EventValidationError,
    TraceError,
    TraceParseError,
)
from crucible.trace._event import CORE_TYPES, Event, EventType
from crucible.trace._export import ExportFormat, export, to_csv, to_html, to_json, to_markdown
from crucible.trace._parse import ParseProblem, ParseResult, parse
from crucible.trace._render import instrument_prompt, render
from crucible.trace._scan import extract_code
from crucible.trace._store import ChainStore, ChainSummary, SearchHit

__version__ = "0.1.0"

__all__ = [
    "CORE_TYPES",
    "Chain",
    "ChainDiff",
    "ChainStatistics",
    "ChainStore",
    "ChainStoreError",
    "ChainSummary",
    "Divergence",
    "DivergenceKind",
    "Event",
    "EventType",
    "EventValidationError",
    "ExportFormat",
    "ParseProblem",
    "ParseResult",
    "SearchHit",
    "TraceError",
    "TraceParseError",
    "__version__",
    "diff",
    "export",
    "extract_code",
    "instrument_prompt",
    "parse",
    "render",
    "to_csv",
    "to_html",
    "to_json",
    "to_markdown",
]
