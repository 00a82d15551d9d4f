"""Forward and backward passes of the layers of the reference transformer, in numpy.

Every ``*_forward`` returns its output and a cache; the matching ``*_backward`` takes the
gradient of the output and the cache and returns the gradients of the inputs and parameters.
The derivations are the textbook ones; ``tests/test_gradients.py`` checks every one of them
against central finite differences.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

__all__ = [
    "attention_backward",
    "attention_forward",
    "gelu_backward",
    "gelu_forward",
    "layer_norm_backward",
    "layer_norm_forward",
    "linear_backward",
    "linear_forward",
    "log_softmax",
]

Cache = dict[str, Any]
_LN_EPS = 1e-5
_GELU_C = math.sqrt(2.0 / math.pi)


def linear_forward(
    x: np.ndarray,
    w: np.ndarray,
    lora: tuple[np.ndarray, np.ndarray] | None = None,
    scale: float = 1.0,
    drop_mask: np.ndarray | None = None,
    bias: np.ndarray | None = None,
) -> tuple[np.ndarray, Cache]:
    """``y = x W (+ b) + scale · (drop(x) A) B`` — a frozen or trainable linear map with LoRA.

    ``A`` is ``(d_in, r)`` and ``B`` is ``(r, d_out)`` (Hu et al., 2021, with the product written
    for row vectors). ``drop_mask`` (already divided by the keep probability) applies dropout to
    the adapter path only, as in the LoRA paper's implementation.
    """
    y = x @ w
    if bias is not None:
        y = y + bias
    cache: Cache = {"x": x, "w": w, "lora": lora, "scale": scale, "drop": drop_mask}
    if lora is not None:
        a, b = lora
        xd = x if drop_mask is None else x * drop_mask
        xa = xd @ a
        y = y + scale * (xa @ b)
        cache["xd"] = xd
        cache["xa"] = xa
    return y, cache


def linear_backward(
    dy: np.ndarray, cache: Cache, want_base: bool
) -> tuple[np.ndarray, dict[str, np.ndarray]]:
    """Gradients of :func:`linear_forward`: ``(dx, {"w", "bias", "lora_A", "lora_B"})``."""
    x, w = cache["x"], cache["w"]
    d_in, d_out = w.shape
    dy2 = dy.reshape(-1, d_out)
    dx = dy @ w.T
    grads: dict[str, np.ndarray] = {}
    if want_base:
        grads["w"] = x.reshape(-1, d_in).T @ dy2
        grads["bias"] = dy2.sum(axis=0)
    if cache["lora"] is not None:
        a, b = cache["lora"]
        scale = cache["scale"]
        dxa = scale * (dy @ b.T)
        grads["lora_B"] = scale * (cache["xa"].reshape(-1, a.shape[1]).T @ dy2)
        grads["lora_A"] = cache["xd"].reshape(-1, d_in).T @ dxa.reshape(-1, a.shape[1])
        dxd = dxa @ a.T
        dx = dx + (dxd if cache["drop"] is None else dxd * cache["drop"])
    return dx, grads


def layer_norm_forward(x: np.ndarray, g: np.ndarray, b: np.ndarray) -> tuple[np.ndarray, Cache]:
    """Layer normalisation over the last axis (Ba et al., 2016) with gain ``g`` and bias ``b``."""
    mu = x.mean(axis=-1, keepdims=True)
    var = x.var(axis=-1, keepdims=True)
    inv = 1.0 / np.sqrt(var + _LN_EPS)
    xhat = (x - mu) * inv
    return xhat * g + b, {"xhat": xhat, "inv": inv, "g": g}


def layer_norm_backward(
    dy: np.ndarray, cache: Cache, want_base: bool
) -> tuple[np.ndarray, dict[str, np.ndarray]]:
    xhat, inv, g = cache["xhat"], cache["inv"], cache["g"]
    dxhat = dy * g
    dx = inv * (
        dxhat
        - dxhat.mean(axis=-1, keepdims=True)
        - xhat * (dxhat * xhat).mean(axis=-1, keepdims=True)
    )
    grads: dict[str, np.ndarray] = {}
    if want_base:
        d = dy.shape[-1]
        grads["g"] = (dy * xhat).reshape(-1, d).sum(axis=0)
        grads["b"] = dy.reshape(-1, d).sum(axis=0)
    return dx, grads


def gelu_forward(x: np.ndarray) -> tuple[np.ndarray, Cache]:
    """GELU, tanh approximation (Hendrycks & Gimpel, 2016)."""
    t = np.tanh(_GELU_C * (x + 0.044715 * (x * x * x)))
    return 0.5 * x * (1.0 + t), {"x": x, "t": t}


def gelu_backward(dy: np.ndarray, cache: Cache) -> np.ndarray:
    x, t = cache["x"], cache["t"]
    du = _GELU_C * (1.0 + 3 * 0.044715 * (x * x))
    dx: np.ndarray = dy * (0.5 * (1.0 + t) + 0.5 * x * (1.0 - t**2) * du)
    return dx


def log_softmax(logits: np.ndarray) -> np.ndarray:
    shifted = logits - logits.max(axis=-1, keepdims=True)
    out: np.ndarray = shifted - np.log(np.exp(shifted).sum(axis=-1, keepdims=True))
    return out


def attention_forward(
    q: np.ndarray, k: np.ndarray, v: np.ndarray, n_heads: int
) -> tuple[np.ndarray, Cache]:
    """Causal multi-head scaled dot-product attention (Vaswani et al., 2017).

    ``q``, ``k``, ``v`` are ``(B, T, D)``; the result is ``(B, T, D)`` with heads concatenated.
    """
    bsz, t, d = q.shape
    dh = d // n_heads

    def split(z: np.ndarray) -> np.ndarray:
        return z.reshape(bsz, t, n_heads, dh).transpose(0, 2, 1, 3)

    qh, kh, vh = split(q), split(k), split(v)
    scale = 1.0 / math.sqrt(dh)
    scores = (qh @ kh.transpose(0, 1, 3, 2)) * scale
    mask = np.triu(np.ones((t, t), dtype=bool), k=1)
    scores = np.where(mask, -1e30, scores)
    p = np.exp(scores - scores.max(axis=-1, keepdims=True))
    p /= p.sum(axis=-1, keepdims=True)
    out = (p @ vh).transpose(0, 2, 1, 3).reshape(bsz, t, d)
    return out, {"qh": qh, "kh": kh, "vh": vh, "p": p, "scale": scale, "n_heads": n_heads}


def attention_backward(dout: np.ndarray, cache: Cache) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Gradients of :func:`attention_forward` with respect to ``q``, ``k`` and ``v``."""
    bsz, t, d = dout.shape
    n_heads = cache["n_heads"]
    dh = d // n_heads
    qh, kh, vh, p, scale = cache["qh"], cache["kh"], cache["vh"], cache["p"], cache["scale"]
    douth = dout.reshape(bsz, t, n_heads, dh).transpose(0, 2, 1, 3)
    dp = douth @ vh.transpose(0, 1, 3, 2)
    dvh = p.transpose(0, 1, 3, 2) @ douth
    # Softmax Jacobian: dS = P ⊙ (dP − rowsum(dP ⊙ P)); masked entries have P = 0.
    ds = p * (dp - (dp * p).sum(axis=-1, keepdims=True)) * scale
    dqh = ds @ kh
    dkh = ds.transpose(0, 1, 3, 2) @ qh

    def merge(z: np.ndarray) -> np.ndarray:
        return z.transpose(0, 2, 1, 3).reshape(bsz, t, d)

    return merge(dqh), merge(dkh), merge(dvh)
