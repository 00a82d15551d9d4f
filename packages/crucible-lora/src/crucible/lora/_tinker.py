"""The ``tinker`` backend: the same API over the official Tinker SDK (``pip install tinker``).

The SDK owns the wire format, retries, chunking and futures; this module only converts values:
our :class:`Datum` to ``tinker.types.Datum``, ``AdamParams`` to ``tinker.types.AdamParams``,
outputs back to numpy, and a sampling client to a :class:`Sampler` that is a Crucible Model.
The SDK is imported when a backend is created, never when crucible.lora is imported.
"""

from __future__ import annotations

import time
from collections.abc import Mapping, Sequence
from typing import Any, ClassVar, Protocol

import numpy as np

from crucible.core import Completion, Message, Prompt, TokenLogprob, Usage, ValidationError
from crucible.core import prompt_text as _prompt_text
from crucible.lora._backend import Sampler, backward_custom
from crucible.lora._config import AdamParams, LoraConfig, SamplingParams
from crucible.lora._datum import Datum, ForwardBackwardOutput, OptimStepResult
from crucible.lora._errors import BackendUnavailableError
from crucible.lora._losses import CustomLoss, LossFn, parse_loss

__all__ = ["TinkerBackend", "TinkerSampler"]

_INSTALL_HINT = 'the tinker backend needs the Tinker SDK: pip install "crucible-lora[tinker]"'
_PARAM_NAMES = ("max_tokens", "temperature", "top_p", "stop", "seed")


class Tokenizer(Protocol):
    def encode(self, text: str) -> list[int]: ...

    def decode(self, tokens: Sequence[int]) -> str: ...


def _import_tinker() -> Any:
    try:
        import tinker
    except ImportError as exc:
        raise BackendUnavailableError(_INSTALL_HINT) from exc
    return tinker


class TinkerSampler(Sampler):
    """A Tinker sampling client as a Crucible Model (tokens, logprobs and latency included)."""

    provider: ClassVar[str] = "tinker"
    operation = "text_completion"

    def __init__(self, name: str, client: Any, tokenizer: Tokenizer, path: str, tinker: Any):
        super().__init__(name)
        self._client = client
        self._tokenizer = tokenizer
        self._path = path
        self._tinker = tinker

    @property
    def path(self) -> str:
        return self._path

    async def _generate(
        self, prompt: Prompt, messages: list[Message], params: dict[str, Any]
    ) -> Completion:
        start = time.perf_counter()
        sp = SamplingParams(**{k: params[k] for k in _PARAM_NAMES if k in params})
        tokens = self._tokenizer.encode(_prompt_text(prompt))
        types = self._tinker.types
        response = await self._client.sample(
            prompt=types.ModelInput.from_ints(tokens),
            num_samples=1,
            sampling_params=types.SamplingParams(
                max_tokens=sp.max_tokens,
                temperature=sp.temperature,
                top_p=sp.top_p,
                stop=list(sp.stop) or None,
                seed=sp.seed,
            ),
        )
        seq = response.sequences[0]
        out = [int(t) for t in seq.tokens]
        lps = [float(x) for x in (seq.logprobs or [])]
        text = self._tokenizer.decode(out)
        for stop in sp.stop:
            if stop in text:
                text = text[: text.index(stop)]
        return self._completion(
            text,
            Usage(input_tokens=len(tokens), output_tokens=len(out)),
            latency_ms=(time.perf_counter() - start) * 1000.0,
            finish_reason=str(seq.stop_reason),
            logprobs=[
                TokenLogprob(self._tokenizer.decode([t]), lp)
                for t, lp in zip(out, lps, strict=False)
            ]
            or None,
            raw={"tokens": out, "path": self._path},
        )


class TinkerBackend:
    """LoRA training on the Tinker service through its SDK.

    Args:
        config: adapter shape. Tinker fixes ``alpha`` and has no adapter dropout, so both must
            stay at their defaults (``None`` and 0).
        base_model: the Tinker base model name (e.g. ``"Qwen/Qwen3-8B"``).
        base_url, api_key: passed to ``tinker.ServiceClient`` (the SDK falls back to
            ``TINKER_BASE_URL`` / ``TINKER_API_KEY``).
        tokenizer: an object with ``encode``/``decode``; by default the SDK's tokenizer for
            the base model (which needs ``transformers`` and the model's tokenizer files).

    Raises:
        BackendUnavailableError: the ``tinker`` package is not installed.
        ValidationError: a LoRA setting Tinker does not support.
    """

    def __init__(
        self,
        config: LoraConfig | None = None,
        *,
        base_model: str,
        base_url: str | None = None,
        api_key: str | None = None,
        tokenizer: Tokenizer | None = None,
    ) -> None:
        self.config = LoraConfig() if config is None else config
        if self.config.alpha is not None:
            raise ValidationError(
                "LoraConfig `alpha` is fixed by the Tinker service; leave it None for the tinker "
                "backend"
            )
        if self.config.dropout:
            raise ValidationError(
                "LoraConfig `dropout` is not supported by the Tinker service; use 0.0"
            )
        if not isinstance(base_model, str) or not base_model:
            raise ValidationError(f"`base_model` must be a non-empty string, got {base_model!r}")
        self._tinker = _import_tinker()
        self._base_model = base_model
        self._service = self._tinker.ServiceClient(base_url=base_url, api_key=api_key)
        self._training: Any = None
        self._tokenizer = tokenizer
        self._step = 0

    @property
    def base_model(self) -> str:
        return self._base_model

    @property
    def step(self) -> int:
        return self._step

    async def _client(self) -> Any:
        if self._training is None:
            self._training = await self._service.create_lora_training_client(
                self._base_model,
                rank=self.config.rank,
                seed=self.config.seed,
                train_mlp=self.config.train_mlp,
                train_attn=self.config.train_attn,
                train_unembed=self.config.train_unembed,
            )
        return self._training

    def _get_tokenizer(self) -> Tokenizer:
        if self._tokenizer is None:
            if self._training is None:
                raise ValidationError(
                    "pass `tokenizer` to TinkerBackend, or make a training call first so the "
                    "SDK can load the base model's tokenizer"
                )
            self._tokenizer = self._training.get_tokenizer()
        assert self._tokenizer is not None
        return self._tokenizer

    def encode(self, text: str) -> list[int]:
        return list(self._get_tokenizer().encode(text))

    def decode(self, tokens: Sequence[int]) -> str:
        return self._get_tokenizer().decode(list(tokens))

    def _to_tinker(self, data: Sequence[Datum]) -> list[Any]:
        if isinstance(data, Datum) or not isinstance(data, Sequence):
            raise ValidationError(
                f"`data` must be a list of Datum, got {type(data).__name__}; wrap one in [ ]"
            )
        if not data:
            raise ValidationError("`data` is empty; give at least one Datum")
        types = self._tinker.types
        out = []
        for i, d in enumerate(data):
            if not isinstance(d, Datum):
                raise ValidationError(f"`data[{i}]` must be a Datum, got {type(d).__name__}")
            inputs = {
                k: types.TensorData.from_numpy(
                    v.astype(np.int64) if k == "target_tokens" else v.astype(np.float32)
                )
                for k, v in d.loss_fn_inputs.items()
            }
            out.append(
                types.Datum(
                    model_input=types.ModelInput.from_ints(list(d.model_input)),
                    loss_fn_inputs=inputs,
                )
            )
        return out

    @staticmethod
    def _from_tinker(result: Any) -> ForwardBackwardOutput:
        outputs = tuple(
            {k: np.asarray(v.to_numpy(), dtype=np.float64) for k, v in o.items()}
            for o in result.loss_fn_outputs
        )
        return ForwardBackwardOutput(outputs, {k: float(v) for k, v in result.metrics.items()})

    async def forward(
        self,
        data: Sequence[Datum],
        loss_fn: str | LossFn,
        loss_fn_config: Mapping[str, float] | None = None,
    ) -> ForwardBackwardOutput:
        loss = parse_loss(loss_fn)
        batch = self._to_tinker(data)
        client = await self._client()
        result = await client.forward(batch, loss.value, dict(loss_fn_config or {}) or None)
        return self._from_tinker(result)

    async def forward_backward(
        self,
        data: Sequence[Datum],
        loss_fn: str | LossFn,
        loss_fn_config: Mapping[str, float] | None = None,
    ) -> ForwardBackwardOutput:
        loss = parse_loss(loss_fn)
        batch = self._to_tinker(data)
        client = await self._client()
        config = dict(loss_fn_config or {}) or None
        return self._from_tinker(await client.forward_backward(batch, loss.value, config))

    async def forward_backward_custom(
        self, data: Sequence[Datum], loss: CustomLoss
    ) -> ForwardBackwardOutput:
        return await backward_custom(self, data, loss)

    async def optim_step(self, adam: AdamParams) -> OptimStepResult:
        if not isinstance(adam, AdamParams):
            raise ValidationError(f"`adam` must be AdamParams, got {adam!r:.80}")
        client = await self._client()
        response = await client.optim_step(self._tinker.types.AdamParams(**adam.to_dict()))
        self._step += 1
        metrics = getattr(response, "metrics", None) or {}
        return OptimStepResult(self._step, {k: float(v) for k, v in metrics.items()})

    async def save_state(self, name: str) -> str:
        client = await self._client()
        return str((await client.save_state(name)).path)

    async def load_state(self, path: str, with_optimizer: bool = True) -> None:
        if not isinstance(path, str) or not path:
            raise ValidationError(f"`path` must be a non-empty checkpoint path, got {path!r}")
        if with_optimizer:
            future = self._service.create_training_client_from_state_with_optimizer(path)
        else:
            future = self._service.create_training_client_from_state(path)
        self._training = await future

    async def aclose(self, status: str = "success") -> None:
        """Finish the Tinker session (``status``: success, errored or interrupted)."""
        await self._service.close(status)

    async def save_weights_for_sampler(self, name: str) -> TinkerSampler:
        client = await self._client()
        path = str((await client.save_weights_for_sampler(name)).path)
        sampling = await self._service.create_sampling_client(model_path=path)
        return TinkerSampler(name, sampling, self._get_tokenizer(), path, self._tinker)
