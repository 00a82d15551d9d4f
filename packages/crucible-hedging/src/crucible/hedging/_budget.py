"""A hedging budget: a token bucket of hedge credits plus a cap on extra dollars."""

from __future__ import annotations

import math

import attrs

from crucible.core import ConfigurationError

__all__ = ["HedgeBudget"]


def _nonneg(name: str, value: float | None, *, allow_none: bool = False) -> None:
    if value is None and allow_none:
        return
    if (
        isinstance(value, bool)
        or not isinstance(value, int | float)
        or math.isnan(value)
        or value < 0
    ):
        raise ConfigurationError(f"`{name}` must be a number >= 0, got {value!r}")


@attrs.define(slots=True)
class HedgeBudget:
    """Caps what hedging may add: extra requests (as a share of calls) and extra dollars.

    Extra requests follow gRPC's hedging throttle (gRFC A6): a bucket holds up to ``burst``
    credits and starts full; each call deposits ``ratio`` credits, each hedge spends one, and a
    hedge fires only if a whole credit is available. Over many calls the extra-request rate is
    therefore at most ``ratio`` (plus the initial ``burst``).

    Extra dollars are what non-winning attempts that completed cost (their ``cost_usd``); once
    ``spent_usd`` reaches ``max_extra_usd`` no hedge fires. One budget may be shared by many
    calls and models (asyncio is single-threaded, so no lock is needed).

    When the budget refuses, the call runs unhedged and its :class:`HedgeResult` says so in
    ``throttled``.

    Example:
        >>> budget = HedgeBudget(ratio=0.1, burst=1)
        >>> budget.deposit(); budget.try_spend(), budget.try_spend()
        (None, 'no hedge credits left (ratio=0.1, burst=1)')
    """

    ratio: float = 0.1
    burst: float = 10.0
    max_extra_usd: float | None = None
    credits: float = attrs.field(init=False)
    spent_usd: float = attrs.field(init=False, default=0.0)
    hedges: int = attrs.field(init=False, default=0)
    calls: int = attrs.field(init=False, default=0)
    refused: int = attrs.field(init=False, default=0)

    def __attrs_post_init__(self) -> None:
        _nonneg("ratio", self.ratio)
        _nonneg("burst", self.burst)
        _nonneg("max_extra_usd", self.max_extra_usd, allow_none=True)
        if self.burst < 1 and self.ratio > 0:
            raise ConfigurationError(
                f"`burst` must be >= 1 for any hedge to fire (a hedge costs one credit), got {self.burst!r}"
            )
        self.credits = float(self.burst)

    def deposit(self) -> None:
        """Credit one call (``ratio`` credits, up to ``burst``)."""
        self.calls += 1
        self.credits = min(self.burst, self.credits + self.ratio)

    def try_spend(self) -> str | None:
        """Take one hedge credit; returns ``None`` on success or why the hedge may not fire."""
        if self.max_extra_usd is not None and self.spent_usd >= self.max_extra_usd:
            self.refused += 1
            return (
                f"extra-dollar budget spent (${self.spent_usd:.6f} of max_extra_usd="
                f"${self.max_extra_usd:g})"
            )
        if self.credits < 1.0:
            self.refused += 1
            return f"no hedge credits left (ratio={self.ratio:g}, burst={self.burst:g})"
        self.credits -= 1.0
        self.hedges += 1
        return None

    def charge(self, extra_usd: float) -> None:
        """Record dollars spent on attempts that did not win."""
        self.spent_usd += extra_usd

    @property
    def extra_request_rate(self) -> float:
        """Hedges fired per call so far (NaN before the first call)."""
        return self.hedges / self.calls if self.calls else math.nan
