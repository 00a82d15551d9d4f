"""Execution strategies: which members are called, in what order, and when to stop.

* ``parallel``: every member at once.
* ``sequential``: one member at a time, in ensemble order, stopping as soon as the remaining
  members cannot change the outcome (and the quorum is met).
* ``hedged``: every member at once, each call hedged through crucible-hedging.
* ``cascade``: cheapest member first; stop when the last answer is confident enough or enough
  members agree, else escalate to the next (Chen, Zaharia & Zou, "FrugalGPT", 2023).
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Sequence
from enum import StrEnum

import attrs

from crucible.ensemble._result import MemberResult
from crucible.ensemble._voting import Ballot, Decision, VotingRule

__all__ = ["ExecutionName", "Plan", "RunContext", "ballots", "run_strategy"]


class ExecutionName(StrEnum):
    """The built-in execution strategies."""

    PARALLEL = "parallel"
    SEQUENTIAL = "sequential"
    HEDGED = "hedged"
    CASCADE = "cascade"


CallMember = Callable[[int], Awaitable[MemberResult]]


@attrs.frozen(slots=True)
class RunContext:
    """What a strategy needs: how to call member ``i`` and how votes are judged."""

    call: CallMember
    order: tuple[int, ...]
    labels: tuple[str, ...]
    weights: tuple[float, ...]
    voting: VotingRule
    quorum: int
    confidence_threshold: float
    agreement_threshold: float


@attrs.frozen(slots=True)
class Plan:
    """What a strategy did: the members it called, why it stopped, and a decision it made
    itself (cascade acceptance), if any."""

    results: dict[int, MemberResult]
    skipped: str | None = None
    decision: Decision | None = None
    escalations: tuple[str, ...] = ()


def ballots(results: Sequence[MemberResult]) -> list[Ballot]:
    """The ballots of the members that answered."""
    return [
        Ballot(r.index, r.member, r.answer, r.weight, r.confidence)
        for r in results
        if r.completion is not None
    ]


def _valid(results: Sequence[MemberResult]) -> int:
    return sum(r.answer is not None for r in results)


async def _parallel(ctx: RunContext) -> Plan:
    results = await asyncio.gather(*(ctx.call(i) for i in ctx.order))
    return Plan({r.index: r for r in results})


async def _sequential(ctx: RunContext) -> Plan:
    results: dict[int, MemberResult] = {}
    for step, i in enumerate(ctx.order):
        results[i] = await ctx.call(i)
        rest = ctx.order[step + 1 :]
        if not rest:
            break
        done = list(results.values())
        if _valid(done) >= ctx.quorum and ctx.voting.settled(
            ballots(done), [ctx.weights[j] for j in rest]
        ):
            return Plan(
                results,
                skipped=(
                    f"early stop: the outcome was settled after {len(results)} of "
                    f"{len(ctx.order)} members, the rest could not change it"
                ),
            )
    return Plan(results)


def _why_not_confident(result: MemberResult, threshold: float) -> str:
    if result.error is not None:
        return f"failed ({type(result.error).__name__})"
    if result.answer is None:
        return "no usable answer"
    if result.confidence is None:
        return f"answered {result.answer!r} with no confidence"
    return f"answered {result.answer!r} with confidence {result.confidence:.3f} < {threshold:g}"


async def _cascade(ctx: RunContext) -> Plan:
    results: dict[int, MemberResult] = {}
    escalations: list[str] = []
    for step, i in enumerate(ctx.order):
        result = await ctx.call(i)
        results[i] = result
        done = list(results.values())
        cast = ballots(done)
        current = ctx.voting.decide(cast)
        valid = _valid(done)
        quorate = valid >= ctx.quorum
        if (
            quorate
            and result.answer is not None
            and result.confidence is not None
            and result.confidence >= ctx.confidence_threshold
        ):
            agreeing = current.tally.get(result.answer, 0.0)
            total = sum(current.tally.values())
            decision = Decision(
                result.answer,
                agreeing / total if total else 0.0,
                current.tally,
                f"cascade: accepted {result.member}'s answer {result.answer!r}, confidence "
                f"{result.confidence:.3f} >= confidence_threshold {ctx.confidence_threshold:g}",
            )
            return Plan(results, _stopped(step, ctx), decision, tuple(escalations))
        agreement = current.consensus
        if (
            quorate
            and valid >= 2
            and current.answer is not None
            and agreement >= ctx.agreement_threshold
        ):
            decision = attrs.evolve(
                current,
                decided_by=(
                    f"cascade: {valid} answers agree {agreement:.0%} on {current.answer!r} "
                    f">= agreement_threshold {ctx.agreement_threshold:.0%}"
                ),
            )
            return Plan(results, _stopped(step, ctx), decision, tuple(escalations))
        rest = ctx.order[step + 1 :]
        if rest:
            reason = _why_not_confident(result, ctx.confidence_threshold)
            if valid >= 2:
                reason += f"; agreement {agreement:.0%} < {ctx.agreement_threshold:.0%}"
            elif not quorate:
                reason += f"; {valid} usable answer(s) < quorum {ctx.quorum}"
            escalations.append(f"{result.member} {reason} -> escalate to {ctx.labels[rest[0]]}")
    final = ctx.voting.decide(ballots(list(results.values())))
    decision = attrs.evolve(
        final, decided_by=f"cascade exhausted every member, then {final.decided_by}"
    )
    return Plan(results, None, decision, tuple(escalations))


def _stopped(step: int, ctx: RunContext) -> str | None:
    if step + 1 >= len(ctx.order):
        return None
    return f"cascade stopped after {step + 1} of {len(ctx.order)} members"


_STRATEGIES: dict[ExecutionName, Callable[[RunContext], Awaitable[Plan]]] = {
    ExecutionName.PARALLEL: _parallel,
    ExecutionName.SEQUENTIAL: _sequential,
    ExecutionName.HEDGED: _parallel,  # the members themselves are hedged
    ExecutionName.CASCADE: _cascade,
}


async def run_strategy(name: ExecutionName, ctx: RunContext) -> Plan:
    """Run the strategy called ``name``."""
    return await _STRATEGIES[name](ctx)
