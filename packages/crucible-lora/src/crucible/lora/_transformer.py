"""A small pre-norm, byte-level, decoder-only transformer with LoRA adapters, in numpy.

Base weights are frozen during fine-tuning; adapters ``W + (α/r)·B·A`` sit on the attention
projections (``wq``, ``wk``, ``wv``, ``wo``), the MLP projections (``w1``, ``w2``) and the
unembedding, as chosen by :class:`~crucible.lora.LoraConfig`. :func:`forward` keeps what the
backward pass needs; :func:`backward` returns adapter gradients and, for pretraining, base ones.
"""

from __future__ import annotations

from typing import Any

import attrs
import numpy as np

from crucible.lora._layers import (
    attention_backward,
    attention_forward,
    gelu_backward,
    gelu_forward,
    layer_norm_backward,
    layer_norm_forward,
    linear_backward,
    linear_forward,
    log_softmax,
)

__all__ = ["ModelShape", "adapter_targets", "backward", "forward", "init_adapters", "init_base"]

Params = dict[str, np.ndarray]


@attrs.frozen
class ModelShape:
    """Sizes of the reference transformer."""

    vocab_size: int = 256
    d_model: int = 64
    n_layers: int = 2
    n_heads: int = 4
    d_ff: int = 128
    max_seq_len: int = 128

    def to_dict(self) -> dict[str, int]:
        return attrs.asdict(self)


def init_base(shape: ModelShape, rng: np.random.Generator) -> Params:
    """Random base weights (GPT-2 style: N(0, 0.02), residual projections scaled down)."""
    d, f = shape.d_model, shape.d_ff
    resid = 0.02 / np.sqrt(2 * shape.n_layers)
    p: Params = {
        "tok_emb": rng.normal(0, 0.02, (shape.vocab_size, d)),
        "pos_emb": rng.normal(0, 0.01, (shape.max_seq_len, d)),
        "ln_f.g": np.ones(d),
        "ln_f.b": np.zeros(d),
        "unembed": rng.normal(0, 0.02, (d, shape.vocab_size)),
    }
    for i in range(shape.n_layers):
        pre = f"layers.{i}."
        p[pre + "ln1.g"] = np.ones(d)
        p[pre + "ln1.b"] = np.zeros(d)
        p[pre + "ln2.g"] = np.ones(d)
        p[pre + "ln2.b"] = np.zeros(d)
        for name in ("wq", "wk", "wv"):
            p[pre + "attn." + name] = rng.normal(0, 0.02, (d, d))
        p[pre + "attn.wo"] = rng.normal(0, resid, (d, d))
        p[pre + "mlp.w1"] = rng.normal(0, 0.02, (d, f))
        p[pre + "mlp.b1"] = np.zeros(f)
        p[pre + "mlp.w2"] = rng.normal(0, resid, (f, d))
        p[pre + "mlp.b2"] = np.zeros(d)
    return p


def adapter_targets(
    shape: ModelShape, *, train_attn: bool, train_mlp: bool, train_unembed: bool
) -> list[str]:
    """Names of the base matrices that get an adapter."""
    out: list[str] = []
    for i in range(shape.n_layers):
        pre = f"layers.{i}."
        if train_attn:
            out += [pre + "attn." + n for n in ("wq", "wk", "wv", "wo")]
        if train_mlp:
            out += [pre + "mlp.w1", pre + "mlp.w2"]
    if train_unembed:
        out.append("unembed")
    return out


def init_adapters(base: Params, targets: list[str], rank: int, rng: np.random.Generator) -> Params:
    """``A`` ~ Kaiming-uniform-like N(0, 1/d_in), ``B`` = 0, so the adapted model starts equal
    to the base model (Hu et al., 2021, §4.1)."""
    out: Params = {}
    for name in targets:
        d_in, d_out = base[name].shape
        out[name + ".lora_A"] = rng.normal(0.0, 1.0 / np.sqrt(d_in), (d_in, rank))
        out[name + ".lora_B"] = np.zeros((rank, d_out))
    return out


def _lora(adapters: Params, name: str) -> tuple[np.ndarray, np.ndarray] | None:
    a = adapters.get(name + ".lora_A")
    if a is None:
        return None
    return a, adapters[name + ".lora_B"]


def forward(
    base: Params,
    adapters: Params,
    tokens: np.ndarray,
    *,
    shape: ModelShape,
    scale: float,
    dropout: float = 0.0,
    rng: np.random.Generator | None = None,
) -> tuple[np.ndarray, dict[str, Any]]:
    """Logits ``(B, T, V)`` for integer ``tokens`` ``(B, T)``, and the cache for :func:`backward`."""
    t = tokens.shape[1]
    caches: dict[str, Any] = {"tokens": tokens, "layers": []}

    def lin(
        x: np.ndarray, name: str, bias: np.ndarray | None = None
    ) -> tuple[np.ndarray, dict[str, Any]]:
        lora = _lora(adapters, name)
        mask = None
        if lora is not None and dropout > 0.0 and rng is not None:
            keep = 1.0 - dropout
            mask = (rng.random(x.shape) < keep).astype(x.dtype) / keep
        return linear_forward(x, base[name], lora, scale, mask, bias)

    x = base["tok_emb"][tokens] + base["pos_emb"][:t]
    for i in range(shape.n_layers):
        pre = f"layers.{i}."
        c: dict[str, Any] = {}
        h, c["ln1"] = layer_norm_forward(x, base[pre + "ln1.g"], base[pre + "ln1.b"])
        q, c["wq"] = lin(h, pre + "attn.wq")
        k, c["wk"] = lin(h, pre + "attn.wk")
        v, c["wv"] = lin(h, pre + "attn.wv")
        att, c["attn"] = attention_forward(q, k, v, shape.n_heads)
        o, c["wo"] = lin(att, pre + "attn.wo")
        x = x + o
        h, c["ln2"] = layer_norm_forward(x, base[pre + "ln2.g"], base[pre + "ln2.b"])
        u, c["w1"] = lin(h, pre + "mlp.w1", base[pre + "mlp.b1"])
        a, c["gelu"] = gelu_forward(u)
        m, c["w2"] = lin(a, pre + "mlp.w2", base[pre + "mlp.b2"])
        x = x + m
        caches["layers"].append(c)
    h, caches["ln_f"] = layer_norm_forward(x, base["ln_f.g"], base["ln_f.b"])
    logits, caches["unembed"] = lin(h, "unembed")
    return logits, caches


def backward(
    dlogits: np.ndarray,
    caches: dict[str, Any],
    *,
    shape: ModelShape,
    want_base: bool = False,
) -> Params:
    """Gradients of a scalar loss, given its gradient ``dlogits`` with respect to the logits.

    Returns adapter gradients (``<matrix>.lora_A`` / ``.lora_B``) and, when ``want_base``,
    gradients of every base parameter.
    """
    grads: Params = {}

    def take(name: str, g: dict[str, np.ndarray], bias_name: str | None = None) -> None:
        if "lora_A" in g:
            grads[name + ".lora_A"] = g["lora_A"]
            grads[name + ".lora_B"] = g["lora_B"]
        if want_base:
            grads[name] = g["w"]
            if bias_name is not None:
                grads[bias_name] = g["bias"]

    dh, g = linear_backward(dlogits, caches["unembed"], want_base)
    take("unembed", g)
    dx, g = layer_norm_backward(dh, caches["ln_f"], want_base)
    if want_base:
        grads["ln_f.g"], grads["ln_f.b"] = g["g"], g["b"]
    for i in reversed(range(shape.n_layers)):
        pre = f"layers.{i}."
        c = caches["layers"][i]
        da, g = linear_backward(dx, c["w2"], want_base)
        take(pre + "mlp.w2", g, pre + "mlp.b2")
        du = gelu_backward(da, c["gelu"])
        dh, g = linear_backward(du, c["w1"], want_base)
        take(pre + "mlp.w1", g, pre + "mlp.b1")
        dres, g = layer_norm_backward(dh, c["ln2"], want_base)
        if want_base:
            grads[pre + "ln2.g"], grads[pre + "ln2.b"] = g["g"], g["b"]
        dx = dx + dres
        datt, g = linear_backward(dx, c["wo"], want_base)
        take(pre + "attn.wo", g)
        dq, dk, dv = attention_backward(datt, c["attn"])
        dh = np.zeros_like(dx)
        for name, dz in (("wq", dq), ("wk", dk), ("wv", dv)):
            dpart, g = linear_backward(dz, c[name], want_base)
            take(pre + "attn." + name, g)
            dh = dh + dpart
        dres, g = layer_norm_backward(dh, c["ln1"], want_base)
        if want_base:
            grads[pre + "ln1.g"], grads[pre + "ln1.b"] = g["g"], g["b"]
        dx = dx + dres
    if want_base:
        tokens = caches["tokens"]
        t = tokens.shape[1]
        demb = np.zeros((shape.vocab_size, dx.shape[-1]), dtype=dx.dtype)
        np.add.at(demb, tokens.reshape(-1), dx.reshape(-1, dx.shape[-1]))
        grads["tok_emb"] = demb
        dpos = np.zeros((shape.max_seq_len, dx.shape[-1]), dtype=dx.dtype)
        dpos[:t] = dx.sum(axis=0)
        grads["pos_emb"] = dpos
    return grads


def target_logprobs(logits: np.ndarray, targets: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Log-probabilities of ``targets`` ``(B, T)`` and the full log-softmax ``(B, T, V)``."""
    logp = log_softmax(logits)
    lp = np.take_along_axis(logp, targets[..., None], axis=-1)[..., 0]
    return lp, logp


def dlogits_from_dlogprobs(dlp: np.ndarray, logp: np.ndarray, targets: np.ndarray) -> np.ndarray:
    """Chain rule through ``lp = log_softmax(z)[target]``: ``dz = dlp · (onehot − softmax)``."""
    d: np.ndarray = -np.exp(logp) * dlp[..., None]
    np.put_along_axis(
        d,
        targets[..., None],
        np.take_along_axis(d, targets[..., None], axis=-1) + dlp[..., None],
        -1,
    )
    return d
