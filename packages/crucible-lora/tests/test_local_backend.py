"""The local backend: training calls, losses, checkpoints and samplers."""

from __future__ import annotations

import asyncio
from pathlib import Path

import numpy as np
import pytest

from crucible.core import Completion, Model, ValidationError
from crucible.lora import (
    AdamParams,
    CheckpointError,
    CustomLossResult,
    Datum,
    LocalBackend,
    LoraConfig,
    create_backend,
    load_sampler,
)

from .conftest import TASK


def data(backend: LocalBackend) -> list[Datum]:
    return [
        Datum.from_prompt_completion(backend.encode(t["prompt"]), backend.encode(t["completion"]))
        for t in TASK
    ]


async def test_cross_entropy_matches_the_logprobs(backend: LocalBackend) -> None:
    batch = data(backend)
    out = await backend.forward(batch, "cross_entropy")
    assert len(out.loss_fn_outputs) == len(batch)
    expected = -sum(
        float((o["logprobs"] * d.weights).sum())
        for o, d in zip(out.loss_fn_outputs, batch, strict=True)
    )
    assert out.metrics["loss:sum"] == pytest.approx(expected, rel=1e-9)
    assert all(
        o["logprobs"].shape == (d.length,) for o, d in zip(out.loss_fn_outputs, batch, strict=True)
    )
    # forward alone leaves no gradient behind.
    assert backend.gradients() == {}


async def test_training_lowers_the_loss_and_only_adapters_change(backend: LocalBackend) -> None:
    batch = data(backend)
    before = (await backend.forward(batch, "cross_entropy")).loss
    base_before = {k: v.copy() for k, v in backend._weights.params.items()}
    for _ in range(15):
        await backend.forward_backward(batch, "cross_entropy")
        await backend.optim_step(AdamParams(learning_rate=3e-3))
    after = (await backend.forward(batch, "cross_entropy")).loss
    assert after < 0.5 * before
    assert backend.step == 15
    for k, v in backend._weights.params.items():
        np.testing.assert_array_equal(v, base_before[k])


async def test_gradients_accumulate_until_optim_step(config: LoraConfig) -> None:
    backend = LocalBackend(config, dtype=np.float64)
    batch = data(backend)
    await backend.forward_backward(batch[:3], "cross_entropy")
    await backend.forward_backward(batch[3:], "cross_entropy")
    accumulated = backend.gradients()
    other = LocalBackend(backend.config, dtype=np.float64)
    await other.forward_backward(batch, "cross_entropy")
    for k, g in other.gradients().items():
        np.testing.assert_allclose(accumulated[k], g, rtol=1e-9, atol=1e-12)
    await backend.optim_step(AdamParams())
    assert backend.gradients() == {}
    with pytest.raises(ValidationError, match="call `forward_backward` before `optim_step`"):
        await backend.optim_step(AdamParams())


async def test_custom_loss_reproduces_cross_entropy(config: LoraConfig) -> None:
    a, b = LocalBackend(config, dtype=np.float64), LocalBackend(config, dtype=np.float64)
    batch = data(a)

    def nll(ds: list[Datum], logprobs: list[np.ndarray]) -> CustomLossResult:
        loss = -sum(float((lp * d.weights).sum()) for d, lp in zip(ds, logprobs, strict=True))
        return CustomLossResult(loss, [-d.weights for d in ds], {"custom:sum": 1.0})

    out = await a.forward_backward_custom(batch, nll)
    ref = await b.forward_backward(batch, "cross_entropy")
    assert out.metrics["loss:sum"] == pytest.approx(ref.metrics["loss:sum"], rel=1e-9)
    assert out.metrics["custom:sum"] == 1.0
    for k, g in b.gradients().items():
        np.testing.assert_allclose(a.gradients()[k], g, rtol=1e-9, atol=1e-12)


async def test_importance_sampling_with_equal_logprobs_is_weighted_nll_gradient(
    config: LoraConfig,
) -> None:
    # With q = p the ratio is 1, so d/dθ of −Σ ratio·A equals d/dθ of −Σ A·lp.
    a, b = LocalBackend(config, dtype=np.float64), LocalBackend(config, dtype=np.float64)
    batch = data(a)
    lps = [o["logprobs"] for o in (await a.forward(batch, "cross_entropy")).loss_fn_outputs]
    rl = [
        Datum(
            d.model_input,
            {"target_tokens": d.target_tokens, "logprobs": lp, "advantages": d.weights * 2.0},
        )
        for d, lp in zip(batch, lps, strict=True)
    ]
    sl = [
        Datum(d.model_input, {"target_tokens": d.target_tokens, "weights": d.weights * 2.0})
        for d in batch
    ]
    await a.forward_backward(rl, "importance_sampling")
    await b.forward_backward(sl, "cross_entropy")
    for k, g in b.gradients().items():
        np.testing.assert_allclose(a.gradients()[k], g, rtol=1e-9, atol=1e-12)


async def test_state_round_trip_restores_weights_and_optimizer(
    backend: LocalBackend, config: LoraConfig, tmp_path: Path
) -> None:
    batch = data(backend)
    await backend.forward_backward(batch, "cross_entropy")
    await backend.optim_step(AdamParams(learning_rate=1e-3))
    path = await backend.save_state("s1")
    assert Path(path).name == "s1.safetensors"
    twin = LocalBackend(config, checkpoint_dir=tmp_path / "twin")
    await twin.load_state(path)
    assert twin.step == 1
    for k, v in backend.adapters.items():
        np.testing.assert_array_equal(twin.adapters[k], v)
    # The next step is identical: the optimizer moments came back too.
    for b in (backend, twin):
        await b.forward_backward(batch, "cross_entropy")
        await b.optim_step(AdamParams(learning_rate=1e-3))
    for k, v in backend.adapters.items():
        np.testing.assert_array_equal(twin.adapters[k], v)
    fresh = LocalBackend(config)
    await fresh.load_state(path, with_optimizer=False)
    assert fresh.step == 0


async def test_bad_checkpoint_paths(backend: LocalBackend, tmp_path: Path) -> None:
    with pytest.raises(CheckpointError, match=r"`path` .* does not exist"):
        await backend.load_state(str(tmp_path / "missing.safetensors"))
    with pytest.raises(CheckpointError, match="is not a file"):
        await backend.load_state(str(tmp_path))
    junk = tmp_path / "junk.safetensors"
    junk.write_bytes(b"not a checkpoint")
    with pytest.raises(CheckpointError, match="not a readable safetensors"):
        await backend.load_state(str(junk))
    await backend.forward_backward(data(backend)[:1], "cross_entropy")
    sampler = await backend.save_weights_for_sampler("w")
    with pytest.raises(CheckpointError, match="kind 'sampler'; expected 'state'"):
        await backend.load_state(sampler.path)
    other = LocalBackend(LoraConfig(rank=2, seed=0))
    state = await backend.save_state("r4")
    with pytest.raises(CheckpointError, match="another shape"):
        await other.load_state(state)
    with pytest.raises(ValidationError, match="checkpoint `name`"):
        await backend.save_state("../escape")


def test_a_partially_written_checkpoint_is_never_loaded(backend: LocalBackend) -> None:
    path = Path(asyncio.run(backend.save_state("good")))
    whole = path.read_bytes()
    truncated = path.with_name("cut.safetensors")
    truncated.write_bytes(whole[: len(whole) // 2])
    with pytest.raises(CheckpointError, match="not a readable safetensors"):
        asyncio.run(backend.load_state(str(truncated)))
    # Writes go through a temporary file: no stray files are left beside the checkpoint.
    assert sorted(p.name for p in path.parent.iterdir()) == ["cut.safetensors", "good.safetensors"]


async def test_sampler_is_a_model(backend: LocalBackend) -> None:
    sampler = await backend.save_weights_for_sampler("base-copy")
    assert isinstance(sampler, Model)
    c = await sampler.generate("The early", max_tokens=30, temperature=0, stop="\n")
    assert isinstance(c, Completion)
    # The shipped base model learned its proverbs.
    assert c.text == " bird catches the worm."
    assert c.finish_reason == "stop"
    assert c.provider == "lora-local"
    assert c.cost_usd == 0.0
    assert c.usage.input_tokens == len("The early")
    assert c.logprobs is not None and len(c.logprobs) == c.usage.output_tokens
    assert all(lp.logprob <= 0 for lp in c.logprobs)
    assert c.latency_ms > 0
    again = await load_sampler(sampler.path).generate(
        "The early", max_tokens=30, temperature=0, stop="\n"
    )
    assert again.text == c.text
    s1 = await sampler.generate("The", max_tokens=20, temperature=1.0, seed=3)
    s2 = await sampler.generate("The", max_tokens=20, temperature=1.0, seed=3)
    assert s1.text == s2.text


async def test_bad_training_input(backend: LocalBackend) -> None:
    with pytest.raises(ValidationError, match="`data` is empty"):
        await backend.forward_backward([], "cross_entropy")
    with pytest.raises(ValidationError, match="unknown `loss_fn` 'l2'"):
        await backend.forward_backward(data(backend), "l2")
    long = Datum(list(range(200)), {"target_tokens": list(range(200))})
    with pytest.raises(ValidationError, match="`data` must be a list of Datum"):
        await backend.forward(long, "cross_entropy")  # type: ignore[arg-type]
    with pytest.raises(ValidationError, match=r"`data\[0\]` has 200 tokens"):
        await backend.forward([long], "cross_entropy")
    bad = Datum([1, 2], {"target_tokens": [2, 999]})
    with pytest.raises(ValidationError, match="outside the vocabulary"):
        await backend.forward([bad], "cross_entropy")


def test_backend_by_name(config: LoraConfig) -> None:
    backend = create_backend("local", config=config)
    assert isinstance(backend, LocalBackend)
    assert backend.base_model == "crucible-tiny-byte-lm"
    assert asyncio.iscoroutinefunction(backend.forward_backward)


async def test_large_requests_are_chunked_without_changing_results(config: LoraConfig) -> None:
    # 70 data run as three internal chunks (32, 32, 6); the folded loss:sum is the sum over all data
    # and each datum's log-probabilities equal those of a call on its own.
    backend = LocalBackend(config, dtype=np.float64)
    batch = (data(backend) * 12)[:70]
    whole = await backend.forward(batch, "cross_entropy")
    singles = [await backend.forward([d], "cross_entropy") for d in batch[:6]]
    assert len(whole.loss_fn_outputs) == 70
    per_datum = [
        float(-(o["logprobs"] * d.weights).sum())
        for o, d in zip(whole.loss_fn_outputs, batch, strict=True)
    ]
    assert whole.metrics["loss:sum"] == pytest.approx(sum(per_datum), rel=1e-12)
    for s, o in zip(singles, whole.loss_fn_outputs[:6], strict=True):
        np.testing.assert_allclose(s.loss_fn_outputs[0]["logprobs"], o["logprobs"], rtol=1e-12)


async def test_top_p_near_zero_is_greedy(backend: LocalBackend) -> None:
    sampler = backend.sampler()
    greedy = await sampler.generate("Slow and", max_tokens=16, temperature=0)
    nucleus = await sampler.generate("Slow and", max_tokens=16, temperature=1.0, top_p=1e-6, seed=1)
    assert nucleus.text == greedy.text == " steady wins the"
