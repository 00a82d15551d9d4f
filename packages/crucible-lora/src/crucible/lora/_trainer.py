"""The training loop: batches, callbacks, hooks, spans, checkpoints and resume after a crash."""

from __future__ import annotations

import hashlib
import json
import math
import os
import tempfile
from collections.abc import Callable, Iterable, Mapping, Sequence
from enum import StrEnum
from pathlib import Path
from typing import Any

import attrs
import numpy as np
from opentelemetry import trace

from crucible.core import Item, Seeds, ValidationError
from crucible.lora._backend import TrainingBackend
from crucible.lora._config import AdamParams, LoraConfig
from crucible.lora._datum import Datum, ForwardBackwardOutput
from crucible.lora._errors import CheckpointError
from crucible.lora._losses import LossFn, parse_loss
from crucible.lora._progress import ProgressDisplay

__all__ = ["Callback", "LrSchedule", "StepRecord", "Trainer", "TrainingResult", "to_datum"]

TRACER_NAME = "crucible.lora"
ATTR_STEP = "crucible.lora.step"
ATTR_EPOCH = "crucible.lora.epoch"
ATTR_LOSS = "crucible.lora.loss"
ATTR_LEARNING_RATE = "crucible.lora.learning_rate"
ATTR_GRAD_NORM = "crucible.lora.grad_norm"
ATTR_TOKENS = "crucible.lora.tokens"
_STATE_FILE = "trainer_state.json"

MetricHook = Callable[[int, ForwardBackwardOutput], Mapping[str, float]]
GradientHook = Callable[[int, Mapping[str, np.ndarray]], None]


class LrSchedule(StrEnum):
    """Learning-rate multiplier over the run: constant, linear decay to 0, or cosine to 0."""

    CONSTANT = "constant"
    LINEAR = "linear"
    COSINE = "cosine"

    def factor(self, step: int, total: int) -> float:
        frac = (step - 1) / max(1, total)
        if self is LrSchedule.LINEAR:
            return 1.0 - frac
        if self is LrSchedule.COSINE:
            return 0.5 * (1.0 + math.cos(math.pi * frac))
        return 1.0


@attrs.frozen
class StepRecord:
    """One optimizer step: loss per weighted token, learning rate, gradient norm, extras."""

    step: int
    epoch: int
    loss: float
    learning_rate: float
    grad_norm: float
    tokens: float
    metrics: dict[str, float] = attrs.field(factory=dict)

    def to_dict(self) -> dict[str, Any]:
        return attrs.asdict(self)

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> StepRecord:
        return cls(**data)


@attrs.frozen
class TrainingResult:
    """What :meth:`Trainer.fit` returns.

    Attributes:
        history: one record per step, in order, across resumes.
        state_path: the last saved state (``None`` if checkpointing was off).
        resumed_from: the step a crashed run was resumed from (0 for a fresh run).
    """

    history: tuple[StepRecord, ...]
    state_path: str | None
    resumed_from: int

    @property
    def losses(self) -> list[float]:
        return [r.loss for r in self.history]

    def to_dict(self) -> dict[str, Any]:
        return {
            "history": [r.to_dict() for r in self.history],
            "state_path": self.state_path,
            "resumed_from": self.resumed_from,
        }

    def __str__(self) -> str:
        if not self.history:
            return "TrainingResult(no steps)"
        return (
            f"{len(self.history)} steps, loss {self.history[0].loss:.4f} -> "
            f"{self.history[-1].loss:.4f}, resumed from step {self.resumed_from}"
        )


class Callback:
    """Subclass and override what you need; every method is a no-op by default."""

    def on_step_end(self, record: StepRecord) -> None:
        """After a step (and its checkpoint, if one was due)."""

    def on_epoch_end(self, epoch: int, records: Sequence[StepRecord]) -> None:
        """After the last step of ``epoch`` (0-based), with that epoch's records."""

    def on_checkpoint(self, step: int, path: str) -> None:
        """After a state was saved at ``step`` to ``path``."""


def to_datum(item: object, backend: TrainingBackend) -> Datum:
    """A training example from a Datum, a ``{"prompt", "completion"}`` mapping or an Item.

    For prompt/completion pairs the prompt positions get weight 0, so only the completion is
    learned.
    """
    if isinstance(item, Datum):
        return item
    if isinstance(item, Item):
        prompt, completion = item.input, item.expected
    elif isinstance(item, Mapping) and "prompt" in item and "completion" in item:
        prompt, completion = item["prompt"], item["completion"]
    else:
        raise ValidationError(
            "`dataset` items must be Datum, crucible.core.Item (input, expected) or mappings "
            f"with 'prompt' and 'completion'; got {item!r:.80}"
        )
    if not isinstance(prompt, str) or not isinstance(completion, str) or not completion:
        raise ValidationError(
            f"`dataset` item needs a string prompt and a non-empty string completion, got "
            f"{item!r:.80}"
        )
    return Datum.from_prompt_completion(backend.encode(prompt), backend.encode(completion))


def _dataset_hash(data: Sequence[Datum]) -> str:
    digest = hashlib.sha256()
    for d in data:
        digest.update(json.dumps(d.to_dict(), sort_keys=True).encode())
    return digest.hexdigest()


def _write_json_atomic(path: Path, payload: Mapping[str, Any]) -> None:
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "w") as fh:
            json.dump(payload, fh)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


class Trainer:
    """Supervised (or any-loss) LoRA training with checkpoints and crash-safe resume.

    Args:
        backend: a :class:`TrainingBackend` (``create_backend("local", config=...)``).
        config: the LoRA config the backend was built with (recorded with checkpoints).
        adam: optimizer settings; the learning rate is scaled per step by ``lr_schedule``.
        batch_size: data per optimizer step (> 0).
        epochs: passes over the dataset (> 0); each epoch is shuffled with ``seed``.
        checkpoint_every: save the state every this many steps (0: only at the end when a
            ``checkpoint_dir`` is given).
        seed: shuffling seed; the same seed and data give the same batches, bit for bit.
        checkpoint_dir: where ``trainer_state.json`` lives; if it holds the state of an
            interrupted run with the same data and settings, ``fit`` resumes after its last
            checkpoint: no step is repeated and none is lost.
        callbacks, metric_hooks, gradient_hooks: see :class:`Callback`; a metric hook
            ``(step, forward_backward output) -> {name: value}`` adds to the record's metrics;
            a gradient hook ``(step, {param: grad})`` sees the gradients before the update (on
            backends that expose ``gradients()``, like ``local``).
        progress: show a progress line on stderr (default: when stderr is a terminal).

    Example:
        >>> import asyncio
        >>> from crucible.lora import LocalBackend
        >>> cfg = LoraConfig(rank=4, seed=0)
        >>> trainer = Trainer(LocalBackend(cfg), cfg, AdamParams(1e-3), batch_size=2, seed=0)
        >>> result = asyncio.run(trainer.fit([{"prompt": "Q:", "completion": " yes"}] * 4))
        >>> len(result.history)
        2
    """

    def __init__(
        self,
        backend: TrainingBackend,
        config: LoraConfig,
        adam: AdamParams,
        *,
        batch_size: int,
        epochs: int = 1,
        checkpoint_every: int = 0,
        seed: int = 0,
        checkpoint_dir: str | os.PathLike[str] | None = None,
        loss_fn: str | LossFn = LossFn.CROSS_ENTROPY,
        lr_schedule: str | LrSchedule = LrSchedule.CONSTANT,
        callbacks: Iterable[Callback] = (),
        metric_hooks: Iterable[MetricHook] = (),
        gradient_hooks: Iterable[GradientHook] = (),
        progress: bool | None = None,
    ) -> None:
        if not isinstance(config, LoraConfig):
            raise ValidationError(f"`config` must be a LoraConfig, got {config!r:.80}")
        backend_config = getattr(backend, "config", None)
        if isinstance(backend_config, LoraConfig) and backend_config != config:
            raise ValidationError(
                f"`config` {config} differs from the backend's {backend_config}; build the "
                "backend with the same LoraConfig"
            )
        if not isinstance(adam, AdamParams):
            raise ValidationError(f"`adam` must be AdamParams, got {adam!r:.80}")
        for name, value, low in (
            ("batch_size", batch_size, 1),
            ("epochs", epochs, 1),
            ("checkpoint_every", checkpoint_every, 0),
        ):
            if isinstance(value, bool) or not isinstance(value, int) or value < low:
                raise ValidationError(f"`{name}` must be an int >= {low}, got {value!r}")
        if checkpoint_every and checkpoint_dir is None:
            raise ValidationError(
                f"`checkpoint_every`={checkpoint_every} needs a `checkpoint_dir` to save into"
            )
        try:
            self.lr_schedule = LrSchedule(lr_schedule)
        except ValueError:
            valid = ", ".join(repr(s.value) for s in LrSchedule)
            raise ValidationError(
                f"unknown `lr_schedule` {lr_schedule!r}; valid: {valid}"
            ) from None
        self.backend = backend
        self.config = config
        self.adam = adam
        self.batch_size = batch_size
        self.epochs = epochs
        self.checkpoint_every = checkpoint_every
        self.seeds = Seeds(seed)
        self.seed = seed
        self.loss_fn = parse_loss(loss_fn)
        self.checkpoint_dir = None if checkpoint_dir is None else Path(checkpoint_dir)
        self.callbacks = list(callbacks)
        self.metric_hooks = list(metric_hooks)
        self.gradient_hooks = list(gradient_hooks)
        self.progress = progress

    def batches(self, n: int, epoch: int) -> list[np.ndarray]:
        """Indices of each batch of ``epoch`` (a seeded permutation cut into batches)."""
        order = self.seeds.generator("lora-trainer-shuffle", epoch).permutation(n)
        return [order[i : i + self.batch_size] for i in range(0, n, self.batch_size)]

    def _fingerprint(self, data: Sequence[Datum]) -> dict[str, Any]:
        return {
            "dataset_sha256": _dataset_hash(data),
            "batch_size": self.batch_size,
            "epochs": self.epochs,
            "seed": self.seed,
            "loss_fn": self.loss_fn.value,
            "adam": self.adam.to_dict(),
            "lora_config": self.config.to_dict(),
        }

    async def _resume(
        self, fingerprint: dict[str, Any]
    ) -> tuple[int, list[StepRecord], str | None]:
        if self.checkpoint_dir is None:
            return 0, [], None
        state_file = self.checkpoint_dir / _STATE_FILE
        if not state_file.exists():
            return 0, [], None
        try:
            state = json.loads(state_file.read_text())
        except json.JSONDecodeError as exc:
            raise CheckpointError(
                f"`checkpoint_dir` has an unreadable {_STATE_FILE}: {exc}"
            ) from exc
        if state.get("fingerprint") != fingerprint:
            raise CheckpointError(
                f"`checkpoint_dir` {str(self.checkpoint_dir)!r} holds a run with other data or "
                "settings; use a fresh directory or the same dataset, batch_size, epochs, seed, "
                "loss and configs"
            )
        await self.backend.load_state(state["state_path"], with_optimizer=True)
        history = [StepRecord.from_dict(r) for r in state["history"]]
        return int(state["step"]), history, str(state["state_path"])

    async def _checkpoint(
        self, step: int, history: list[StepRecord], fingerprint: dict[str, Any]
    ) -> str:
        assert self.checkpoint_dir is not None
        path = await self.backend.save_state(f"step-{step:06d}")
        # The state file is the commit point: a crash before it is replaced resumes from the
        # previous checkpoint, and the state it names is always completely written.
        _write_json_atomic(
            self.checkpoint_dir / _STATE_FILE,
            {
                "step": step,
                "state_path": path,
                "history": [r.to_dict() for r in history],
                "fingerprint": fingerprint,
            },
        )
        for cb in self.callbacks:
            cb.on_checkpoint(step, path)
        return path

    async def fit(self, dataset: Iterable[object]) -> TrainingResult:
        """Train over ``dataset`` (Datum, Item or prompt/completion mappings).

        Raises:
            ValidationError: an empty dataset or malformed items.
            CheckpointError: ``checkpoint_dir`` holds an incompatible or unreadable run.
        """
        data = [to_datum(item, self.backend) for item in dataset]
        if not data:
            raise ValidationError("`dataset` is empty; give at least one training example")
        if self.checkpoint_dir is not None:
            self.checkpoint_dir.mkdir(parents=True, exist_ok=True)
        fingerprint = self._fingerprint(data)
        start, history, state_path = await self._resume(fingerprint)
        per_epoch = self.batches(len(data), 0)
        total = len(per_epoch) * self.epochs
        show = self.progress if self.progress is not None else os.isatty(2)
        display = ProgressDisplay(total, self.epochs) if show else None
        tracer = trace.get_tracer(TRACER_NAME)
        step = 0
        for epoch in range(self.epochs):
            for batch in self.batches(len(data), epoch):
                step += 1
                if step <= start:
                    continue
                record = await self._step(tracer, step, epoch, total, [data[i] for i in batch])
                history.append(record)
                if self.checkpoint_dir is not None and (
                    step == total or (self.checkpoint_every and step % self.checkpoint_every == 0)
                ):
                    state_path = await self._checkpoint(step, history, fingerprint)
                if display is not None:
                    display.update(record)
                for cb in self.callbacks:
                    cb.on_step_end(record)
            if step > start:
                epoch_records = [r for r in history if r.epoch == epoch]
                for cb in self.callbacks:
                    cb.on_epoch_end(epoch, epoch_records)
        return TrainingResult(tuple(history), state_path, start)

    async def _step(
        self, tracer: trace.Tracer, step: int, epoch: int, total: int, batch: list[Datum]
    ) -> StepRecord:
        lr = self.adam.learning_rate * self.lr_schedule.factor(step, total)
        with tracer.start_as_current_span("lora.train_step") as span:
            out = await self.backend.forward_backward(batch, self.loss_fn)
            extra: dict[str, float] = {}
            for hook in self.metric_hooks:
                extra.update({k: float(v) for k, v in hook(step, out).items()})
            gradients = getattr(self.backend, "gradients", None)
            if self.gradient_hooks and callable(gradients):
                grads = gradients()
                for ghook in self.gradient_hooks:
                    ghook(step, grads)
            result = await self.backend.optim_step(
                attrs.evolve(self.adam, learning_rate=max(lr, 1e-30))
            )
            tokens = float(sum(d.weights.sum() for d in batch))
            loss = out.loss / tokens if tokens > 0 else out.loss
            grad_norm = float(result.metrics.get("grad_norm:mean", float("nan")))
            span.set_attribute(ATTR_STEP, step)
            span.set_attribute(ATTR_EPOCH, epoch)
            span.set_attribute(ATTR_LOSS, loss)
            span.set_attribute(ATTR_LEARNING_RATE, lr)
            span.set_attribute(ATTR_GRAD_NORM, grad_norm)
            span.set_attribute(ATTR_TOKENS, tokens)
        return StepRecord(step, epoch, loss, lr, grad_norm, tokens, extra)
