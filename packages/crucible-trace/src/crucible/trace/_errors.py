"""Errors raised by crucible-trace; every one is a :class:`crucible.core.CrucibleError`."""

from __future__ import annotations

from crucible.core import CrucibleError, ValidationError

__all__ = ["ChainStoreError", "EventValidationError", "TraceError", "TraceParseError"]


class TraceError(CrucibleError):
    """Root of the errors raised by crucible-trace."""


class EventValidationError(TraceError, ValidationError):
    """An event or chain field is invalid (confidence outside 0–1, unknown type in strict mode)."""


class TraceParseError(TraceError, ValidationError):
    """Model output could not be parsed into events; ``problems`` lists each one."""

    def __init__(self, message: str, problems: tuple[object, ...] = ()) -> None:
        super().__init__(message)
        self.problems = problems


class ChainStoreError(TraceError):
    """A chain cannot be saved, loaded or exported (bad path, missing or corrupt file)."""
