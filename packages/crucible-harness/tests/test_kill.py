"""kill -9 at random points, then resume: no trial lost or duplicated, the same final table."""

from __future__ import annotations

import importlib.util
import random
from pathlib import Path
from types import ModuleType

import polars as pl
import pytest
from polars.testing import assert_frame_equal

from crucible.harness import RunStatus, load_run, run

HELPER = Path(__file__).with_name("_killrun.py")
VOLATILE = ["started_at", "finished_at", "wall_ms", "session"]


def _helper() -> ModuleType:
    spec = importlib.util.spec_from_file_location("crucible_harness_killrun", HELPER)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def stable(frame: pl.DataFrame) -> pl.DataFrame:
    return frame.drop(VOLATILE).sort(["condition", "item_id", "repeat"])


@pytest.mark.slow
async def test_sigkill_at_random_points_then_resume(tmp_path: Path) -> None:
    killrun = _helper()
    zygote = killrun.Zygote()  # starts importing while the reference run goes on
    try:
        reference = await run(killrun.build(), tmp_path / "reference")
        assert reference.trials.height == killrun.TOTAL
        for point in random.Random(2024).sample(range(1, 100), 5):
            run_dir = tmp_path / f"kill-{point}"
            reported = zygote.kill_after(run_dir, point)
            await _check(killrun, run_dir, reported, reference.trials)
    finally:
        zygote.close()


async def _check(
    killrun: ModuleType, run_dir: Path, reported: int, reference: pl.DataFrame
) -> None:
    survived = load_run(run_dir).trials
    # Everything reported committed survived the kill; nothing is there twice.
    assert survived.height >= reported
    assert survived.select("condition", "item_id", "repeat").unique().height == survived.height
    resumed = await run(killrun.build(), run_dir, resume=True)
    assert resumed.status is RunStatus.COMPLETE
    assert resumed.new_trials == killrun.TOTAL - survived.height
    assert resumed.trials.height == killrun.TOTAL
    assert_frame_equal(stable(resumed.trials), stable(reference))
    sessions = load_run(run_dir).sessions
    first, last = sessions["status"].to_list()
    # The killed session is marked crashed on resume, unless the kill came after it finished.
    assert first == "crashed" or (first == "complete" and survived.height == killrun.TOTAL)
    assert last == "complete"
    assert sessions["committed"].to_list() == [survived.height, resumed.new_trials]
