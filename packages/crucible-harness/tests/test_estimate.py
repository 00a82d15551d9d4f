from __future__ import annotations

import math

import pytest

from crucible.core import Completion, Item, Usage
from crucible.harness import (
    Condition,
    Experiment,
    ExperimentError,
    Limits,
    RateLimit,
    TrialContext,
    estimate,
    estimate_async,
)

from .conftest import arithmetic, sim


def test_estimate_from_prompts_profile_and_price_table() -> None:
    data = arithmetic(10)
    exp = Experiment(
        "e",
        data,
        [Condition("a", sim("model-a"), prompt="Q: {input}")],
        scorers=["numeric"],
        repeats=3,
    )
    est = estimate(exp)
    (cond,) = est.conditions
    prompt_tokens = sum(math.ceil(len(f"Q: {it.input}") / 4) for it in data)
    assert cond.calls == 30
    assert cond.input_tokens == prompt_tokens * 3
    assert cond.output_tokens == 100 * 30  # the simulated profile's mean output
    # sim:model-a is priced $2 / $10 per million input / output tokens
    assert cond.cost_usd == pytest.approx((prompt_tokens * 3 * 2.0 + 3000 * 10.0) / 1e6)
    assert cond.simulated and cond.basis == "price table"
    assert est.billable_usd == 0.0
    assert est.cost_usd == cond.cost_usd
    assert "total: 30 calls" in str(est)


def test_max_tokens_bounds_the_output_estimate() -> None:
    exp = Experiment(
        "e", arithmetic(4), [Condition("a", sim(), params={"max_tokens": 16})], scorers=["numeric"]
    )
    assert estimate(exp).conditions[0].output_tokens == 4 * 16


async def test_pilot_measures_tokens_and_cost_of_unpriced_pipelines() -> None:
    calls: list[str] = []

    async def pipeline(item: Item, context: TrialContext) -> Completion:
        calls.append(item.id)
        return Completion("x", "p", "custom", Usage(50, 7), cost_usd=0.01)

    exp = Experiment(
        "e", arithmetic(10), [Condition("p", pipeline)], scorers=["numeric"], repeats=2
    )
    blind = await estimate_async(exp)
    assert blind.conditions[0].cost_usd is None
    assert blind.unknown_cost == ["p"]
    assert blind.cost_usd is None
    piloted = await estimate_async(exp, pilot=3)
    cond = piloted.conditions[0]
    assert calls == ["q0", "q1", "q2"]
    assert cond.basis == "pilot"
    assert (cond.input_tokens, cond.output_tokens) == (50 * 20, 7 * 20)
    assert cond.cost_usd == pytest.approx(0.01 * 20)
    assert piloted.billable_usd == pytest.approx(0.2)


def test_wall_time_follows_concurrency_and_rate_limits() -> None:
    slow = sim("model-a", time_scale=1.0)
    exp = Experiment(
        "e",
        arithmetic(20),
        [Condition("a", slow)],
        scorers=["numeric"],
        limits=Limits(concurrency=10),
    )
    mean_s = slow.profile.latency.mean_ms / 1000.0
    assert estimate(exp).wall_s == pytest.approx(20 * mean_s / 10)
    limited = exp.with_options(limits=Limits(concurrency=10, rate_limit=RateLimit(rpm=60)))
    assert estimate(limited).wall_s == pytest.approx(20.0)  # 20 calls at one per second


def test_pilot_must_be_a_count() -> None:
    exp = Experiment("e", arithmetic(2), [Condition("a", sim())], scorers=["numeric"])
    with pytest.raises(ExperimentError, match="`pilot` must be an int >= 0"):
        estimate(exp, pilot=-1)
