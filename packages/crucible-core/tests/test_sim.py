from __future__ import annotations

import asyncio
import itertools
import math
import random
from collections import Counter

import numpy as np
import pytest

from crucible.core import (
    PRESETS,
    ConfigurationError,
    Item,
    LatencyProfile,
    ProviderError,
    ProviderTimeoutError,
    RateLimitError,
    ServerError,
    SimProfile,
    SimulatedModel,
    get_model,
)

FIVE = ["gpt-4", "claude-3", "gemini-pro", "llama-3", "mixtral"]


def mc_items(n: int) -> list[Item]:
    return [
        Item(
            f"q{i}",
            f"Question {i}?",
            expected="ABCD"[i % 4],
            metadata={"choices": ["w", "x", "y", "z"]},
        )
        for i in range(n)
    ]


async def answers(model: SimulatedModel, items: list[Item], repeat: int = 0) -> list[str]:
    return [(await model.generate(it.input, item=it, repeat=repeat)).text for it in items]


async def test_same_answers_under_any_order_and_concurrency() -> None:
    items = mc_items(300)
    model = SimulatedModel("llama-3", seed=11, error_rate=0.0)
    sequential = await answers(model, items)
    shuffled = list(enumerate(items))
    random.Random(3).shuffle(shuffled)
    results = await asyncio.gather(*(model.generate(it.input, item=it) for _, it in shuffled))
    concurrent = {idx: c.text for (idx, _), c in zip(shuffled, results, strict=True)}
    assert [concurrent[i] for i in range(len(items))] == sequential
    fresh = SimulatedModel("llama-3", seed=11, error_rate=0.0)
    assert await answers(fresh, items) == sequential
    other_seed = SimulatedModel("llama-3", seed=12, error_rate=0.0)
    assert await answers(other_seed, items) != sequential


async def test_accuracy_matches_profile() -> None:
    items = mc_items(4000)
    for name in ("gpt-4", "mixtral", "model-a"):
        model = SimulatedModel(name, seed=0, error_rate=0.0)
        got = await answers(model, items)
        acc = np.mean([a == it.expected for a, it in zip(got, items, strict=True)])
        p = PRESETS[name].accuracy
        se = math.sqrt(p * (1 - p) / len(items))
        assert abs(acc - p) < 4 * se, (name, acc, p)


async def test_wrong_answers_are_of_the_right_kind() -> None:
    model = SimulatedModel("mixtral", seed=1, accuracy=0.0, error_rate=0.0)
    mc = mc_items(50)
    for a, it in zip(await answers(model, mc), mc, strict=True):
        assert a in "ABCD" and a != it.expected
    nums = [Item(f"n{i}", "How many?", expected=str(100 + i)) for i in range(50)]
    for a, it in zip(await answers(model, nums), nums, strict=True):
        assert a != it.expected
        assert float(a.replace(",", "")) != float(it.expected)
    booleans = [Item("b", "Is it?", expected=True), Item("c", "Is it?", expected="yes")]
    assert await answers(model, booleans) == ["False", "no"]
    tqa = Item(
        "t", "What happens?", expected="Nothing", metadata={"incorrect_answers": ["You die"]}
    )
    assert await answers(model, [tqa]) == ["You die"]


async def test_arithmetic_without_item() -> None:
    model = SimulatedModel("gpt-4", seed=0, accuracy=1.0, error_rate=0.0)
    c = await model.generate("What is 2+2?")
    assert c.text == "4"
    assert (await model.generate("12 * 3 = ?")).text == "36"
    generic = await model.generate("Tell me a story")
    assert generic.text == "Simulated answer from sim:gpt-4."


async def test_presets_disagree_on_about_15_percent_and_majority_helps() -> None:
    items = mc_items(1500)
    models = [SimulatedModel(n, seed=5, error_rate=0.0) for n in FIVE]
    table = [await answers(m, items) for m in models]
    pairwise = np.mean(
        [
            np.mean([a != b for a, b in zip(x, y, strict=True)])
            for x, y in itertools.combinations(table, 2)
        ]
    )
    assert 0.11 < pairwise < 0.19
    accs = [np.mean([a == it.expected for a, it in zip(col, items, strict=True)]) for col in table]
    majority = np.mean(
        [
            Counter(votes).most_common(1)[0][0] == it.expected
            for votes, it in zip(zip(*table, strict=True), items, strict=True)
        ]
    )
    assert majority > np.mean(accs) + 0.02


async def test_errors_are_typed_deterministic_and_depend_on_attempt() -> None:
    model = SimulatedModel("gpt-4", seed=2, error_rate=0.3)
    items = mc_items(400)
    kinds: Counter[str] = Counter()
    failed: list[Item] = []
    for it in items:
        try:
            await model.generate(it.input, item=it)
        except ProviderError as exc:
            kinds[type(exc).__name__] += 1
            failed.append(it)
            assert exc.provider == "sim" and exc.model == "gpt-4"
    assert 0.24 < len(failed) / len(items) < 0.36
    assert set(kinds) == {"RateLimitError", "ProviderTimeoutError", "ServerError"}
    # The same call fails again; a retry (next attempt) is a fresh draw.
    with pytest.raises((RateLimitError, ProviderTimeoutError, ServerError)):
        await model.generate(failed[0].input, item=failed[0])
    recovered = 0
    for it in failed:
        try:
            await model.generate(it.input, item=it, attempt=1)
            recovered += 1
        except ProviderError:
            pass
    assert recovered > len(failed) * 0.5


async def test_usage_cost_latency_and_confidence() -> None:
    model = SimulatedModel("model-a", seed=0, input_tokens=500, output_tokens=100)
    costs, lat = [], []
    for it in mc_items(2000):
        c = await model.generate("q", item=it)
        assert c.usage.input_tokens == 500
        assert c.cost_usd == pytest.approx((500 * 2.0 + c.usage.output_tokens * 10.0) / 1e6)
        assert c.confidence is not None and 0 < c.confidence < 1
        assert c.ttft_ms is not None and c.ttft_ms < c.latency_ms
        costs.append(c.cost_usd)
        lat.append(c.latency_ms)
    assert np.mean(costs) == pytest.approx(0.002, rel=0.05)
    assert np.mean(lat) == pytest.approx(800, rel=0.05)


def test_demo_latency_quantiles() -> None:
    prof = PRESETS["gpt-4"].latency
    for p, target in ((0.5, 500), (0.95, 2000), (0.99, 5000)):
        assert prof.quantile(p) == pytest.approx(target, rel=1e-6)
    draws = prof.sample(np.random.default_rng(0), 400_000)
    assert np.quantile(draws, 0.99) == pytest.approx(5000, rel=0.05)
    assert np.mean(draws > 2000) == pytest.approx(0.05, abs=0.002)
    assert prof.sf(2000) == pytest.approx(0.05)


async def test_time_scale_waits_scaled_latency() -> None:
    model = SimulatedModel("model-b", seed=0, time_scale=0.001)
    loop = asyncio.get_running_loop()
    start = loop.time()
    c = await model.generate("hello", item=Item("x", "hello", expected="A"))
    waited = loop.time() - start
    assert waited >= c.latency_ms / 1000 * 0.001 * 0.9


async def test_cancellation_stops_a_waiting_call() -> None:
    model = SimulatedModel("model-b", seed=0, time_scale=10.0)
    task = asyncio.create_task(model.generate("hello"))
    await asyncio.sleep(0)
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task


def test_bad_profiles_and_names() -> None:
    with pytest.raises(ConfigurationError, match=r"presets are .*gpt-4"):
        get_model("sim:gpt-5")
    with pytest.raises(ConfigurationError, match="accuracy"):
        SimProfile(accuracy=1.5, latency=LatencyProfile.lognormal(100, 0.3))
    with pytest.raises(ConfigurationError, match="unknown simulated-model option"):
        SimulatedModel("gpt-4", accuracyy=0.5)
    with pytest.raises(ConfigurationError, match="error_mix"):
        SimProfile(
            accuracy=0.5, latency=LatencyProfile.lognormal(100, 0.3), error_mix={"boom": 1.0}
        )
    with pytest.raises(ConfigurationError, match="quantiles must increase"):
        LatencyProfile.from_quantiles(500, 400, 5000)
    custom = SimulatedModel(
        "my-model", SimProfile(accuracy=0.5, latency=LatencyProfile.lognormal(100, 0.3))
    )
    assert custom.spec == "sim:my-model"
