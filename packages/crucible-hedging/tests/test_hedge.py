"""hedged(): who wins, what is cancelled, what is counted, what the span says."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest

from crucible.core import ServerError
from crucible.core import semconv as sc
from crucible.hedging import (
    AttemptStatus,
    HedgeBudget,
    fixed,
    hedged,
    percentile,
    run_virtual,
    tiered,
)


async def test_fast_primary_wins_without_a_hedge(script: Any) -> None:
    result = await hedged(script.answer("primary"), policy=fixed(10_000))
    assert result.value.text == "primary"
    assert (result.winner, result.hedge_fired, result.cancelled) == (0, False, 0)
    assert [a.status for a in result.attempts] == [AttemptStatus.WON]
    assert result.extra_cost_usd == 0.0


async def test_hung_primary_is_cancelled_when_the_hedge_wins(script: Any) -> None:
    result = await hedged([script.hang("primary"), script.answer("backup")], policy=fixed(0))
    assert result.value.text == "backup"
    assert (result.winner, result.hedge_fired, result.cancelled) == (1, True, 1)
    assert script.cancelled == ["primary"]
    assert [a.status for a in result.attempts] == [AttemptStatus.CANCELLED, AttemptStatus.WON]
    assert [a.call_index for a in result.attempts] == [0, 1]


def test_hedge_fires_at_the_delay_on_a_virtual_clock(script: Any) -> None:
    # primary 5 s; hedge at 2 s answers after 1 s -> the call takes 3 s.
    result = run_virtual(
        hedged([script.after(5, "primary"), script.after(1, "backup")], policy=fixed(2000))
    )
    assert result.winner == 1
    assert result.latency_ms == pytest.approx(3000.0)
    assert result.attempts[1].launched_ms == pytest.approx(2000.0)
    assert result.attempts[0].status is AttemptStatus.CANCELLED
    assert result.attempts[0].ended_ms == pytest.approx(3000.0)


def test_no_hedge_when_primary_beats_the_delay(script: Any) -> None:
    result = run_virtual(
        hedged([script.after(1.5, "primary"), script.after(1, "backup")], policy=fixed(2000))
    )
    assert (result.winner, result.hedge_fired) == (0, False)
    assert result.latency_ms == pytest.approx(1500.0)
    assert script.started == ["primary"]


def test_primary_can_still_win_after_the_hedge_fired(script: Any) -> None:
    result = run_virtual(
        hedged([script.after(2.5, "primary"), script.after(5, "backup")], policy=fixed(2000))
    )
    assert (result.winner, result.hedge_fired, result.cancelled) == (0, True, 1)
    assert script.cancelled == ["backup"]
    assert result.latency_ms == pytest.approx(2500.0)


def test_multi_level_tiers_fire_at_successive_delays(script: Any) -> None:
    calls = [script.after(10, "same"), script.after(10, "same-again"), script.after(0.05, "other")]
    result = run_virtual(hedged(calls, policy=tiered(100, 300)))
    assert [a.launched_ms for a in result.attempts] == pytest.approx([0.0, 100.0, 300.0])
    assert result.winner == 2
    assert result.latency_ms == pytest.approx(350.0)
    assert result.cancelled == 2


def test_single_call_hedges_against_itself_k_times(script: Any) -> None:
    result = run_virtual(hedged(script.after(1, "x"), policy=fixed(400), max_hedges=2))
    # Attempts at 0, 400, 800 ms; the first answers at 1000 ms, before the others.
    assert [a.launched_ms for a in result.attempts] == pytest.approx([0.0, 400.0, 800.0])
    assert (result.winner, result.cancelled) == (0, 2)
    assert [a.call_index for a in result.attempts] == [0, 0, 0]


async def test_cost_of_a_loser_that_completed_is_counted(script: Any) -> None:
    release = asyncio.Event()

    async def backup() -> Any:
        release.set()  # wakes the primary in the same loop turn as the backup answers
        return await script.answer("backup", cost=0.02)()

    primary = script.hang("primary", until=release)
    result = await hedged([primary, backup], policy=fixed(0))
    statuses = {a.index: a.status for a in result.attempts}
    assert statuses == {0: AttemptStatus.WON, 1: AttemptStatus.COMPLETED}
    assert result.extra_cost_usd == pytest.approx(0.02)
    assert result.cancelled == 0


async def test_failed_primary_fails_over_at_once(script: Any) -> None:
    result = await hedged(
        [script.fail(ServerError("boom")), script.answer("backup")], policy=fixed(60_000)
    )
    assert result.winner == 1
    assert result.attempts[0].status is AttemptStatus.FAILED
    assert isinstance(result.attempts[0].error, ServerError)


async def test_every_attempt_failing_raises_the_first_error_with_notes(script: Any) -> None:
    calls = [script.fail(ServerError("first")), script.fail(TimeoutError("second"))]
    with pytest.raises(ServerError, match="first") as info:
        await hedged(calls, policy=fixed(0))
    assert any("second" in note for note in info.value.__notes__)


async def test_unlearned_percentile_does_not_hedge(script: Any) -> None:
    result = await hedged([script.answer("p"), script.answer("b")], policy=percentile(95))
    assert (result.hedge_fired, len(result.attempts)) == (False, 1)


def test_budget_without_credits_runs_unhedged_and_says_so(script: Any) -> None:
    budget = HedgeBudget(ratio=0.0, burst=1)

    async def two_calls() -> list[Any]:
        out = []
        for _ in range(2):
            calls = [script.after(3, "primary"), script.after(1, "backup")]
            out.append(await hedged(calls, policy=fixed(1000), budget=budget))
        return out

    first, second = run_virtual(two_calls())
    assert first.hedge_fired and first.throttled is None
    assert not second.hedge_fired
    assert second.throttled == "no hedge credits left (ratio=0, burst=1)"
    assert second.latency_ms == pytest.approx(3000.0)
    assert (budget.calls, budget.hedges, budget.refused) == (2, 1, 1)


async def test_extra_dollar_cap_stops_hedging(script: Any) -> None:
    budget = HedgeBudget(ratio=1.0, burst=5, max_extra_usd=0.01)
    release = asyncio.Event()

    async def backup() -> Any:
        release.set()
        return await script.answer("backup", cost=0.02)()

    first = await hedged([script.hang("p", until=release), backup], policy=fixed(0), budget=budget)
    assert first.extra_cost_usd == pytest.approx(0.02)
    assert budget.spent_usd == pytest.approx(0.02)
    second = await hedged([script.answer("p"), script.answer("b")], policy=fixed(0), budget=budget)
    assert second.throttled is not None and "max_extra_usd" in second.throttled
    assert not second.hedge_fired


async def test_span_records_decision_winner_and_extra_cost(script: Any, spans: Any) -> None:
    await hedged([script.hang("primary"), script.answer("backup")], policy=fixed(0), name="demo")
    (span,) = [s for s in spans.get_finished_spans() if s.name == "hedge demo"]
    attrs = dict(span.attributes)
    assert attrs[sc.CRUCIBLE_HEDGE_FIRED] is True
    assert attrs[sc.CRUCIBLE_HEDGE_WINNER] == 1
    assert attrs[sc.CRUCIBLE_HEDGE_ATTEMPTS] == 2
    assert attrs[sc.CRUCIBLE_HEDGE_DELAY_MS] == 0.0
    assert attrs[sc.CRUCIBLE_HEDGE_EXTRA_COST_USD] == 0.0
    assert attrs["crucible.hedge.policy"] == "fixed"
    assert attrs["crucible.hedge.cancelled"] == 1


async def test_outer_cancellation_cancels_every_attempt(script: Any) -> None:
    running = {"primary": asyncio.Event(), "backup": asyncio.Event()}

    def started(name: str) -> Any:
        async def call() -> Any:
            running[name].set()
            return await script.hang(name)()

        return call

    task = asyncio.create_task(hedged([started("primary"), started("backup")], policy=fixed(0)))
    await asyncio.wait_for(asyncio.gather(*(e.wait() for e in running.values())), 5)
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    assert sorted(script.cancelled) == ["backup", "primary"]


def test_result_to_dict_and_str(script: Any) -> None:
    result = run_virtual(
        hedged([script.after(5, "primary"), script.after(1, "backup")], policy=fixed(2000))
    )
    data = result.to_dict()
    assert data["winner"] == 1
    assert [a["status"] for a in data["attempts"]] == ["cancelled", "won"]
    assert str(result).startswith("HedgeResult(winner=1, 1 hedge(s), 1 cancelled, 3000.0 ms")


async def test_factory_raising_before_awaiting_is_a_failed_attempt(script: Any) -> None:
    def broken() -> Any:
        raise ServerError("refused before sending")

    result = await hedged([broken, script.answer("backup")], policy=fixed(60_000))
    assert result.winner == 1
    assert result.attempts[0].status is AttemptStatus.FAILED
    assert str(result.attempts[0].error) == "refused before sending"
