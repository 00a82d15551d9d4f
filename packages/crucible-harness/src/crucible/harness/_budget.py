"""Budget accounting: reserve a call's estimated cost before it starts, settle it after."""

from __future__ import annotations

import attrs

from crucible.harness._limits import Budget

__all__ = ["BudgetGuard", "CallEstimate"]


@attrs.frozen(slots=True)
class CallEstimate:
    """The expected cost of one call: USD (``None`` when unpriced) and tokens."""

    usd: float | None
    tokens: int


class BudgetGuard:
    """Admits calls while ``spent + reserved + next <= budget``.

    ``spent`` is what finished calls cost (from the committed usage), ``reserved`` the
    estimates of calls in flight. Once a call is refused, every later call is refused too
    (the run stops launching) and :attr:`reason` says why. Overshoot is bounded by how much
    the in-flight calls exceed their estimates.

    Example:
        >>> guard = BudgetGuard(Budget(usd=1.0))
        >>> guard.reserve(CallEstimate(0.6, 10)), guard.reserve(CallEstimate(0.6, 10))
        (True, False)
        >>> guard.reason
        'budget of $1.0000 reached: spent $0.0000 + in flight $0.6000 + next call ~$0.6000'
    """

    def __init__(self, budget: Budget, *, spent_usd: float = 0.0, spent_tokens: int = 0) -> None:
        self.budget = budget
        self.spent_usd = spent_usd
        self.spent_tokens = spent_tokens
        self.reserved_usd = 0.0
        self.reserved_tokens = 0
        self.reason: str | None = None

    @property
    def stopped(self) -> bool:
        return self.reason is not None

    def reserve(self, estimate: CallEstimate) -> bool:
        """Reserve one call's estimate; False (and :attr:`reason` set) when it could exceed."""
        if self.reason is not None:
            return False
        b = self.budget
        usd = estimate.usd or 0.0
        if b.usd is not None and self.spent_usd + self.reserved_usd + usd > b.usd:
            self.reason = (
                f"budget of ${b.usd:.4f} reached: spent ${self.spent_usd:.4f} + in flight "
                f"${self.reserved_usd:.4f} + next call ~${usd:.4f}"
            )
            return False
        if b.tokens is not None and (
            self.spent_tokens + self.reserved_tokens + estimate.tokens > b.tokens
        ):
            self.reason = (
                f"token budget of {b.tokens} reached: used {self.spent_tokens} + in flight "
                f"{self.reserved_tokens} + next call ~{estimate.tokens}"
            )
            return False
        self.reserved_usd += usd
        self.reserved_tokens += estimate.tokens
        return True

    def settle(self, estimate: CallEstimate, usd: float | None, tokens: int) -> None:
        """Replace a reservation with what the call actually cost."""
        self.reserved_usd = max(0.0, self.reserved_usd - (estimate.usd or 0.0))
        self.reserved_tokens = max(0, self.reserved_tokens - estimate.tokens)
        self.spent_usd += usd or 0.0
        self.spent_tokens += tokens
