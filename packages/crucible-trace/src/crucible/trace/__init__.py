"""crucible-trace: reasoning chains parsed from model output, linked to the model call's span."""

from crucible.trace._chain import Chain, ChainStatistics
from crucible.trace._errors import (
    ChainStoreError,
    EventValidationError,
    TraceError,
    TraceParseError,
)
from crucible.trace._event import CORE_TYPES, Event, EventType
from crucible.trace._parse import ParseProblem, ParseResult, extract_code, parse
from crucible.trace._render import instrument_prompt, render

__version__ = "0.1.0"

__all__ = [
    "CORE_TYPES",
    "Chain",
    "ChainStatistics",
    "ChainStoreError",
    "Event",
    "EventType",
    "EventValidationError",
    "ParseProblem",
    "ParseResult",
    "TraceError",
    "TraceParseError",
    "__version__",
    "extract_code",
    "instrument_prompt",
    "parse",
    "render",
]
