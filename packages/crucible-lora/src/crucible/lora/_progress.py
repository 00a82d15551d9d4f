"""Terminal progress display and the training-curve plot."""

from __future__ import annotations

import itertools
import os
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, TextIO

from crucible.lora._errors import BackendUnavailableError

if TYPE_CHECKING:
    from crucible.lora._trainer import StepRecord

__all__ = ["ProgressDisplay", "plot_training_curve"]


class ProgressDisplay:
    """One self-overwriting line: epoch, step, loss, learning rate and a bar.

    Example output: ``epoch 1/3  step  12/40  [######..............]  loss 1.2345  lr 1.0e-03``
    """

    def __init__(self, total_steps: int, epochs: int, stream: TextIO | None = None) -> None:
        self.total = total_steps
        self.epochs = epochs
        self.stream = sys.stderr if stream is None else stream

    def render(self, record: StepRecord) -> str:
        width = 20
        filled = int(width * record.step / max(1, self.total))
        bar = "#" * filled + "." * (width - filled)
        digits = len(str(self.total))
        return (
            f"epoch {record.epoch + 1}/{self.epochs}  step {record.step:{digits}d}/{self.total}  "
            f"[{bar}]  loss {record.loss:.4f}  lr {record.learning_rate:.1e}"
        )

    def update(self, record: StepRecord) -> None:
        end = "\n" if record.step >= self.total else ""
        self.stream.write("\r" + self.render(record) + end)
        self.stream.flush()


def plot_training_curve(
    history: Sequence[StepRecord], path: str | os.PathLike[str], *, title: str = "Training loss"
) -> Path:
    """Save the loss per step (and the epoch boundaries) as an image; returns the path.

    Needs matplotlib (``pip install "crucible-lora[plot]"``), imported only here.
    """
    try:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError as exc:
        raise BackendUnavailableError(
            'plotting needs matplotlib: pip install "crucible-lora[plot]"'
        ) from exc
    steps = [r.step for r in history]
    losses = [r.loss for r in history]
    fig, ax = plt.subplots(figsize=(6, 3.5))
    ax.plot(steps, losses, marker=".", linewidth=1)
    for prev, cur in itertools.pairwise(history):
        if cur.epoch != prev.epoch:
            ax.axvline(prev.step + 0.5, color="grey", linewidth=0.5, linestyle="--")
    ax.set_xlabel("step")
    ax.set_ylabel("loss per weighted token")
    ax.set_title(title)
    fig.tight_layout()
    out = Path(path)
    fig.savefig(out, dpi=100)
    plt.close(fig)
    return out
