"""The tinker backend end to end: the official SDK against a local server speaking its wire format.

The server (``tests/tinker_server.py``) decodes the SDK's protobuf and JSON requests and trains a
LocalBackend, so every number that comes back through the SDK can be compared with the same
computation done directly.
"""

from __future__ import annotations

import sys
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest

from crucible.core import Completion, Model, UnpricedModelWarning, ValidationError
from crucible.lora import (
    AdamParams,
    BackendUnavailableError,
    ByteTokenizer,
    CustomLossResult,
    Datum,
    LocalBackend,
    LoraConfig,
    create_backend,
)

from .conftest import TASK

pytest.importorskip("tinker", reason="the Tinker SDK is not installed (pip install tinker)")

from .tinker_server import TinkerWireServer

CONFIG = LoraConfig(rank=4, seed=0)


@pytest.fixture
def server(tmp_path: Path) -> Iterator[TinkerWireServer]:
    srv = TinkerWireServer(str(tmp_path / "server")).start_in_thread()
    yield srv
    srv.stop_thread()


def data(tok: ByteTokenizer) -> list[Datum]:
    return [
        Datum.from_prompt_completion(tok.encode(t["prompt"]), tok.encode(t["completion"]))
        for t in TASK
    ]


async def test_training_through_the_sdk_matches_local_training(server: TinkerWireServer) -> None:
    remote = create_backend(
        "tinker",
        config=CONFIG,
        base_model="crucible-tiny-byte-lm",
        base_url=server.base_url,
        api_key="tml-local-test",
        tokenizer=ByteTokenizer(),
    )
    local = LocalBackend(CONFIG, dtype=np.float64)
    batch = data(ByteTokenizer())
    adam = AdamParams(learning_rate=3e-3)
    losses = []
    for _ in range(3):
        r = await remote.forward_backward(batch, "cross_entropy")
        ref = await local.forward_backward(batch, "cross_entropy")
        assert r.metrics["loss:sum"] == pytest.approx(ref.metrics["loss:sum"], rel=1e-9)
        for ro, lo in zip(r.loss_fn_outputs, ref.loss_fn_outputs, strict=True):
            np.testing.assert_allclose(ro["logprobs"], lo["logprobs"], rtol=1e-6)
        result = await remote.optim_step(adam)
        await local.optim_step(adam)
        losses.append(r.loss)
    assert result.step == 3
    assert losses[2] < losses[0]

    # State round trip through create_training_client_from_state_with_optimizer.
    path = await remote.save_state("after-3")
    assert path == "tinker://session-1:train:0/weights/after-3"
    await remote.load_state(path)
    after = await remote.forward(batch, "cross_entropy")
    ref_after = await local.forward(batch, "cross_entropy")
    assert after.loss == pytest.approx(ref_after.loss, rel=1e-9)

    # Custom loss (forward + linear surrogate) through the SDK.
    def nll(ds: list[Datum], lps: list[np.ndarray]) -> CustomLossResult:
        return CustomLossResult(
            -sum(float((lp * d.weights).sum()) for d, lp in zip(ds, lps, strict=True)),
            [-d.weights for d in ds],
        )

    custom = await remote.forward_backward_custom(batch, nll)
    assert custom.loss == pytest.approx(ref_after.loss, rel=1e-6)

    sampler = await remote.save_weights_for_sampler("final")
    assert isinstance(sampler, Model)
    assert sampler.path == "tinker://session-1:train:1/sampler_weights/final"
    # Tinker's prices are not in the price table: the cost is honestly unknown.
    with pytest.warns(UnpricedModelWarning, match="tinker:final"):
        completion = await sampler.generate("Q: fox?\n", max_tokens=24, temperature=0, stop="\n")
    assert completion.cost_usd is None
    expected = await local.sampler().generate("Q: fox?\n", max_tokens=24, temperature=0, stop="\n")
    assert isinstance(completion, Completion)
    assert completion.provider == "tinker"
    assert completion.text == expected.text
    assert completion.logprobs is not None and expected.logprobs is not None
    np.testing.assert_allclose(
        [lp.logprob for lp in completion.logprobs],
        [lp.logprob for lp in expected.logprobs],
        rtol=1e-5,
    )
    await remote.aclose()  # type: ignore[attr-defined]
    assert server.finished == ["success"]
    for endpoint in ("/api/v1/forward_backward", "/api/v1/retrieve_future", "/api/v1/asample"):
        assert endpoint in server.paths


def test_tinker_backend_rejects_settings_the_service_lacks() -> None:
    with pytest.raises(ValidationError, match="`alpha` is fixed by the Tinker service"):
        create_backend("tinker", config=LoraConfig(rank=4, alpha=8), base_model="m")
    with pytest.raises(ValidationError, match="`dropout` is not supported"):
        create_backend("tinker", config=LoraConfig(rank=4, dropout=0.1), base_model="m")


def test_missing_sdk_gives_the_install_hint(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "tinker", None)
    with pytest.raises(BackendUnavailableError, match=r'pip install "crucible-lora\[tinker\]"'):
        create_backend("tinker", config=CONFIG, base_model="m")


def test_metric_reduction_matches_the_sdk() -> None:
    # Reference: tinker 0.38, tinker.lib.chunked_fwdbwd_helpers.combine_fwd_bwd_output_results.
    from tinker.lib.chunked_fwdbwd_helpers import combine_fwd_bwd_output_results
    from tinker.types import ForwardBackwardOutput as TinkerOutput

    from crucible.lora import reduce_metrics

    rng = np.random.default_rng(3)
    keys = ["loss:sum", "acc:mean", "lo:min", "hi:max", "t:slack", "id:unique"]
    chunks = [{k: float(rng.normal()) for k in keys} for _ in range(4)]
    sizes = [3, 1, 5, 2]
    sdk = combine_fwd_bwd_output_results(
        [TinkerOutput("ArrayRecord", [{}] * n, m) for m, n in zip(chunks, sizes, strict=True)]
    ).metrics
    ours = reduce_metrics(chunks, weights=sizes)
    assert ours.keys() == sdk.keys()
    for k in ours:
        assert ours[k] == pytest.approx(sdk[k], rel=1e-12)
