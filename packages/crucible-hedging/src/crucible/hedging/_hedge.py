"""``hedged``: race a slow call against delayed copies, keep the first answer, cancel the rest."""

from __future__ import annotations

import asyncio
import math
from collections.abc import Awaitable, Callable, Sequence
from enum import StrEnum
from typing import Any, Generic, TypeVar

import attrs
from opentelemetry import trace
from opentelemetry.trace import Status, StatusCode

from crucible.core import ConfigurationError
from crucible.core import semconv as sc
from crucible.hedging._adaptive import adaptive
from crucible.hedging._budget import HedgeBudget
from crucible.hedging._policy import (
    HedgePolicy,
    Observation,
    PolicyName,
    Work,
    percentile,
    workload_aware,
)

__all__ = ["Attempt", "AttemptStatus", "HedgeResult", "hedged", "resolve_policy"]

T = TypeVar("T")

TRACER_NAME = "crucible.hedging"
#: Attributes beyond the ``crucible.hedge.*`` names reserved in crucible.core.semconv.
HEDGE_POLICY = "crucible.hedge.policy"
HEDGE_THROTTLED = "crucible.hedge.throttled"
HEDGE_CANCELLED = "crucible.hedge.cancelled"


class AttemptStatus(StrEnum):
    """What became of one attempt."""

    WON = "won"
    COMPLETED = "completed"  # answered, but after the winner: its cost is extra
    FAILED = "failed"
    CANCELLED = "cancelled"


@attrs.frozen(slots=True)
class Attempt:
    """One launched copy of the call.

    Attributes:
        index: 0 for the primary, ``k`` for hedge ``k``.
        call_index: which of the given calls it ran (``min(index, len(calls) - 1)``).
        launched_ms: when it was launched, ms after the hedged call started.
        ended_ms: when it answered, failed or was cancelled (ms after the start).
        status: see :class:`AttemptStatus`.
        cost_usd: its ``cost_usd`` when it answered (``None`` otherwise or if unpriced).
        error: the exception it raised, when it failed.
        value: its answer, when it answered.
    """

    index: int
    call_index: int
    launched_ms: float
    ended_ms: float
    status: AttemptStatus
    cost_usd: float | None = None
    error: BaseException | None = attrs.field(default=None, eq=False)
    value: Any = attrs.field(default=None, eq=False, repr=False)

    def to_dict(self) -> dict[str, Any]:
        return {
            "index": self.index,
            "call_index": self.call_index,
            "launched_ms": self.launched_ms,
            "ended_ms": self.ended_ms,
            "status": self.status.value,
            "cost_usd": self.cost_usd,
            "error": None if self.error is None else f"{type(self.error).__name__}: {self.error}",
        }


@attrs.frozen(slots=True)
class HedgeResult(Generic[T]):
    """The outcome of a hedged call.

    Attributes:
        value: the winning attempt's answer.
        winner: the winning attempt's index (0 = the primary).
        attempts: every launched attempt, in launch order.
        hedge_fired: whether any hedge was launched.
        latency_ms: wall time from the call's start to the winner's answer.
        extra_cost_usd: what attempts other than the winner cost (those that completed; a
            cancelled attempt's partial cost is unknown and not included).
        cancelled: how many attempts were cancelled.
        throttled: why a hedge the policy wanted did not fire (budget), else ``None``.
        policy: the policy's name.
    """

    value: T
    winner: int
    attempts: tuple[Attempt, ...]
    hedge_fired: bool
    latency_ms: float
    extra_cost_usd: float
    cancelled: int
    throttled: str | None = None
    policy: str = ""

    @property
    def winner_attempt(self) -> Attempt:
        return self.attempts[self.winner]

    def to_dict(self) -> dict[str, Any]:
        return {
            "winner": self.winner,
            "attempts": [a.to_dict() for a in self.attempts],
            "hedge_fired": self.hedge_fired,
            "latency_ms": self.latency_ms,
            "extra_cost_usd": self.extra_cost_usd,
            "cancelled": self.cancelled,
            "throttled": self.throttled,
            "policy": self.policy,
        }

    def __str__(self) -> str:
        hedges = len(self.attempts) - 1
        tail = f", throttled: {self.throttled}" if self.throttled else ""
        return (
            f"HedgeResult(winner={self.winner}, {hedges} hedge(s), {self.cancelled} cancelled, "
            f"{self.latency_ms:.1f} ms, extra ${self.extra_cost_usd:.6f}, policy={self.policy}{tail})"
        )


def resolve_policy(policy: HedgePolicy | str) -> HedgePolicy:
    """A policy object from itself or a :class:`PolicyName` (built with default settings).

    Raises:
        ConfigurationError: for an unknown name (the message lists the valid ones), or a name
            that needs arguments (``fixed``, ``tiered``).
    """
    valid = ", ".join(repr(p.value) for p in PolicyName)
    if isinstance(policy, str):
        try:
            name = PolicyName(policy)
        except ValueError:
            raise ConfigurationError(f"unknown `policy` {policy!r}; valid: {valid}") from None
        if name is PolicyName.PERCENTILE:
            return percentile()
        if name is PolicyName.WORKLOAD_AWARE:
            return workload_aware()
        if name is PolicyName.ADAPTIVE:
            return adaptive()
        raise ConfigurationError(
            f"`policy={policy!r}` needs arguments: use fixed(delay_ms) or tiered(d1, d2, ...)"
        )
    # Duck-typed: isinstance() against a runtime-checkable Protocol costs ~50 us per call.
    if callable(getattr(policy, "delay_ms", None)) and callable(getattr(policy, "observe", None)):
        return policy
    raise ConfigurationError(
        f"`policy` must be a hedging policy object or one of {valid}; got {policy!r}"
    )


def _default_cost(value: Any) -> float | None:
    cost = getattr(value, "cost_usd", None)
    return float(cost) if isinstance(cost, int | float) else None


async def _raise(exc: Exception) -> Any:
    raise exc


def _calls(call: Any) -> list[Callable[[], Awaitable[Any]]]:
    calls = list(call) if isinstance(call, Sequence) else [call]
    if not calls:
        raise ConfigurationError(
            "`call` is an empty list; give a zero-argument coroutine factory or a list of them "
            "(primary first, then backups)"
        )
    for i, c in enumerate(calls):
        if not callable(c):
            raise ConfigurationError(
                f"`call[{i}]` must be a zero-argument function returning an awaitable "
                f"(e.g. lambda: model.generate(prompt)), got {c!r:.80}"
            )
    return calls


async def hedged(
    call: Callable[[], Awaitable[T]] | Sequence[Callable[[], Awaitable[T]]],
    *,
    policy: HedgePolicy | str,
    max_hedges: int | None = None,
    budget: HedgeBudget | None = None,
    work: Work | None = None,
    name: str = "call",
    cost: Callable[[Any], float | None] = _default_cost,
) -> HedgeResult[T]:
    """Run ``call``; if it has not answered when the policy says, launch a hedge; return the first
    answer and cancel the others (Dean & Barroso, "The Tail at Scale", CACM 2013).

    Args:
        call: a zero-argument coroutine factory, or a list of them for cross-provider hedging:
            attempt ``k`` runs ``call[min(k, len - 1)]`` (primary first, then backups).
        policy: when hedges fire (:func:`fixed`, :func:`percentile`, :func:`adaptive`,
            :func:`workload_aware`, :func:`tiered`, or one of their names).
        max_hedges: most hedges per call (default: 1, or ``len(call) - 1`` for a list).
        budget: a shared :class:`HedgeBudget` capping extra requests and extra dollars; when it
            refuses, the call continues unhedged and ``HedgeResult.throttled`` says why.
        work: the request's size, for :func:`workload_aware`.
        name: names the OpenTelemetry span (``hedge {name}``).
        cost: reads an answer's cost in USD (default: its ``cost_usd`` attribute).

    If every launched attempt fails, the next hedge (if any is left and the budget allows) is
    launched at once; when none is left the first attempt's error is raised (the others are
    attached as notes). Cancelled attempts are awaited, so their HTTP requests are closed when
    this returns.

    Raises:
        ConfigurationError: for an empty ``call`` list, a negative ``max_hedges`` or an unknown
            policy name.

    Example:
        >>> import asyncio
        >>> from crucible.core import SimulatedModel
        >>> from crucible.hedging import fixed
        >>> model = SimulatedModel("gpt-4", seed=1)
        >>> result = asyncio.run(hedged(lambda: model.generate("2+2?"), policy=fixed(100)))
        >>> result.winner, result.hedge_fired
        (0, False)
    """
    calls = _calls(call)
    hedge_policy = resolve_policy(policy)
    if max_hedges is None:
        max_hedges = max(1, len(calls) - 1)
    if isinstance(max_hedges, bool) or not isinstance(max_hedges, int) or max_hedges < 0:
        raise ConfigurationError(f"`max_hedges` must be an int >= 0, got {max_hedges!r}")

    loop = asyncio.get_running_loop()
    tracer = trace.get_tracer(TRACER_NAME)
    with tracer.start_as_current_span(
        f"hedge {name}", record_exception=False, set_status_on_exception=False
    ) as span:
        start = loop.time()
        tasks: list[asyncio.Task[Any]] = []
        launched: list[float] = []
        ended: dict[int, float] = {}

        async def timed(index: int, awaitable: Awaitable[Any]) -> Any:
            # Stamp the end inside the task, so it is known as soon as the task is done.
            try:
                return await awaitable
            finally:
                ended[index] = loop.time()

        def launch(index: int) -> None:
            factory = calls[min(index, len(calls) - 1)]
            try:
                awaitable = factory()
            except Exception as exc:  # a factory that fails before awaiting is a failed attempt
                awaitable = _raise(exc)
            task: asyncio.Task[Any] = loop.create_task(timed(index, awaitable))
            tasks.append(task)
            launched.append(loop.time())

        if budget is not None:
            budget.deposit()
        throttled: str | None = None
        first_delay: float | None = None
        winner: int | None = None
        try:
            launch(0)
            while winner is None:
                level = len(tasks)
                can_hedge = level <= max_hedges and throttled is None
                timeout: float | None = None
                if can_hedge:
                    at_ms = hedge_policy.delay_ms(level, work)
                    if not at_ms >= 0:
                        raise ConfigurationError(
                            f"policy {hedge_policy.name!r} returned delay {at_ms!r} ms for hedge "
                            f"{level}; delays must be >= 0 (inf for no hedge)"
                        )
                    if level == 1 and math.isfinite(at_ms):
                        first_delay = at_ms
                    if math.isfinite(at_ms):
                        timeout = max(0.0, start + at_ms / 1000.0 - loop.time())
                pending = [t for t in tasks if not t.done()]
                if pending and (timeout is None or timeout > 0):
                    done, _ = await asyncio.wait(
                        pending, timeout=timeout, return_when=asyncio.FIRST_COMPLETED
                    )
                    for i, t in enumerate(tasks):
                        if t in done and not t.cancelled() and t.exception() is None:
                            winner = i
                            break
                    if winner is not None or done:
                        continue
                elif not pending and not can_hedge:
                    break  # every attempt failed and no hedge is left
                # The delay expired, or every launched attempt failed: launch the next hedge.
                if not can_hedge:
                    continue
                refusal = budget.try_spend() if budget is not None else None
                if refusal is not None:
                    throttled = refusal
                    continue
                launch(level)
        finally:
            losers = [t for t in tasks if not t.done()]
            for t in losers:
                t.cancel()
            if losers:
                await asyncio.wait(losers)
            for t in tasks:
                if t.done() and not t.cancelled():
                    t.exception()  # mark every failure as retrieved, even when we are unwinding

        attempts: list[Attempt] = []
        extra = 0.0
        errors: list[BaseException] = []
        for i, t in enumerate(tasks):
            end_ms = (ended.get(i, loop.time()) - start) * 1000.0
            common = (i, min(i, len(calls) - 1), (launched[i] - start) * 1000.0, end_ms)
            if t.cancelled():
                attempts.append(Attempt(*common, AttemptStatus.CANCELLED))
                if winner is not None and winner != i:
                    hedge_policy.observe(
                        Observation(end_ms - common[2], completed=False, attempt=i, work=work)
                    )
                continue
            exc = t.exception()
            if exc is not None:
                errors.append(exc)
                attempts.append(Attempt(*common, AttemptStatus.FAILED, error=exc))
                continue
            value = t.result()
            attempt_cost = cost(value)
            status = AttemptStatus.WON if i == winner else AttemptStatus.COMPLETED
            if status is AttemptStatus.COMPLETED:
                extra += attempt_cost or 0.0
            attempts.append(Attempt(*common, status, cost_usd=attempt_cost, value=value))
            hedge_policy.observe(
                Observation(end_ms - common[2], completed=True, attempt=i, work=work)
            )
        if budget is not None and extra:
            budget.charge(extra)
        cancelled = sum(a.status is AttemptStatus.CANCELLED for a in attempts)
        if span.is_recording():
            span.set_attribute(sc.CRUCIBLE_HEDGE_FIRED, len(tasks) > 1)
            span.set_attribute(sc.CRUCIBLE_HEDGE_ATTEMPTS, len(tasks))
            span.set_attribute(sc.CRUCIBLE_HEDGE_EXTRA_COST_USD, extra)
            span.set_attribute(HEDGE_POLICY, hedge_policy.name)
            span.set_attribute(HEDGE_CANCELLED, cancelled)
            if first_delay is not None:
                span.set_attribute(sc.CRUCIBLE_HEDGE_DELAY_MS, first_delay)
            if throttled is not None:
                span.set_attribute(HEDGE_THROTTLED, throttled)
            if winner is not None:
                span.set_attribute(sc.CRUCIBLE_HEDGE_WINNER, winner)
        if winner is None:
            error = errors[0]
            for other in errors[1:]:
                error.add_note(f"hedge attempt also failed: {type(other).__name__}: {other}")
            if span.is_recording():
                span.set_attribute(sc.ERROR_TYPE, type(error).__name__)
                span.set_status(Status(StatusCode.ERROR, str(error)))
            raise error
        return HedgeResult(
            value=tasks[winner].result(),
            winner=winner,
            attempts=tuple(attempts),
            hedge_fired=len(tasks) > 1,
            latency_ms=(ended[winner] - start) * 1000.0,
            extra_cost_usd=extra,
            cancelled=cancelled,
            throttled=throttled,
            policy=hedge_policy.name,
        )
