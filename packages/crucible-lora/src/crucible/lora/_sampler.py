"""Sampling from the reference transformer: a :class:`Sampler` that is a Crucible Model."""

from __future__ import annotations

import os
import time
from pathlib import Path
from typing import Any, ClassVar

import numpy as np

from crucible.core import (
    Completion,
    Message,
    Pricing,
    Prompt,
    TokenLogprob,
    Usage,
    prompt_text,
)
from crucible.lora._backend import Sampler
from crucible.lora._base import ByteTokenizer, load_base
from crucible.lora._checkpoint import CheckpointKind, read_checkpoint
from crucible.lora._config import SamplingParams
from crucible.lora._errors import CheckpointError
from crucible.lora._layers import log_softmax
from crucible.lora._transformer import ModelShape, forward

__all__ = ["LocalSampler", "load_sampler"]

_PARAM_NAMES = ("max_tokens", "temperature", "top_p", "stop", "seed")


class LocalSampler(Sampler):
    """Generates with a base model plus (optionally) LoRA adapters, on CPU.

    ``logprobs`` in the completion are the model's log-probabilities of the sampled tokens
    (temperature 1), the ``q`` that ``importance_sampling`` expects.
    """

    provider: ClassVar[str] = "lora-local"
    operation = "text_completion"

    def __init__(
        self,
        name: str,
        *,
        shape: ModelShape,
        base: dict[str, np.ndarray],
        adapters: dict[str, np.ndarray],
        scale: float,
        path: str,
        base_model: str,
    ) -> None:
        # Local compute costs nothing; a zero price keeps cost_usd at 0.0 instead of unpriced.
        super().__init__(
            name, pricing=Pricing({f"{self.provider}:{name}": {"input": 0.0, "output": 0.0}})
        )
        self._shape = shape
        self._base = base
        self._adapters = adapters
        self._scale = scale
        self._path = path
        self.base_model = base_model
        self.tokenizer = ByteTokenizer()

    @property
    def path(self) -> str:
        return self._path

    def sample_tokens(
        self, prompt_tokens: list[int], params: SamplingParams
    ) -> tuple[list[int], list[float], str]:
        """Generate tokens: ``(tokens, logprobs, finish_reason)``."""
        rng = np.random.default_rng(params.seed)
        tokens = list(prompt_tokens)
        out: list[int] = []
        lps: list[float] = []
        ctx = self._shape.max_seq_len
        for _ in range(params.max_tokens):
            window = np.asarray([tokens[-ctx:]], dtype=np.int64)
            logits, _ = forward(
                self._base, self._adapters, window, shape=self._shape, scale=self._scale
            )
            last = logits[0, -1].astype(np.float64)
            logp = log_softmax(last)
            if params.temperature == 0:
                tok = int(np.argmax(last))
            else:
                probs = np.exp(log_softmax(last / params.temperature))
                if params.top_p < 1.0:
                    order = np.argsort(-probs)
                    keep = np.cumsum(probs[order]) - probs[order] < params.top_p
                    mask = np.zeros_like(probs, dtype=bool)
                    mask[order[keep]] = True
                    probs = np.where(mask, probs, 0.0)
                    probs /= probs.sum()
                tok = int(rng.choice(len(probs), p=probs))
            tokens.append(tok)
            out.append(tok)
            lps.append(float(logp[tok]))
            if params.stop:
                text = self.tokenizer.decode(out)
                if any(s in text for s in params.stop):
                    return out, lps, "stop"
        return out, lps, "length"

    async def _generate(
        self, prompt: Prompt, messages: list[Message], params: dict[str, Any]
    ) -> Completion:
        start = time.perf_counter()
        sp = SamplingParams(**{k: params[k] for k in _PARAM_NAMES if k in params})
        prompt_tokens = self.tokenizer.encode(prompt_text(prompt))
        tokens, lps, finish = self.sample_tokens(prompt_tokens, sp)
        text = self.tokenizer.decode(tokens)
        if finish == "stop":
            cut = min(text.index(s) for s in sp.stop if s in text)
            text = text[:cut]
        logprobs = [
            TokenLogprob(self.tokenizer.decode([t]), lp) for t, lp in zip(tokens, lps, strict=True)
        ]
        return self._completion(
            text,
            Usage(input_tokens=len(prompt_tokens), output_tokens=len(tokens)),
            latency_ms=(time.perf_counter() - start) * 1000.0,
            finish_reason=finish,
            logprobs=logprobs,
            raw={"tokens": tokens, "path": self._path},
        )


def load_sampler(
    path: str | os.PathLike[str], *, base: str | os.PathLike[str] | None = None
) -> LocalSampler:
    """A :class:`LocalSampler` from a file written by ``save_weights_for_sampler`` (or a state).

    Raises:
        CheckpointError: ``path`` does not exist, is not a checkpoint, or was trained on another
            base model.
    """
    tensors, meta = read_checkpoint(
        path, kinds=(CheckpointKind.SAMPLER, CheckpointKind.STATE), argument="path"
    )
    weights = load_base(base)
    if meta.get("base_model") != weights.name:
        raise CheckpointError(
            f"`path` {str(path)!r} was trained on base model {meta.get('base_model')!r}, "
            f"not {weights.name!r}; pass the matching `base`"
        )
    adapters = {k: v for k, v in tensors.items() if ".lora_" in k and not k.startswith("adam.")}
    return LocalSampler(
        Path(path).stem,
        shape=weights.shape,
        base=weights.params,
        adapters=adapters,
        scale=float(meta["scale"]),
        path=str(path),
        base_model=weights.name,
    )
