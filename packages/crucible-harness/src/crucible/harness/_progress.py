"""Run progress: a live rich bar on a terminal, plain log lines otherwise, or nothing."""

from __future__ import annotations

import sys
import time
from typing import IO, Protocol

__all__ = ["LogProgress", "NoProgress", "Progress", "RichProgress", "make_progress"]


class Progress(Protocol):
    """Receives the run's committed counts; implementations decide how to show them."""

    def start(self, total: int, done: int) -> None: ...

    def update(self, committed: int, errors: int, cost_usd: float) -> None: ...

    def finish(self, status: str, reason: str | None) -> None: ...


class NoProgress:
    """Shows nothing (``progress=False``, ``crux run --quiet``)."""

    def start(self, total: int, done: int) -> None:
        return None

    def update(self, committed: int, errors: int, cost_usd: float) -> None:
        return None

    def finish(self, status: str, reason: str | None) -> None:
        return None


def _eta(remaining: int, rate: float) -> str:
    if rate <= 0:
        return "?"
    seconds = remaining / rate
    if seconds < 60:
        return f"{seconds:.0f}s"
    return f"{seconds // 60:.0f}m{seconds % 60:02.0f}s"


class LogProgress:
    """One plain line at most every ``every_s`` seconds (for logs, CI, pipes)."""

    def __init__(self, stream: IO[str] | None = None, *, every_s: float = 5.0) -> None:
        self.stream = stream if stream is not None else sys.stderr
        self.every_s = every_s
        self.total = 0
        self.done = 0
        self.committed = 0
        self.errors = 0
        self.cost = 0.0
        self._t0 = time.monotonic()
        self._last = 0.0

    def _line(self, prefix: str) -> str:
        elapsed = max(time.monotonic() - self._t0, 1e-9)
        rate = self.committed / elapsed
        finished = self.done + self.committed
        pct = 100.0 * finished / self.total if self.total else 100.0
        return (
            f"{prefix} {finished}/{self.total} trials ({pct:.0f}%), {rate:.1f} calls/s, "
            f"{self.errors} errors, ${self.cost:.4f}, ETA {_eta(self.total - finished, rate)}"
        )

    def start(self, total: int, done: int) -> None:
        self.total, self.done = total, done
        self._t0 = self._last = time.monotonic()
        resumed = f" ({done} already done)" if done else ""
        print(f"crucible: running {total - done} trials{resumed}", file=self.stream, flush=True)

    def update(self, committed: int, errors: int, cost_usd: float) -> None:
        self.committed, self.errors, self.cost = committed, errors, cost_usd
        now = time.monotonic()
        if now - self._last >= self.every_s:
            self._last = now
            print(self._line("crucible:"), file=self.stream, flush=True)

    def finish(self, status: str, reason: str | None) -> None:
        why = f" ({reason})" if reason else ""
        print(self._line(f"crucible: {status}{why}:"), file=self.stream, flush=True)


class RichProgress:
    """A live progress bar with ETA, calls/s, errors and dollars (rich)."""

    def __init__(self) -> None:
        from rich.console import Console
        from rich.progress import (
            BarColumn,
            MofNCompleteColumn,
            TaskID,
            TextColumn,
            TimeElapsedColumn,
            TimeRemainingColumn,
        )
        from rich.progress import Progress as _Bar

        self._bar = _Bar(
            TextColumn("[bold]{task.description}"),
            BarColumn(),
            MofNCompleteColumn(),
            TimeElapsedColumn(),
            TextColumn("ETA"),
            TimeRemainingColumn(),
            TextColumn("{task.fields[rate]:.1f} calls/s"),
            TextColumn("[red]{task.fields[errors]} errors"),
            TextColumn("[green]${task.fields[cost]:.4f}"),
            console=Console(stderr=True),
            transient=False,
        )
        self._task = TaskID(0)
        self._t0 = time.monotonic()
        self._done = 0

    def start(self, total: int, done: int) -> None:
        self._t0 = time.monotonic()
        self._done = done
        self._bar.start()
        self._task = self._bar.add_task(
            "trials", total=total, completed=done, rate=0.0, errors=0, cost=0.0
        )

    def update(self, committed: int, errors: int, cost_usd: float) -> None:
        rate = committed / max(time.monotonic() - self._t0, 1e-9)
        self._bar.update(
            self._task, completed=self._done + committed, rate=rate, errors=errors, cost=cost_usd
        )

    def finish(self, status: str, reason: str | None) -> None:
        self._bar.update(self._task, description=status)
        self._bar.stop()


def make_progress(progress: bool | str | Progress) -> Progress:
    """``True``/``"auto"``: a bar on a terminal, log lines otherwise; ``False``: nothing."""
    if progress is False or progress == "none":
        return NoProgress()
    if progress is True or progress == "auto":
        return RichProgress() if sys.stderr.isatty() else LogProgress()
    if progress == "log":
        return LogProgress()
    if progress == "bar":
        return RichProgress()
    if isinstance(progress, str):
        raise ValueError(
            f"`progress` must be True, False, 'auto', 'bar' or 'log', got {progress!r}"
        )
    return progress
