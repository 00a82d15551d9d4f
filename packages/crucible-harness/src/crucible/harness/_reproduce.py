"""Re-run a run from its manifest into a new directory and list every trial that differs."""

from __future__ import annotations

import asyncio
import datetime as _dt
import os
from pathlib import Path
from typing import Any

import attrs
import polars as pl

from crucible.harness._errors import RunDirectoryError
from crucible.harness._loader import load_experiment
from crucible.harness._rundir import load_run
from crucible.harness._runner import run

__all__ = ["REPRODUCED_COLUMNS", "Reproduction", "reproduce"]

#: Trial columns that must match; timings of the runner (wall time, timestamps, schedule
#: position, session) are not part of a result.
REPRODUCED_COLUMNS = (
    "prediction",
    "model",
    "provider",
    "finish_reason",
    "input_tokens",
    "output_tokens",
    "cached_input_tokens",
    "reasoning_tokens",
    "cost_usd",
    "latency_ms",
    "ttft_ms",
    "error_type",
    "attempts",
)


@attrs.frozen(eq=False)
class Reproduction:
    """The original run, the new one, and the differing trials (one row per differing value:
    condition, item_id, repeat, column, original, reproduced)."""

    original: Path
    reproduced: Path
    trials: int
    differences: pl.DataFrame

    @property
    def identical(self) -> bool:
        return self.differences.is_empty()

    def to_dict(self) -> dict[str, Any]:
        return {
            "original": str(self.original),
            "reproduced": str(self.reproduced),
            "trials": self.trials,
            "identical": self.identical,
            "differences": self.differences.to_dicts(),
        }

    def __str__(self) -> str:
        if self.identical:
            return f"reproduced {self.trials} trials bit for bit in {self.reproduced}"
        return (
            f"{self.differences.height} values differ between {self.original} and {self.reproduced}"
        )


def _diff(a: pl.DataFrame, b: pl.DataFrame) -> pl.DataFrame:
    key = ["condition", "item_id", "repeat"]
    columns = [c for c in a.columns if c.startswith("score_")] + list(REPRODUCED_COLUMNS)
    joined = a.select(*key, *columns).join(
        b.select(*key, *columns), on=key, how="full", suffix="__new", coalesce=True
    )
    rows: list[dict[str, Any]] = []
    for row in joined.iter_rows(named=True):
        for col in columns:
            old, new = row[col], row[f"{col}__new"]
            if old != new:
                rows.append(
                    {
                        **{k: row[k] for k in key},
                        "column": col,
                        "original": None if old is None else str(old),
                        "reproduced": None if new is None else str(new),
                    }
                )
    schema = {
        "condition": pl.String,
        "item_id": pl.String,
        "repeat": pl.Int64,
        "column": pl.String,
        "original": pl.String,
        "reproduced": pl.String,
    }
    return pl.DataFrame(rows, schema=schema).sort(key)


def reproduce(
    run_dir: str | os.PathLike[str], out_dir: str | os.PathLike[str] | None = None
) -> Reproduction:
    """Run the experiment recorded in ``run_dir``'s manifest again, into ``out_dir`` (default
    ``<run_dir>-reproduced-<UTC time>``), and compare every trial.

    With simulated models (seeded) every value must be identical; with real models the
    differences list what changed.

    Raises:
        RunDirectoryError: the run was not started from a file or the demo (no source), or
            ``out_dir`` already holds a run.
    """
    original = load_run(run_dir)
    source = original.manifest.get("source")
    if not source:
        raise RunDirectoryError(
            f"{os.fspath(run_dir)!r} records no experiment source (it was run from Python); "
            "reproduce it by running the same Experiment into a new directory"
        )
    experiment = load_experiment(source)
    stamp = _dt.datetime.now(_dt.UTC).strftime("%Y%m%dT%H%M%SZ")
    target = (
        Path(out_dir) if out_dir is not None else Path(f"{os.fspath(run_dir)}-reproduced-{stamp}")
    )
    result = asyncio.run(run(experiment, target, progress=False, source=source))
    return Reproduction(
        original=Path(run_dir),
        reproduced=target,
        trials=result.trials.height,
        differences=_diff(original.trials, result.trials),
    )
