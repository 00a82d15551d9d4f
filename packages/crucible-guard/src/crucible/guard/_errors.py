"""Errors raised by crucible-guard; every one subclasses a crucible-core error."""

from __future__ import annotations

from typing import TYPE_CHECKING

from crucible.core import CrucibleError, ProviderError

if TYPE_CHECKING:
    from crucible.guard._values import GuardResult

__all__ = ["GuardBlockedError", "GuardError", "JudgeError"]


class GuardError(CrucibleError):
    """Root of the errors crucible-guard raises itself (bad arguments raise core's
    :class:`~crucible.core.ValidationError` / :class:`~crucible.core.ConfigurationError`)."""


class GuardBlockedError(GuardError):
    """A guard blocked the text; ``result`` holds the :class:`GuardResult` that says why.

    Attributes:
        result: the check's result (detections, offsets, latency).
        stage: ``"input"`` or ``"output"``.
    """

    def __init__(self, result: GuardResult, *, stage: str) -> None:
        kinds = sorted({f"{d.detector}/{d.category}" for d in result.violations})
        super().__init__(f"guard blocked the {stage}: {', '.join(kinds) or 'policy violation'}")
        self.result = result
        self.stage = stage


class JudgeError(GuardError, ProviderError):
    """A judge model failed, timed out or answered something that is not a verdict."""
