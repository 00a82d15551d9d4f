"""crucible-telemetry: capture GenAI spans per experiment, store them, and compute metrics."""

from crucible.telemetry._capture import Capture, capture
from crucible.telemetry._errors import (
    ImportSchemaError,
    StoreClosedError,
    StoreError,
    TelemetryError,
)
from crucible.telemetry._export import FileFormat, export
from crucible.telemetry._imports import import_events
from crucible.telemetry._metrics import metrics
from crucible.telemetry._otlp_json import import_otlp_json
from crucible.telemetry._reliability import error_breakdown, reliability, timeseries
from crucible.telemetry._schema import EVALUATION_EVENT, EVENT_COLUMNS, EVENT_SCHEMA, empty_events
from crucible.telemetry._scores import record_score
from crucible.telemetry._store import DuckDBStore, MemoryStore, Store

__version__ = "0.1.0"

__all__ = [
    "EVALUATION_EVENT",
    "EVENT_COLUMNS",
    "EVENT_SCHEMA",
    "Capture",
    "DuckDBStore",
    "FileFormat",
    "ImportSchemaError",
    "MemoryStore",
    "Store",
    "StoreClosedError",
    "StoreError",
    "TelemetryError",
    "__version__",
    "capture",
    "empty_events",
    "error_breakdown",
    "export",
    "import_events",
    "import_otlp_json",
    "metrics",
    "record_score",
    "reliability",
    "timeseries",
]
