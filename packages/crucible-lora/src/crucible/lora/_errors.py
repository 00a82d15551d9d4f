"""Errors of crucible-lora; every one subclasses a crucible.core error."""

from __future__ import annotations

from crucible.core import ConfigurationError, CrucibleError, ValidationError

__all__ = [
    "BackendUnavailableError",
    "CheckpointError",
    "LoraError",
    "PromotionError",
    "UnknownBackendError",
]


class LoraError(CrucibleError):
    """Root of the errors raised by crucible.lora."""


class UnknownBackendError(LoraError, ConfigurationError):
    """No training backend is registered under the requested name (the message lists them)."""


class BackendUnavailableError(LoraError, ConfigurationError):
    """A backend's optional dependency is not installed (the message gives the install line)."""


class CheckpointError(LoraError, ValidationError):
    """A checkpoint path does not exist, is not a checkpoint, or does not fit this model."""


class PromotionError(LoraError, ValidationError):
    """An adapter stage change is not allowed (e.g. to ``production`` without passing evidence)."""
