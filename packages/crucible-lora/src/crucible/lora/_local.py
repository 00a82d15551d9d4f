"""The ``local`` backend: LoRA on the reference numpy transformer, on CPU.

Base weights stay frozen; only the adapters get gradients (hand-derived, see ``_layers.py``) and
AdamW updates. States and sampler weights are safetensors files under ``checkpoint_dir``.
"""

from __future__ import annotations

import os
import re
import tempfile
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from crucible.core import Seeds, ValidationError
from crucible.lora._adam import AdamState
from crucible.lora._backend import backward_custom
from crucible.lora._base import BaseWeights, ByteTokenizer, load_base
from crucible.lora._checkpoint import CheckpointKind, read_checkpoint, write_checkpoint
from crucible.lora._chunking import chunk_data, reduce_metrics
from crucible.lora._config import AdamParams, LoraConfig
from crucible.lora._datum import Datum, ForwardBackwardOutput, OptimStepResult
from crucible.lora._errors import CheckpointError
from crucible.lora._losses import CustomLoss, LossFn, loss_and_grad, parse_loss
from crucible.lora._sampler import LocalSampler
from crucible.lora._transformer import (
    adapter_targets,
    backward,
    dlogits_from_dlogprobs,
    forward,
    init_adapters,
    target_logprobs,
)

__all__ = ["LocalBackend"]

_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]*$")
_CHUNK = 32  # data per forward pass: bounds memory, not results


def _check_name(name: str) -> str:
    if not isinstance(name, str) or not _NAME.match(name):
        raise ValidationError(
            f"checkpoint `name` must be letters, digits, '.', '_' or '-' (no path separators), "
            f"got {name!r}"
        )
    return name


class LocalBackend:
    """A LoRA training session on the shipped tiny model (or another base file), on CPU.

    Args:
        config: adapter shape; defaults to ``LoraConfig()``.
        base: a base-model safetensors file; the shipped ``crucible-tiny-byte-lm`` when None.
        checkpoint_dir: where ``save_state`` / ``save_weights_for_sampler`` write; a fresh
            temporary directory when None.
        dtype: compute precision (``np.float32`` is fast; ``np.float64`` for gradient checks).

    Example:
        >>> import asyncio
        >>> backend = LocalBackend(LoraConfig(rank=4, seed=0))
        >>> datum = Datum.from_prompt_completion(backend.encode("Q: "), backend.encode("A"))
        >>> out = asyncio.run(backend.forward_backward([datum], "cross_entropy"))
        >>> out.loss > 0
        True
    """

    def __init__(
        self,
        config: LoraConfig | None = None,
        *,
        base: str | os.PathLike[str] | None = None,
        checkpoint_dir: str | os.PathLike[str] | None = None,
        dtype: type[np.floating[Any]] = np.float32,
    ) -> None:
        self.config = LoraConfig() if config is None else config
        if not isinstance(self.config, LoraConfig):
            raise ValidationError(f"`config` must be a LoraConfig, got {config!r:.80}")
        self._weights: BaseWeights = load_base(base).astype(dtype)
        self._dtype = dtype
        self.tokenizer = ByteTokenizer()
        self._seeds = Seeds(self.config.seed or 0)
        targets = adapter_targets(
            self._weights.shape,
            train_attn=self.config.train_attn,
            train_mlp=self.config.train_mlp,
            train_unembed=self.config.train_unembed,
        )
        init = init_adapters(
            self._weights.params, targets, self.config.rank, self._seeds.generator("lora-init")
        )
        self.adapters = {k: v.astype(dtype) for k, v in init.items()}
        self._adam = AdamState()
        self._grads: dict[str, np.ndarray] = {}
        self._calls = 0
        self._dir = Path(
            tempfile.mkdtemp(prefix="crucible-lora-") if checkpoint_dir is None else checkpoint_dir
        )

    @property
    def base_model(self) -> str:
        return self._weights.name

    @property
    def checkpoint_dir(self) -> Path:
        return self._dir

    @property
    def step(self) -> int:
        """Optimizer steps taken so far."""
        return self._adam.t

    def encode(self, text: str) -> list[int]:
        return self.tokenizer.encode(text)

    def decode(self, tokens: Sequence[int]) -> str:
        return self.tokenizer.decode(tokens)

    def _run(
        self,
        data: Sequence[Datum],
        loss_fn: str | LossFn,
        loss_fn_config: Mapping[str, float] | None,
        train: bool,
    ) -> ForwardBackwardOutput:
        loss = parse_loss(loss_fn)
        if isinstance(data, Datum) or not isinstance(data, Sequence):
            raise ValidationError(
                f"`data` must be a list of Datum, got {type(data).__name__}; wrap one in [ ]"
            )
        data = list(data)
        if not data:
            raise ValidationError("`data` is empty; give at least one Datum")
        shape = self._weights.shape
        for i, d in enumerate(data):
            if not isinstance(d, Datum):
                raise ValidationError(f"`data[{i}]` must be a Datum, got {type(d).__name__}")
            if d.length > shape.max_seq_len:
                raise ValidationError(
                    f"`data[{i}]` has {d.length} tokens; the base model's context is "
                    f"{shape.max_seq_len}: shorten it"
                )
            bad = d.target_tokens[(d.target_tokens < 0) | (d.target_tokens >= shape.vocab_size)]
            if bad.size or max(d.model_input) >= shape.vocab_size or min(d.model_input) < 0:
                raise ValidationError(
                    f"`data[{i}]` has tokens outside the vocabulary [0, {shape.vocab_size})"
                )
        outputs: list[dict[str, np.ndarray]] = []
        chunk_metrics: list[dict[str, float]] = []
        sizes: list[int] = []
        for chunk in chunk_data(data, max_count=_CHUNK):
            n = max(d.length for d in chunk)
            tokens = np.zeros((len(chunk), n), dtype=np.int64)
            targets = np.zeros((len(chunk), n), dtype=np.int64)
            for j, d in enumerate(chunk):
                tokens[j, : d.length] = d.model_input
                targets[j, : d.length] = d.target_tokens
            rng = None
            if train and self.config.dropout > 0:
                rng = self._seeds.generator("lora-dropout", self._calls)
            logits, cache = forward(
                self._weights.params,
                self.adapters,
                tokens,
                shape=shape,
                scale=self.config.scale,
                dropout=self.config.dropout if train else 0.0,
                rng=rng,
            )
            lp, logp = target_logprobs(logits.astype(np.float64), targets)
            dlp = np.zeros_like(lp)
            total = 0.0
            for j, d in enumerate(chunk):
                per_token, grad = loss_and_grad(
                    loss, lp[j, : d.length], d.loss_fn_inputs, loss_fn_config
                )
                dlp[j, : d.length] = grad
                total += float(per_token.sum())
                outputs.append(
                    {"logprobs": lp[j, : d.length].copy(), "elementwise_loss": per_token}
                )
            chunk_metrics.append({"loss:sum": total})
            sizes.append(len(chunk))
            if train:
                dlogits = dlogits_from_dlogprobs(dlp, logp, targets).astype(self._dtype)
                grads = backward(dlogits, cache, shape=shape)
                for k, g in grads.items():
                    self._grads[k] = self._grads[k] + g if k in self._grads else g
        if train:
            self._calls += 1
        return ForwardBackwardOutput(tuple(outputs), reduce_metrics(chunk_metrics, sizes))

    async def forward(
        self,
        data: Sequence[Datum],
        loss_fn: str | LossFn,
        loss_fn_config: Mapping[str, float] | None = None,
    ) -> ForwardBackwardOutput:
        return self._run(data, loss_fn, loss_fn_config, train=False)

    async def forward_backward(
        self,
        data: Sequence[Datum],
        loss_fn: str | LossFn,
        loss_fn_config: Mapping[str, float] | None = None,
    ) -> ForwardBackwardOutput:
        return self._run(data, loss_fn, loss_fn_config, train=True)

    async def forward_backward_custom(
        self, data: Sequence[Datum], loss: CustomLoss
    ) -> ForwardBackwardOutput:
        return await backward_custom(self, data, loss)

    def gradients(self) -> dict[str, np.ndarray]:
        """The gradients accumulated since the last ``optim_step`` (a copy)."""
        return {k: v.copy() for k, v in self._grads.items()}

    async def optim_step(self, adam: AdamParams) -> OptimStepResult:
        if not isinstance(adam, AdamParams):
            raise ValidationError(f"`adam` must be AdamParams, got {adam!r:.80}")
        if not self._grads:
            raise ValidationError(
                "no gradients to apply: call `forward_backward` before `optim_step`"
            )
        metrics = self._adam.step(self.adapters, self._grads, adam)
        self._grads = {}
        return OptimStepResult(
            self._adam.t,
            {"grad_norm:mean": metrics["grad_norm"], "learning_rate:mean": adam.learning_rate},
        )

    def _meta(self) -> dict[str, Any]:
        return {
            "base_model": self.base_model,
            "lora_config": self.config.to_dict(),
            "scale": self.config.scale,
            "step": self._adam.t,
            "calls": self._calls,
        }

    async def save_state(self, name: str) -> str:
        tensors = dict(self.adapters)
        tensors.update(self._adam.to_tensors())
        path = self._dir / "states" / f"{_check_name(name)}.safetensors"
        write_checkpoint(path, tensors, kind=CheckpointKind.STATE, meta=self._meta())
        return str(path)

    async def load_state(self, path: str, with_optimizer: bool = True) -> None:
        tensors, meta = read_checkpoint(path, kinds=(CheckpointKind.STATE,), argument="path")
        if meta.get("base_model") != self.base_model:
            raise CheckpointError(
                f"`path` {path!r} holds adapters for base model {meta.get('base_model')!r}, "
                f"not {self.base_model!r}"
            )
        adapters = {k: v for k, v in tensors.items() if not k.startswith("adam.")}
        if {k: v.shape for k, v in adapters.items()} != {
            k: v.shape for k, v in self.adapters.items()
        }:
            raise CheckpointError(
                f"`path` {path!r} holds adapters of another shape (LoRA config "
                f"{meta.get('lora_config')}); this backend has {self.config.to_dict()}"
            )
        self.adapters = {k: v.astype(self._dtype) for k, v in adapters.items()}
        self._grads = {}
        if with_optimizer:
            self._adam = AdamState.from_tensors(
                {k: v for k, v in tensors.items() if k.startswith("adam.")}
            )
            self._calls = int(meta.get("calls", 0))
        else:
            self._adam = AdamState()

    async def save_weights_for_sampler(self, name: str) -> LocalSampler:
        path = self._dir / "sampler_weights" / f"{_check_name(name)}.safetensors"
        write_checkpoint(path, dict(self.adapters), kind=CheckpointKind.SAMPLER, meta=self._meta())
        return LocalSampler(
            name,
            shape=self._weights.shape,
            base=self._weights.params,
            adapters={k: v.copy() for k, v in self.adapters.items()},
            scale=self.config.scale,
            path=str(path),
            base_model=self.base_model,
        )

    def sampler(self, name: str = "current") -> LocalSampler:
        """A sampler over the current weights without writing a file (``path`` is empty)."""
        return LocalSampler(
            name,
            shape=self._weights.shape,
            base=self._weights.params,
            adapters={k: v.copy() for k, v in self.adapters.items()},
            scale=self.config.scale,
            path="",
            base_model=self.base_model,
        )
