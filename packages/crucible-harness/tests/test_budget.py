from __future__ import annotations

from pathlib import Path

import polars as pl
import pytest

from crucible.core import BudgetExceededError
from crucible.harness import Budget, Condition, Limits, RunStatus, run
from crucible.harness._budget import BudgetGuard, CallEstimate

from .conftest import experiment, sim


def test_guard_admits_until_the_next_call_could_exceed() -> None:
    guard = BudgetGuard(Budget(usd=1.0))
    assert guard.reserve(CallEstimate(0.4, 10))
    assert guard.reserve(CallEstimate(0.4, 10))
    assert not guard.reserve(CallEstimate(0.4, 10))
    assert guard.reason is not None and "budget of $1.0000 reached" in guard.reason
    # once stopped, nothing else is launched, even a call that would fit
    assert not guard.reserve(CallEstimate(0.0, 0))


def test_guard_settles_reservations_with_actual_costs() -> None:
    guard = BudgetGuard(Budget(usd=1.0, tokens=100))
    est = CallEstimate(0.5, 40)
    assert guard.reserve(est)
    guard.settle(est, 0.2, 30)
    assert (guard.spent_usd, guard.spent_tokens) == (0.2, 30)
    assert (guard.reserved_usd, guard.reserved_tokens) == (0.0, 0)
    assert guard.reserve(CallEstimate(0.5, 60))
    assert not guard.reserve(CallEstimate(0.1, 20))
    assert guard.reason == "token budget of 100 reached: used 30 + in flight 60 + next call ~20"


def test_guard_starts_from_what_earlier_sessions_spent() -> None:
    guard = BudgetGuard(Budget(usd=1.0), spent_usd=0.95)
    assert not guard.reserve(CallEstimate(0.1, 1))


@pytest.mark.parametrize("concurrency", [1, 8])
async def test_budget_stops_the_run_with_bounded_overshoot(
    tmp_path: Path, concurrency: int
) -> None:
    budget = 0.05
    exp = experiment(
        n=30,
        repeats=2,
        conditions=[Condition("a", sim("model-b"))],
        limits=Limits(concurrency=concurrency),
        budget=Budget(usd=budget),
    )
    result = await run(exp, tmp_path)
    assert result.status is RunStatus.PARTIAL
    assert result.reason is not None and result.reason.startswith("budget of $0.0500 reached")
    spent = result.cost_usd
    assert 0 < result.trials.height < 60
    max_call = float(result.trials["cost_usd"].max())  # type: ignore[arg-type]
    # Calls in flight when the budget stopped the run may finish: at most `concurrency` of them.
    assert spent <= budget + concurrency * max_call
    if concurrency == 1:
        # One call at a time: the budget held before the last call started, so only that call's
        # excess over its estimate can overshoot.
        last = result.trials.sort("order")["cost_usd"][-1]
        assert spent - last <= budget


async def test_token_budget_counts_every_token_kind(tmp_path: Path) -> None:
    exp = experiment(
        n=20,
        repeats=1,
        conditions=[Condition("a", sim())],
        limits=Limits(concurrency=1),
        budget=Budget(tokens=1500),
    )
    result = await run(exp, tmp_path)
    used = result.trials.select(
        pl.sum("input_tokens") + pl.sum("output_tokens") + pl.sum("reasoning_tokens")
    ).item()
    assert result.status is RunStatus.PARTIAL
    assert used <= 1500
    assert "token budget of 1500 reached" in (result.reason or "")


async def test_on_exceed_raise_carries_the_partial_result(tmp_path: Path) -> None:
    exp = experiment(
        n=20,
        repeats=1,
        conditions=[Condition("a", sim("model-b"))],
        budget=Budget(usd=0.01, on_exceed="raise"),
    )
    with pytest.raises(BudgetExceededError, match=r"budget of \$0\.0100 reached") as info:
        await run(exp, tmp_path)
    partial = info.value.result  # type: ignore[attr-defined]
    assert partial.status is RunStatus.PARTIAL
    assert partial.trials.height > 0
