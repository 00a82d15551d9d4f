"""The training-backend contract and the registry that resolves backends by name.

Built-in backends (``local``, ``tinker``) are registered explicitly when a registry is built;
third parties register through the ``crucible.lora.backends`` entry-point group (name -> factory
``(**options) -> TrainingBackend``), loaded only on a lookup miss — the same pattern as
:class:`crucible.core.ModelRegistry`.
"""

from __future__ import annotations

import importlib.metadata
from abc import abstractmethod
from collections.abc import Callable, Mapping, Sequence
from typing import Any, Protocol, cast, runtime_checkable

import numpy as np

from crucible.core import BaseModel, ConfigurationError
from crucible.lora._config import AdamParams
from crucible.lora._datum import Datum, ForwardBackwardOutput, OptimStepResult
from crucible.lora._errors import UnknownBackendError
from crucible.lora._losses import CustomLoss, LossFn

__all__ = [
    "ENTRY_POINT_GROUP",
    "BackendRegistry",
    "Sampler",
    "TrainingBackend",
    "backward_custom",
    "create_backend",
    "register_backend",
]

ENTRY_POINT_GROUP = "crucible.lora.backends"
BackendFactory = Callable[..., "TrainingBackend"]


class Sampler(BaseModel):
    """A saved set of weights that generates text: a :class:`crucible.core.Model`.

    ``generate(prompt, max_tokens=..., temperature=..., top_p=..., stop=..., seed=...)`` returns a
    :class:`~crucible.core.Completion` with the text, per-token ``logprobs``, usage and latency,
    so a checkpoint can be evaluated anywhere a model can.
    """

    @property
    @abstractmethod
    def path(self) -> str:
        """Where the sampler's weights are stored (a file path or a backend URI)."""


@runtime_checkable
class TrainingBackend(Protocol):
    """A LoRA training session on one base model (Tinker's ``TrainingClient`` shape).

    Gradients from successive ``forward_backward`` calls accumulate until ``optim_step``.
    """

    @property
    def base_model(self) -> str:
        """Name of the base model being adapted."""
        ...

    def encode(self, text: str) -> list[int]:
        """Tokenise ``text`` with the base model's tokenizer."""
        ...

    def decode(self, tokens: Sequence[int]) -> str:
        """Turn tokens back into text."""
        ...

    async def forward(
        self,
        data: Sequence[Datum],
        loss_fn: str | LossFn,
        loss_fn_config: Mapping[str, float] | None = None,
    ) -> ForwardBackwardOutput:
        """Loss and per-token log-probabilities, without gradients."""
        ...

    async def forward_backward(
        self,
        data: Sequence[Datum],
        loss_fn: str | LossFn,
        loss_fn_config: Mapping[str, float] | None = None,
    ) -> ForwardBackwardOutput:
        """Loss, log-probabilities, and gradients accumulated for the next ``optim_step``."""
        ...

    async def forward_backward_custom(
        self, data: Sequence[Datum], loss: CustomLoss
    ) -> ForwardBackwardOutput:
        """Like ``forward_backward`` with a user loss over the per-token log-probabilities."""
        ...

    async def optim_step(self, adam: AdamParams) -> OptimStepResult:
        """Apply the accumulated gradients with AdamW and clear them."""
        ...

    async def save_state(self, name: str) -> str:
        """Save weights and optimizer state; returns the path to give ``load_state``."""
        ...

    async def load_state(self, path: str, with_optimizer: bool = True) -> None:
        """Restore weights (and, unless told otherwise, the optimizer state) from ``path``."""
        ...

    async def save_weights_for_sampler(self, name: str) -> Sampler:
        """Save the current weights for sampling and return a :class:`Sampler` over them."""
        ...


async def backward_custom(
    backend: TrainingBackend, data: Sequence[Datum], loss: CustomLoss
) -> ForwardBackwardOutput:
    """Run a custom loss on any backend with two calls.

    ``forward`` gives the log-probabilities; the loss returns ``dL/dlp``; a ``cross_entropy``
    ``forward_backward`` with ``weights = -dL/dlp`` then back-propagates exactly ``dL/dθ``
    (the gradient of ``-Σ w·lp`` is ``Σ dL/dlp · dlp/dθ``). This is how Tinker's
    ``forward_backward_custom`` works.
    """
    out = await backend.forward(data, LossFn.CROSS_ENTROPY)
    logprobs = [o["logprobs"] for o in out.loss_fn_outputs]
    result = loss(list(data), logprobs)
    if len(result.grads) != len(data):
        raise ConfigurationError(
            f"custom loss returned {len(result.grads)} gradient arrays for {len(data)} data; "
            "return one `dL/dlogprobs` array per datum"
        )
    surrogate = []
    for datum, grad in zip(data, result.grads, strict=True):
        g = np.asarray(grad, dtype=np.float64)
        if g.shape != (datum.length,):
            raise ConfigurationError(
                f"custom loss gradient has shape {g.shape}; expected ({datum.length},), "
                "one entry per input token"
            )
        surrogate.append(
            Datum(datum.model_input, {"target_tokens": datum.target_tokens, "weights": -g})
        )
    fb = await backend.forward_backward(surrogate, LossFn.CROSS_ENTROPY)
    metrics = {"loss:sum": float(result.loss)}
    metrics.update(result.metrics)
    return ForwardBackwardOutput(fb.loss_fn_outputs, metrics)


def _local(**options: Any) -> TrainingBackend:
    from crucible.lora._local import LocalBackend

    return LocalBackend(**options)


def _tinker(**options: Any) -> TrainingBackend:
    from crucible.lora._tinker import TinkerBackend

    return TinkerBackend(**options)


BUILTIN_BACKENDS: dict[str, BackendFactory] = {"local": _local, "tinker": _tinker}


class BackendRegistry:
    """Backend name -> factory.

    Example:
        >>> BackendRegistry().backends()[:2]
        ['local', 'tinker']
    """

    def __init__(
        self, *, builtins: bool = True, entry_point_group: str | None = ENTRY_POINT_GROUP
    ) -> None:
        self._factories: dict[str, BackendFactory] = dict(BUILTIN_BACKENDS) if builtins else {}
        self._group = entry_point_group

    def register(self, name: str, factory: BackendFactory, *, replace: bool = False) -> None:
        """Add a backend; ``replace=True`` overrides an existing one."""
        if not isinstance(name, str) or not name:
            raise ConfigurationError(f"backend `name` must be a non-empty string, got {name!r}")
        if not callable(factory):
            raise ConfigurationError(f"`factory` for backend {name!r} must be callable")
        if name in self._factories and not replace:
            raise ConfigurationError(
                f"backend {name!r} is already registered; pass replace=True to override it"
            )
        self._factories[name] = factory

    def _entry_points(self) -> list[importlib.metadata.EntryPoint]:
        if not self._group:
            return []
        return list(importlib.metadata.entry_points(group=self._group))

    def backends(self) -> list[str]:
        """Every backend name: registered ones and those offered by installed entry points."""
        return sorted(set(self._factories) | {ep.name for ep in self._entry_points()})

    def factory(self, name: str) -> BackendFactory:
        if name in self._factories:
            return self._factories[name]
        for ep in self._entry_points():
            if ep.name == name:
                loaded = ep.load()
                self._factories[name] = loaded
                return cast(BackendFactory, loaded)
        raise UnknownBackendError(
            f"unknown backend {name!r}; valid backends: {', '.join(self.backends())}. "
            f"Third-party backends register through the {self._group!r} entry-point group."
        )

    def create(self, name: str, **options: Any) -> TrainingBackend:
        """Build the backend called ``name`` with ``options``."""
        backend: TrainingBackend = self.factory(name)(**options)
        return backend


_DEFAULT: BackendRegistry | None = None


def _default() -> BackendRegistry:
    global _DEFAULT
    if _DEFAULT is None:
        _DEFAULT = BackendRegistry()
    return _DEFAULT


def create_backend(name: str, **options: Any) -> TrainingBackend:
    """Create a training backend by name (``"local"``, ``"tinker"``, or a registered one).

    Raises:
        UnknownBackendError: for an unknown name (the message lists the valid ones).

    Example:
        >>> from crucible.lora import LoraConfig
        >>> backend = create_backend("local", config=LoraConfig(rank=4, seed=0))
        >>> backend.base_model
        'crucible-tiny-byte-lm'
    """
    return _default().create(name, **options)


def register_backend(name: str, factory: BackendFactory, *, replace: bool = False) -> None:
    """Register a backend factory in the default registry."""
    _default().register(name, factory, replace=replace)
