"""The trainer: batches, callbacks, hooks, spans, progress, plots, checkpoints, crash resume."""

from __future__ import annotations

import asyncio
import io
import json
import signal
import subprocess
import sys
import textwrap
from pathlib import Path

import numpy as np
import pytest
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter

from crucible.core import Item, ValidationError
from crucible.lora import (
    AdamParams,
    Callback,
    CheckpointError,
    LocalBackend,
    LoraConfig,
    ProgressDisplay,
    StepRecord,
    Trainer,
    plot_training_curve,
)

from .conftest import TASK

ADAM = AdamParams(learning_rate=3e-3)


class Recorder(Callback):
    def __init__(self) -> None:
        self.events: list[tuple[str, int]] = []

    def on_step_end(self, record: StepRecord) -> None:
        self.events.append(("step", record.step))

    def on_epoch_end(self, epoch: int, records: list[StepRecord]) -> None:  # type: ignore[override]
        self.events.append(("epoch", epoch))

    def on_checkpoint(self, step: int, path: str) -> None:
        self.events.append(("checkpoint", step))


async def test_fit_runs_batches_callbacks_hooks_and_spans(
    backend: LocalBackend, config: LoraConfig, tmp_path: Path, spans: InMemorySpanExporter
) -> None:
    rec = Recorder()
    seen_grads: list[int] = []
    trainer = Trainer(
        backend,
        config,
        ADAM,
        batch_size=4,
        epochs=2,
        checkpoint_every=3,
        seed=1,
        checkpoint_dir=tmp_path / "run",
        callbacks=[rec],
        metric_hooks=[lambda step, out: {"n_outputs:sum": float(len(out.loss_fn_outputs))}],
        gradient_hooks=[lambda step, grads: seen_grads.append(len(grads))],
        progress=False,
    )
    result = await trainer.fit(TASK)
    # 6 items, batch 4 -> 2 steps per epoch, 2 epochs.
    assert [r.step for r in result.history] == [1, 2, 3, 4]
    assert [r.epoch for r in result.history] == [0, 0, 1, 1]
    assert [r.metrics["n_outputs:sum"] for r in result.history] == [4.0, 2.0, 4.0, 2.0]
    n_adapted = 2 * (4 + 2) + 1  # per layer: wq, wk, wv, wo, w1, w2; plus unembed
    assert seen_grads == [2 * n_adapted] * 4
    assert rec.events == [
        ("step", 1),
        ("step", 2),
        ("epoch", 0),
        ("checkpoint", 3),
        ("step", 3),
        ("checkpoint", 4),
        ("step", 4),
        ("epoch", 1),
    ]
    assert result.losses[-1] < result.losses[0]
    assert result.to_dict()["history"][0]["step"] == 1
    assert str(result).startswith("4 steps, loss ")
    assert result.state_path is not None and result.state_path.endswith("step-000004.safetensors")
    step_spans = [s for s in spans.get_finished_spans() if s.name == "lora.train_step"]
    assert [s.attributes["crucible.lora.step"] for s in step_spans] == [1, 2, 3, 4]
    assert all(s.attributes["crucible.lora.learning_rate"] == 3e-3 for s in step_spans)
    assert [s.attributes["crucible.lora.loss"] for s in step_spans] == result.losses


async def test_items_and_shuffling_are_seeded(config: LoraConfig) -> None:
    items = [
        Item(id=str(i), input=t["prompt"], expected=t["completion"]) for i, t in enumerate(TASK)
    ]
    a = await Trainer(LocalBackend(config), config, ADAM, batch_size=2, seed=4, progress=False).fit(
        items
    )
    b = await Trainer(LocalBackend(config), config, ADAM, batch_size=2, seed=4, progress=False).fit(
        TASK
    )
    assert a.losses == b.losses
    t = Trainer(LocalBackend(config), config, ADAM, batch_size=4, seed=4)
    batches = t.batches(6, 0)
    assert sorted(np.concatenate(batches).tolist()) == list(range(6))
    assert [len(x) for x in batches] == [4, 2]
    assert [x.tolist() for x in t.batches(6, 0)] == [x.tolist() for x in batches]
    assert [x.tolist() for x in t.batches(6, 1)] != [x.tolist() for x in batches]


async def test_bad_trainer_input(backend: LocalBackend, config: LoraConfig) -> None:
    with pytest.raises(ValidationError, match="`dataset` is empty"):
        await Trainer(backend, config, ADAM, batch_size=2).fit([])
    with pytest.raises(ValidationError, match="`dataset` items must be"):
        await Trainer(backend, config, ADAM, batch_size=2).fit([42])
    with pytest.raises(ValidationError, match="`batch_size` must be an int >= 1"):
        Trainer(backend, config, ADAM, batch_size=0)
    with pytest.raises(ValidationError, match="differs from the backend's"):
        Trainer(backend, LoraConfig(rank=8), ADAM, batch_size=2)
    with pytest.raises(ValidationError, match="`checkpoint_every`=2 needs a `checkpoint_dir`"):
        Trainer(backend, config, ADAM, batch_size=2, checkpoint_every=2)
    with pytest.raises(ValidationError, match="valid: 'constant', 'linear', 'cosine'"):
        Trainer(backend, config, ADAM, batch_size=2, lr_schedule="step")


async def test_resume_refuses_a_different_run(config: LoraConfig, tmp_path: Path) -> None:
    await Trainer(
        LocalBackend(config), config, ADAM, batch_size=3, checkpoint_dir=tmp_path, progress=False
    ).fit(TASK)
    with pytest.raises(CheckpointError, match="other data or settings"):
        await Trainer(
            LocalBackend(config), config, ADAM, batch_size=2, checkpoint_dir=tmp_path
        ).fit(TASK)


WORKER = textwrap.dedent(
    """
    import asyncio, sys
    from crucible.lora import AdamParams, Callback, LocalBackend, LoraConfig, Trainer
    from tests_task import TASK

    class Report(Callback):
        def on_step_end(self, record):
            print(f"step {record.step}", flush=True)
            if record.step == 3:
                sys.stdin.readline()  # wait here until the parent kills us

    async def main(ckpt):
        cfg = LoraConfig(rank=4, alpha=8, seed=0, dropout=0.1)
        backend = LocalBackend(cfg, checkpoint_dir=ckpt + "/states")
        trainer = Trainer(backend, cfg, AdamParams(learning_rate=3e-3), batch_size=2, epochs=3,
                          checkpoint_every=2, seed=5, checkpoint_dir=ckpt, callbacks=[Report()],
                          progress=False)
        await trainer.fit(TASK)

    asyncio.run(main(sys.argv[1]))
    """
)


def test_kill_9_then_resume_repeats_and_loses_no_step(tmp_path: Path) -> None:
    (tmp_path / "tests_task.py").write_text(f"TASK = {TASK!r}\n")
    (tmp_path / "worker.py").write_text(WORKER)
    ckpt = tmp_path / "run"
    proc = subprocess.Popen(
        [sys.executable, str(tmp_path / "worker.py"), str(ckpt)],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
        cwd=tmp_path,
    )
    assert proc.stdout is not None
    printed = [proc.stdout.readline().strip() for _ in range(3)]
    assert printed == ["step 1", "step 2", "step 3"]
    proc.send_signal(signal.SIGKILL)
    assert proc.wait(timeout=30) == -signal.SIGKILL
    # Step 3 ran but was not checkpointed (checkpoint_every=2): the commit point says step 2.
    assert json.loads((ckpt / "trainer_state.json").read_text())["step"] == 2

    cfg = LoraConfig(rank=4, alpha=8, seed=0, dropout=0.1)

    def trainer(backend: LocalBackend, directory: Path) -> Trainer:
        return Trainer(
            backend,
            cfg,
            AdamParams(learning_rate=3e-3),
            batch_size=2,
            epochs=3,
            checkpoint_every=2,
            seed=5,
            checkpoint_dir=directory,
            progress=False,
        )

    resumed_backend = LocalBackend(cfg, checkpoint_dir=ckpt / "states")
    resumed = asyncio.run(trainer(resumed_backend, ckpt).fit(TASK))
    clean_backend = LocalBackend(cfg, checkpoint_dir=tmp_path / "clean-states")
    clean = asyncio.run(trainer(clean_backend, tmp_path / "clean").fit(TASK))

    assert resumed.resumed_from == 2
    assert [r.step for r in resumed.history] == list(range(1, 10))
    assert resumed.losses == clean.losses
    for k, v in clean_backend.adapters.items():
        np.testing.assert_array_equal(resumed_backend.adapters[k], v)
    final = json.loads((ckpt / "trainer_state.json").read_text())
    assert [r["step"] for r in final["history"]] == list(range(1, 10))


def test_progress_display_and_plot(tmp_path: Path) -> None:
    stream = io.StringIO()
    display = ProgressDisplay(total_steps=4, epochs=2, stream=stream)
    rec = StepRecord(step=2, epoch=0, loss=1.23456, learning_rate=1e-3, grad_norm=0.5, tokens=10)
    display.update(rec)
    assert stream.getvalue() == (
        "\repoch 1/2  step 2/4  [##########..........]  loss 1.2346  lr 1.0e-03"
    )
    display.update(StepRecord(4, 1, 0.5, 1e-3, 0.5, 10))
    assert stream.getvalue().endswith("loss 0.5000  lr 1.0e-03\n")
    pytest.importorskip("matplotlib")
    out = plot_training_curve(
        [StepRecord(1, 0, 2.0, 1e-3, 1.0, 5), rec, StepRecord(3, 1, 0.9, 1e-3, 1.0, 5)],
        tmp_path / "curve.png",
    )
    assert out.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
