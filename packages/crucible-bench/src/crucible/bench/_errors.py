"""The error hierarchy of crucible-bench."""

from __future__ import annotations

from crucible.core import CrucibleError, ValidationError

__all__ = ["BenchError", "BenchInputError", "DegenerateDataError"]


class BenchError(CrucibleError):
    """Base class of every error raised by crucible-bench."""


class BenchInputError(BenchError, ValidationError):
    """An argument is invalid; the message names the argument and how to fix it.

    Subclasses :class:`ValueError` (through :class:`crucible.core.ValidationError`), so
    ``except ValueError`` keeps working.
    """


class DegenerateDataError(BenchInputError):
    """The data admit no meaningful answer (constant samples, a single observation, ...)."""
