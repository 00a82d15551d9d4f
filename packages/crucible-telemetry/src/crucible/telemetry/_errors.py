"""Errors raised by crucible-telemetry; every one is a :class:`crucible.core.CrucibleError`."""

from __future__ import annotations

from crucible.core import ConfigurationError, CrucibleError, ValidationError

__all__ = ["ImportSchemaError", "StoreClosedError", "StoreError", "TelemetryError"]


class TelemetryError(CrucibleError):
    """Root of the errors raised by crucible-telemetry."""


class StoreError(TelemetryError, ConfigurationError):
    """A store cannot be opened or written (bad path, directory, no permission)."""


class StoreClosedError(StoreError):
    """The store was closed; open a new one to append or read."""


class ImportSchemaError(TelemetryError, ValidationError):
    """An imported file does not match the event schema; the message names file, line and column."""
