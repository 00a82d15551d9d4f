"""HedgedModel: the Model protocol, summed cost and usage, parameters passed through."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest

from crucible.core import Completion, Item, Model, SimulatedModel, Usage
from crucible.hedging import AttemptStatus, HedgedModel, HedgeResult, fixed, run_virtual


class Recording:
    """A model that records its parameters and answers when told."""

    def __init__(self, name: str, cost: float, gate: asyncio.Event | None = None) -> None:
        self.name = name
        self.cost = cost
        self.gate = gate
        self.params: list[dict[str, Any]] = []

    async def generate(self, prompt: Any, **params: Any) -> Completion:
        self.params.append(params)
        if self.gate is not None:
            await self.gate.wait()
        return Completion(
            text=self.name,
            model=self.name,
            provider="fake",
            usage=Usage(100, 10),
            cost_usd=self.cost,
        )


def test_is_a_model() -> None:
    assert isinstance(HedgedModel("sim:gpt-4", ["sim:claude-3"], fixed(100)), Model)


async def test_context_params_reach_every_member() -> None:
    primary = Recording("primary", 0.01, gate=asyncio.Event())
    backup = Recording("backup", 0.02)
    model = HedgedModel(primary, [backup], policy=fixed(0))
    item = Item("q1", "2+2?", expected="4")
    completion = await model.generate("2+2?", item=item, repeat=3, attempt=2, temperature=0.5)
    expected = {"item": item, "repeat": 3, "attempt": 2, "temperature": 0.5}
    assert primary.params == [expected]
    assert backup.params == [expected]
    assert completion.text == "backup"
    assert isinstance(completion.raw, HedgeResult)
    assert completion.raw.winner == 1


async def test_cost_and_usage_sum_every_completed_member() -> None:
    gate = asyncio.Event()
    primary = Recording("primary", 0.01, gate=gate)

    class Releasing(Recording):
        async def generate(self, prompt: Any, **params: Any) -> Completion:
            gate.set()  # the primary completes in the same loop turn
            return await super().generate(prompt, **params)

    model = HedgedModel(primary, [Releasing("backup", 0.02)], policy=fixed(0))
    completion = await model.generate("hi")
    result = completion.raw
    assert [a.status for a in result.attempts] == [AttemptStatus.WON, AttemptStatus.COMPLETED]
    assert completion.text == "primary"
    assert completion.cost_usd == pytest.approx(0.03)
    assert completion.usage == Usage(200, 20)
    assert result.extra_cost_usd == pytest.approx(0.02)


def test_simulated_replicas_cut_the_latency_of_a_slow_item() -> None:
    # Find an item on which replica 0 is slow and replica 1 is fast, then hedge at 1 s.
    slow = SimulatedModel("gpt-4", seed=0, time_scale=1.0, error_rate=0.0)
    fast = SimulatedModel("gpt-4", seed=1, time_scale=1.0, error_rate=0.0)

    async def latency(model: SimulatedModel, item: Item) -> float:
        return (
            await SimulatedModel(model.name, seed=model.seed, error_rate=0.0).generate(
                "q", item=item
            )
        ).latency_ms

    async def main() -> tuple[Item, float, float, Completion]:
        for i in range(500):
            item = Item(i, "q", expected="A")
            a, b = await latency(slow, item), await latency(fast, item)
            if a > 3000 and b < 500:
                hedged_model = HedgedModel(slow, [fast], policy=fixed(1000))
                return item, a, b, await hedged_model.generate("q", item=item)
        raise AssertionError("no slow item found")

    _item, a, b, completion = run_virtual(main())
    assert completion.raw.winner == 1
    assert completion.latency_ms == pytest.approx(1000.0 + b, rel=1e-6)
    assert completion.latency_ms < a


async def test_repr_and_name() -> None:
    model = HedgedModel("sim:gpt-4", "sim:claude-3", fixed(100))
    assert model.name == "hedged(sim:gpt-4)"
    assert repr(model) == (
        "HedgedModel('sim:gpt-4', backups=[sim:claude-3], policy='fixed', max_hedges=1)"
    )


async def test_workload_aware_delay_uses_the_request_size(spans: Any) -> None:
    from crucible.core import semconv as sc
    from crucible.hedging import workload_aware

    policy = workload_aware(
        base_ms=100, ms_per_prompt_token=0, ms_per_output_token=10, initial_multiplier=2
    )
    model = HedgedModel(Recording("m", 0.0), policy=policy, name="sized")
    await model.generate("hi", max_tokens=50)
    await model.generate("hi", max_tokens=150)
    delays = [
        s.attributes[sc.CRUCIBLE_HEDGE_DELAY_MS]
        for s in spans.get_finished_spans()
        if s.name == "hedge sized"
    ]
    assert delays == [1200.0, 3200.0]  # 2 * (100 + 10 * max_tokens)
