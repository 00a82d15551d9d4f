"""The result of a run: the trials table, its status, and a per-condition summary."""

from __future__ import annotations

from enum import StrEnum
from pathlib import Path
from typing import Any

import attrs
import polars as pl

__all__ = ["RunResult", "RunStatus", "summarize"]


class RunStatus(StrEnum):
    """How a run (or run session) ended."""

    COMPLETE = "complete"  # every trial is committed
    PARTIAL = "partial"  # stopped early by the budget: resume with a larger one
    FAILED = "failed"  # stopped by `fail_on_error`
    INTERRUPTED = "interrupted"  # cancelled (Ctrl-C): resume to finish
    CRASHED = "crashed"  # a session whose process died (kill -9, power loss): resume to finish


def summarize(trials: pl.DataFrame, scorers: list[str]) -> pl.DataFrame:
    """One row per condition: trials, errors, mean of each score, latency, tokens and cost.

    Means of scores skip trials that errored (their score is null).
    """
    if trials.is_empty():
        return pl.DataFrame(
            schema={"condition": pl.String, "trials": pl.UInt32, "errors": pl.UInt32}
        )
    aggs: list[pl.Expr] = [
        pl.len().alias("trials"),
        pl.col("error_type").is_not_null().sum().alias("errors"),
    ]
    aggs += [pl.col(f"score_{s}").mean().alias(s) for s in scorers]
    aggs += [
        pl.col("latency_ms").median().alias("latency_p50_ms"),
        pl.col("latency_ms").quantile(0.95, "linear").alias("latency_p95_ms"),
        (pl.col("input_tokens") + pl.col("output_tokens") + pl.col("reasoning_tokens"))
        .sum()
        .alias("tokens"),
        pl.col("cost_usd").sum().alias("cost_usd"),
    ]
    return trials.group_by("condition", maintain_order=True).agg(aggs).sort("condition")


@attrs.frozen(eq=False)
class RunResult:
    """What :func:`run` returns.

    Attributes:
        experiment: the experiment's name.
        experiment_id: name plus fingerprint digest; tags the run's telemetry events.
        run_dir: the run directory (``run.duckdb``, ``manifest.json``).
        status: :class:`RunStatus`.
        reason: why the run stopped early (``None`` when complete).
        trials: one row per committed (condition, item, repeat), in schedule order.
        attempts: one row per model call attempt, failures included.
        expected: how many trials the experiment has.
        scorers: the score names (columns ``score_<name>`` of ``trials``).
        elapsed_s: wall time of this session.
        new_trials: trials committed by this session.
    """

    experiment: str
    experiment_id: str
    run_dir: Path
    status: RunStatus
    reason: str | None
    trials: pl.DataFrame
    attempts: pl.DataFrame
    expected: int
    scorers: list[str]
    elapsed_s: float
    new_trials: int

    @property
    def complete(self) -> bool:
        return self.status is RunStatus.COMPLETE

    @property
    def cost_usd(self) -> float:
        value = self.trials["cost_usd"].sum() if self.trials.height else 0.0
        return float(value or 0.0)

    @property
    def errors(self) -> int:
        return int(self.trials["error_type"].is_not_null().sum()) if self.trials.height else 0

    def summary(self) -> pl.DataFrame:
        """Per-condition trials, errors, mean scores, latency, tokens and cost."""
        return summarize(self.trials, self.scorers)

    def to_dict(self) -> dict[str, Any]:
        return {
            "experiment": self.experiment,
            "experiment_id": self.experiment_id,
            "run_dir": str(self.run_dir),
            "status": self.status.value,
            "reason": self.reason,
            "trials": self.trials.height,
            "expected": self.expected,
            "new_trials": self.new_trials,
            "errors": self.errors,
            "cost_usd": self.cost_usd,
            "elapsed_s": self.elapsed_s,
            "summary": self.summary().to_dicts(),
        }

    def __str__(self) -> str:
        head = (
            f"Run {self.experiment_id} [{self.status.value}]: {self.trials.height}/{self.expected} "
            f"trials, {self.errors} errors, ${self.cost_usd:.4f}, {self.elapsed_s:.1f} s"
        )
        if self.reason:
            head += f"\n  stopped: {self.reason}"
        lines = [head]
        for row in self.summary().iter_rows(named=True):
            scores = ", ".join(
                f"{s}={row[s]:.3f}" if row.get(s) is not None else f"{s}=n/a" for s in self.scorers
            )
            lines.append(
                f"  {row['condition']}: n={row['trials']} errors={row['errors']} {scores} "
                f"cost=${row['cost_usd'] or 0:.4f}"
            )
        lines.append(f"  run directory: {self.run_dir}")
        return "\n".join(lines)
