from __future__ import annotations

import asyncio
import io
from pathlib import Path

import pytest

from crucible.core import Completion, Item, Usage
from crucible.harness import (
    Condition,
    LogProgress,
    NoProgress,
    RichProgress,
    RunStatus,
    TrialContext,
    load_run,
    run,
)
from crucible.harness._progress import make_progress

from .conftest import experiment


async def test_log_progress_reports_counts_errors_and_dollars(tmp_path: Path) -> None:
    stream = io.StringIO()
    result = await run(experiment(n=5, repeats=2), tmp_path, progress=LogProgress(stream))
    lines = stream.getvalue().splitlines()
    assert lines[0] == "crucible: running 20 trials"
    assert lines[-1].startswith("crucible: complete: 20/20 trials (100%)")
    assert f"{result.errors} errors, ${result.cost_usd:.4f}" in lines[-1]


def test_progress_choice() -> None:
    assert isinstance(make_progress(False), NoProgress)
    assert isinstance(make_progress("log"), LogProgress)
    assert isinstance(make_progress("bar"), RichProgress)
    assert isinstance(make_progress(True), LogProgress)  # pytest's stderr is not a terminal
    with pytest.raises(ValueError, match="`progress` must be"):
        make_progress("loud")


async def test_cancelled_run_keeps_committed_trials_and_resumes(tmp_path: Path) -> None:
    started = asyncio.Event()
    calls = 0
    release = asyncio.Event()

    async def pipeline(item: Item, context: TrialContext) -> Completion:
        nonlocal calls
        calls += 1
        if calls > 6:
            started.set()
            await release.wait()  # later trials hang until the run is cancelled
        return Completion(item.expected, "p", "custom", Usage(2, 1))

    exp = experiment(n=10, repeats=1, conditions=[Condition("p", pipeline)])
    task = asyncio.create_task(run(exp, tmp_path))
    await asyncio.wait_for(started.wait(), 30)
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    stored = load_run(tmp_path)
    assert stored.sessions["status"].to_list() == [RunStatus.INTERRUPTED.value]
    kept = stored.trials.height
    assert kept == 6  # every trial that finished before the cancel was committed
    release.set()
    resumed = await run(exp, tmp_path, resume=True)
    assert resumed.status is RunStatus.COMPLETE
    assert resumed.new_trials == 10 - kept
