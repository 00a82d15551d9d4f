"""Hand-derived gradients against central finite differences (float64, h = 1e-6)."""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import pytest

from crucible.lora._layers import (
    attention_backward,
    attention_forward,
    gelu_backward,
    gelu_forward,
    layer_norm_backward,
    layer_norm_forward,
    linear_backward,
    linear_forward,
)
from crucible.lora._losses import LossFn, loss_and_grad
from crucible.lora._transformer import (
    ModelShape,
    adapter_targets,
    backward,
    dlogits_from_dlogprobs,
    forward,
    init_adapters,
    init_base,
    target_logprobs,
)

H = 1e-6
TOL = 1e-6


def numeric(f: Callable[[], float], arr: np.ndarray, idx: tuple[int, ...]) -> float:
    old = arr[idx]
    arr[idx] = old + H
    up = f()
    arr[idx] = old - H
    down = f()
    arr[idx] = old
    return (up - down) / (2 * H)


def rel_err(a: float, b: float) -> float:
    return abs(a - b) / max(1e-9, abs(a) + abs(b))


def check_all(f: Callable[[], float], arr: np.ndarray, grad: np.ndarray) -> float:
    worst = 0.0
    for idx in np.ndindex(*arr.shape):
        worst = max(worst, rel_err(numeric(f, arr, idx), float(grad[idx])))
    return worst


@pytest.fixture
def rng() -> np.random.Generator:
    return np.random.default_rng(7)


def test_linear_with_lora_and_dropout(rng: np.random.Generator) -> None:
    x = rng.normal(size=(2, 3, 4))
    w = rng.normal(size=(4, 5))
    bias = rng.normal(size=5)
    a = rng.normal(size=(4, 2))
    b = rng.normal(size=(2, 5))
    mask = (rng.random(x.shape) < 0.7) / 0.7
    dy = rng.normal(size=(2, 3, 5))

    def f() -> float:
        return float((linear_forward(x, w, (a, b), 1.5, mask, bias)[0] * dy).sum())

    _, cache = linear_forward(x, w, (a, b), 1.5, mask, bias)
    dx, g = linear_backward(dy, cache, want_base=True)
    for arr, grad in ((x, dx), (w, g["w"]), (bias, g["bias"]), (a, g["lora_A"]), (b, g["lora_B"])):
        assert check_all(f, arr, grad) < TOL


def test_layer_norm(rng: np.random.Generator) -> None:
    x = rng.normal(size=(2, 3, 6))
    gain = rng.normal(size=6)
    bias = rng.normal(size=6)
    dy = rng.normal(size=x.shape)

    def f() -> float:
        return float((layer_norm_forward(x, gain, bias)[0] * dy).sum())

    _, cache = layer_norm_forward(x, gain, bias)
    dx, g = layer_norm_backward(dy, cache, want_base=True)
    for arr, grad in ((x, dx), (gain, g["g"]), (bias, g["b"])):
        assert check_all(f, arr, grad) < TOL


def test_gelu(rng: np.random.Generator) -> None:
    x = rng.normal(size=(3, 4)) * 2
    dy = rng.normal(size=x.shape)

    def f() -> float:
        return float((gelu_forward(x)[0] * dy).sum())

    assert check_all(f, x, gelu_backward(dy, gelu_forward(x)[1])) < TOL


def test_causal_attention(rng: np.random.Generator) -> None:
    q, k, v = (rng.normal(size=(2, 4, 6)) for _ in range(3))
    dy = rng.normal(size=(2, 4, 6))

    def f() -> float:
        return float((attention_forward(q, k, v, 2)[0] * dy).sum())

    dq, dk, dv = attention_backward(dy, attention_forward(q, k, v, 2)[1])
    for arr, grad in ((q, dq), (k, dk), (v, dv)):
        assert check_all(f, arr, grad) < TOL


def test_attention_is_causal(rng: np.random.Generator) -> None:
    q, k, v = (rng.normal(size=(1, 5, 4)) for _ in range(3))
    out, _ = attention_forward(q, k, v, 2)
    k2, v2 = k.copy(), v.copy()
    k2[0, 4] += 10.0
    v2[0, 4] += 10.0
    out2, _ = attention_forward(q, k2, v2, 2)
    np.testing.assert_array_equal(out[0, :4], out2[0, :4])
    assert not np.allclose(out[0, 4], out2[0, 4])


SHAPE = ModelShape(vocab_size=11, d_model=8, n_layers=2, n_heads=2, d_ff=12, max_seq_len=6)


def _model(rng: np.random.Generator) -> tuple[dict[str, np.ndarray], dict[str, np.ndarray]]:
    base = {k: v + rng.normal(0, 0.3, v.shape) for k, v in init_base(SHAPE, rng).items()}
    targets = adapter_targets(SHAPE, train_attn=True, train_mlp=True, train_unembed=True)
    adapters = init_adapters(base, targets, 3, rng)
    # B starts at zero; perturb it so the adapter path carries gradient to A as well.
    adapters = {k: v + rng.normal(0, 0.3, v.shape) for k, v in adapters.items()}
    return base, adapters


@pytest.mark.parametrize("loss", list(LossFn))
def test_full_model_gradients_for_every_loss(rng: np.random.Generator, loss: LossFn) -> None:
    base, adapters = _model(rng)
    x = rng.integers(0, 11, (2, 5))
    y = rng.integers(0, 11, (2, 5))
    inputs = {
        "weights": rng.random(5),
        "logprobs": rng.normal(-2.3, 0.05, 5),
        "advantages": rng.normal(size=5),
    }
    config = {"clip_low_threshold": 0.8, "clip_high_threshold": 1.2}

    def f() -> float:
        lp, _ = target_logprobs(forward(base, adapters, x, shape=SHAPE, scale=1.5)[0], y)
        return float(sum(loss_and_grad(loss, lp[i], inputs, config)[0].sum() for i in range(2)))

    logits, cache = forward(base, adapters, x, shape=SHAPE, scale=1.5)
    lp, logp = target_logprobs(logits, y)
    dlp = np.stack([loss_and_grad(loss, lp[i], inputs, config)[1] for i in range(2)])
    grads = backward(dlogits_from_dlogprobs(dlp, logp, y), cache, shape=SHAPE, want_base=True)
    assert set(grads) == set(base) | set(adapters)
    worst = 0.0
    for name, arr in [*base.items(), *adapters.items()]:
        for _ in range(3):
            idx = tuple(int(rng.integers(0, s)) for s in arr.shape)
            worst = max(worst, rel_err(numeric(f, arr, idx), float(grads[name][idx])))
    assert worst < 1e-5


def test_zero_initialised_b_leaves_the_base_model_unchanged(rng: np.random.Generator) -> None:
    base = init_base(SHAPE, rng)
    targets = adapter_targets(SHAPE, train_attn=True, train_mlp=True, train_unembed=True)
    adapters = init_adapters(base, targets, 4, rng)
    x = rng.integers(0, 11, (1, 6))
    with_lora, _ = forward(base, adapters, x, shape=SHAPE, scale=2.0)
    without, _ = forward(base, {}, x, shape=SHAPE, scale=2.0)
    np.testing.assert_array_equal(with_lora, without)


def test_adapter_targets_follow_the_flags() -> None:
    assert adapter_targets(SHAPE, train_attn=False, train_mlp=True, train_unembed=False) == [
        "layers.0.mlp.w1",
        "layers.0.mlp.w2",
        "layers.1.mlp.w1",
        "layers.1.mlp.w2",
    ]
    assert adapter_targets(SHAPE, train_attn=False, train_mlp=False, train_unembed=True) == [
        "unembed"
    ]
