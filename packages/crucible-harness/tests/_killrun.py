"""Runs to kill with SIGKILL at chosen points, for test_kill.py and scripts/chaos.

``python _killrun.py`` starts a *zygote*: it imports everything once, then for each run
directory written to its standard input it forks a child that runs :func:`build`'s experiment
there, printing ``pid N``, then the committed trial count after every group commit, and
``reaped`` once the child has exited (killed or finished). Forking from a process that has
already imported the stack makes each killed run start in milliseconds instead of seconds.
"""

from __future__ import annotations

import asyncio
import os
import select
import signal
import subprocess
import sys
import time
from pathlib import Path

from crucible.core import Item, SimulatedModel
from crucible.datasets import Dataset
from crucible.harness import Condition, Experiment, Limits, run

HERE = Path(__file__).resolve()
N_ITEMS = 30
REPEATS = 2
TOTAL = 2 * N_ITEMS * REPEATS


def build() -> Experiment:
    """120 trials of two simulated models answering in about 15 ms, with retried transient errors."""
    items = [Item(f"q{i}", f"What is {i} + {i + 1}?", str(2 * i + 1)) for i in range(N_ITEMS)]
    common = {"seed": 5, "time_scale": 0.02, "error_rate": 0.05, "error_mix": {"server": 1.0}}
    return Experiment(
        "killed",
        Dataset("arith", items),
        [
            Condition("a", SimulatedModel("model-a", **common)),
            Condition("b", SimulatedModel("model-b", **common), prompt="Q: {input}\nA:"),
        ],
        scorers=["numeric"],
        repeats=REPEATS,
        seed=9,
        limits=Limits(concurrency=8, backoff_base_s=0.001, backoff_max_s=0.002),
    )


class _Announce:
    """Progress that prints the committed count after every commit."""

    def start(self, total: int, done: int) -> None:
        return None

    def update(self, committed: int, errors: int, cost_usd: float) -> None:
        print(committed, flush=True)

    def finish(self, status: str, reason: str | None) -> None:
        return None


class Zygote:
    """The parent's handle on a zygote process."""

    def __init__(self, timeout_s: float = 120.0) -> None:
        self.timeout_s = timeout_s
        self.proc = subprocess.Popen(
            [sys.executable, str(HERE)],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.DEVNULL,
        )
        self._buffer = b""
        self._ready = False  # imports go on in the background until the first run

    def _wait_ready(self) -> None:
        if not self._ready:
            if self._line() != "ready":
                raise RuntimeError("the zygote did not start")
            self._ready = True

    def _line(self) -> str:
        assert self.proc.stdout is not None
        fd = self.proc.stdout.fileno()
        deadline = time.monotonic() + self.timeout_s
        while b"\n" not in self._buffer:
            left = deadline - time.monotonic()
            ready, _, _ = select.select([fd], [], [], max(left, 0.0))
            if not ready:
                raise TimeoutError(f"no output from the zygote within {self.timeout_s} s")
            chunk = os.read(fd, 65536)
            if not chunk:
                raise RuntimeError("the zygote exited")
            self._buffer += chunk
        line, _, self._buffer = self._buffer.partition(b"\n")
        return line.decode().strip()

    def kill_after(self, run_dir: Path, commits: int) -> int:
        """Run in ``run_dir`` and SIGKILL the run once it reports ``commits`` committed trials
        (or finishes); returns the last committed count it reported before the kill."""
        self._wait_ready()
        assert self.proc.stdin is not None
        self.proc.stdin.write(f"{run_dir}\n".encode())
        self.proc.stdin.flush()
        first = self._line()
        pid = int(first.removeprefix("pid "))
        reported = 0
        while True:
            line = self._line()
            if line == "reaped":
                return reported
            if line == "finished":
                continue
            reported = int(line)
            if reported >= commits:
                break
        os.kill(pid, signal.SIGKILL)
        while self._line() != "reaped":
            pass
        return reported

    def close(self) -> None:
        assert self.proc.stdin is not None
        self.proc.stdin.close()
        self.proc.wait(timeout=self.timeout_s)


def _serve() -> None:
    print("ready", flush=True)
    for line in sys.stdin:
        run_dir = line.strip()
        pid = os.fork()
        if pid == 0:
            code = 0
            try:
                asyncio.run(run(build(), run_dir, progress=_Announce()))
                print("finished", flush=True)
            except BaseException:
                code = 1
            os._exit(code)
        print(f"pid {pid}", flush=True)
        os.waitpid(pid, 0)
        print("reaped", flush=True)


if __name__ == "__main__":
    _serve()
