"""Errors of crucible-production-eval, rooted in :class:`crucible.core.CrucibleError`."""

from __future__ import annotations

from crucible.core import BudgetExceededError, ConfigurationError, ValidationError

__all__ = [
    "EventError",
    "GateBudgetError",
    "ProductionEvalError",
    "RequirementError",
]


class ProductionEvalError(ValidationError):
    """Bad input to a production-evaluation function; the message names the argument."""


class RequirementError(ConfigurationError):
    """A gate requirement does not parse or names an unknown metric; the message says where."""


class EventError(ProductionEvalError):
    """Production events lack a field the monitor needs (id, timestamp, metric column)."""


class GateBudgetError(BudgetExceededError):
    """The projected cost of a gate or an optimisation exceeds its dollar budget."""
