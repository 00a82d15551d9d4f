"""The harness's errors: all subclass :class:`crucible.core.CrucibleError`."""

from __future__ import annotations

from crucible.core import ConfigurationError, CrucibleError

__all__ = ["ExperimentError", "FingerprintMismatchError", "HarnessError", "RunDirectoryError"]


class HarnessError(CrucibleError):
    """Root of the errors raised by crucible-harness."""


class ExperimentError(HarnessError, ConfigurationError):
    """An experiment is malformed (no conditions, a template field the items lack, ...).

    Raised before any model call is made; the message names the argument and the fix.
    """


class RunDirectoryError(HarnessError):
    """A run directory cannot be used (it holds another run, is not a run, is unreadable)."""


class FingerprintMismatchError(RunDirectoryError):
    """Resuming a run with an experiment that differs from the one that started it.

    Attributes:
        changed: the fingerprint fields that differ (``"seed"``, ``"conditions.single.prompt"``, ...).
    """

    def __init__(self, message: str, changed: list[str]) -> None:
        super().__init__(message)
        self.changed = changed
