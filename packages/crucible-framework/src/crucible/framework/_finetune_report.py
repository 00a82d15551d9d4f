"""The results of a checkpoint evaluation, and their rendering: ``to_dict``, ``__str__``, the
Markdown report, and the evidence they become in an adapter registry."""

from __future__ import annotations

import math
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import attrs
import polars as pl

from crucible.bench import Interval
from crucible.core import ValidationError
from crucible.lora import AdapterRecord, AdapterRegistry, Evidence

__all__ = [
    "CheckpointComparison",
    "CheckpointEvaluation",
    "CheckpointResult",
    "GateResult",
    "fmt_ci",
    "fmt_num",
    "fmt_p",
    "render_markdown",
]


def fmt_num(value: float, digits: int = 3) -> str:
    """A number for display (computations never round)."""
    if math.isnan(value):
        return "n/a"
    return f"{value:.{digits}f}"


def fmt_p(p: float) -> str:
    if math.isnan(p):
        return "n/a"
    if p < 1e-4:
        return f"{p:.1e}"
    return f"{p:.4f}"


def fmt_ci(low: float, high: float, digits: int = 3) -> str:
    if math.isnan(low) or math.isnan(high):
        return "[n/a]"
    return f"[{low:.{digits}f}, {high:.{digits}f}]"


@attrs.frozen
class CheckpointComparison:
    """One paired comparison ``checkpoint - against`` on the same items.

    Attributes:
        estimate: mean score of ``checkpoint`` minus that of ``against``.
        ci_low, ci_high: its confidence interval (paired, :func:`crucible.bench.compare_evals`);
            NaN when every paired difference is the same (no variance), with a ``note``.
        test: ``mcnemar-exact`` (binary scores, one repeat), ``paired-t``, or ``sign-exact``
            (continuous scores whose differences are all equal).
        p_value: the raw two-sided p-value of ``test``.
        p_adjusted: against the baseline, adjusted with the evaluation's ``correction``
            across the checkpoints; for consecutive steps, the fixed-sequence adjusted p-value
            (the running maximum of the raw p-values).
        significant: a significant improvement: ``estimate > 0`` and ``p_adjusted <= alpha``
            (for a step, also every earlier step).
    """

    checkpoint: str
    against: str
    mean: float
    mean_against: float
    estimate: float
    ci_low: float
    ci_high: float
    test: str
    p_value: float
    p_adjusted: float
    significant: bool
    n_items: int
    note: str = ""

    def to_dict(self) -> dict[str, Any]:
        return attrs.asdict(self)

    def __str__(self) -> str:
        return (
            f"{self.checkpoint} - {self.against} = {self.estimate:+.4f} "
            f"{fmt_ci(self.ci_low, self.ci_high, 4)}, {self.test} p = {fmt_p(self.p_value)}, "
            f"adjusted {fmt_p(self.p_adjusted)} ({self.n_items} items)"
        )


@attrs.frozen
class GateResult:
    """A quality gate decided by the confidence interval: passes when ``ci_low >= target``."""

    metric: str
    target: float
    estimate: float
    ci_low: float
    ci_high: float
    passed: bool
    reason: str

    def to_dict(self) -> dict[str, Any]:
        return attrs.asdict(self)

    def __str__(self) -> str:
        return (
            f"{self.metric} >= {self.target:g}: {'pass' if self.passed else 'fail'} ({self.reason})"
        )


@attrs.frozen
class CheckpointResult:
    """One checkpoint: its score, its comparison with the baseline and its gates.

    ``passed`` is what promotion needs: the checkpoint beats the baseline after correction and
    every gate passes.
    """

    name: str
    source: str
    score: Interval
    versus_baseline: CheckpointComparison
    gates: tuple[GateResult, ...]
    trials: int
    errors: int

    @property
    def beats_baseline(self) -> bool:
        return self.versus_baseline.significant

    @property
    def passed(self) -> bool:
        return self.beats_baseline and all(g.passed for g in self.gates)

    def to_dict(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "source": self.source,
            "score": self.score.to_dict(),
            "versus_baseline": self.versus_baseline.to_dict(),
            "gates": [g.to_dict() for g in self.gates],
            "beats_baseline": self.beats_baseline,
            "passed": self.passed,
            "trials": self.trials,
            "errors": self.errors,
        }


@attrs.frozen(eq=False)
class CheckpointEvaluation:
    """What :func:`evaluate_checkpoints` returns.

    Attributes:
        checkpoints: one result per checkpoint, in the order given (training order).
        steps: consecutive comparisons (baseline → first checkpoint → second → ...).
        best: the checkpoint with the highest mean among those that beat the baseline after
            correction (ties go to the earliest); ``None`` when none does.
        improvement_stops_at: the last checkpoint of the unbroken chain of significant
            consecutive improvements from the baseline (the baseline's name when the first
            checkpoint is not significantly better than it).
        trials: the harness trials table.
        report_path: the Markdown report in the run directory.
    """

    run_dir: Path
    baseline: str
    baseline_source: str
    baseline_score: Interval
    baseline_trials: int
    baseline_errors: int
    scorer: str
    n_items: int
    repeats: int
    seed: int
    alpha: float
    correction: str
    test_description: str
    checkpoints: tuple[CheckpointResult, ...]
    steps: tuple[CheckpointComparison, ...]
    best: str | None
    improvement_stops_at: str
    trials: pl.DataFrame
    report_path: Path

    @property
    def confidence(self) -> float:
        return 1.0 - self.alpha

    def result(self, name: str) -> CheckpointResult:
        """The result of checkpoint ``name``; raises ValidationError for an unknown name."""
        for c in self.checkpoints:
            if c.name == name:
                return c
        known = ", ".join(repr(c.name) for c in self.checkpoints)
        raise ValidationError(f"no checkpoint named {name!r} was evaluated; known: {known}")

    def to_dict(self) -> dict[str, Any]:
        return {
            "run_dir": str(self.run_dir),
            "baseline": self.baseline,
            "baseline_source": self.baseline_source,
            "baseline_score": self.baseline_score.to_dict(),
            "baseline_trials": self.baseline_trials,
            "baseline_errors": self.baseline_errors,
            "scorer": self.scorer,
            "n_items": self.n_items,
            "repeats": self.repeats,
            "seed": self.seed,
            "alpha": self.alpha,
            "correction": self.correction,
            "test": self.test_description,
            "checkpoints": [c.to_dict() for c in self.checkpoints],
            "steps": [s.to_dict() for s in self.steps],
            "best": self.best,
            "improvement_stops_at": self.improvement_stops_at,
            "report_path": str(self.report_path),
        }

    def __str__(self) -> str:
        lines = [
            f"{len(self.checkpoints)} checkpoint(s) vs {self.baseline} "
            f"({fmt_num(self.baseline_score.estimate)} {self.scorer}), {self.n_items} items:"
        ]
        for c in self.checkpoints:
            verdict = "beats baseline" if c.beats_baseline else "not better"
            lines.append(
                f"  {c.name}: {fmt_num(c.score.estimate)}, {c.versus_baseline.estimate:+.3f} "
                f"{fmt_ci(c.versus_baseline.ci_low, c.versus_baseline.ci_high)}, adjusted p = "
                f"{fmt_p(c.versus_baseline.p_adjusted)} ({verdict}"
                + (", gates pass" if c.gates and c.passed else ", gates fail" if c.gates else "")
                + ")"
            )
        lines.append(
            f"best: {self.best or 'none'}; improvement stops at {self.improvement_stops_at}; "
            f"report {self.report_path}"
        )
        return "\n".join(lines)

    def record_evidence(
        self,
        registry: AdapterRegistry,
        adapter_id: str,
        *,
        checkpoint: str | None = None,
        stage: str = "production",
    ) -> AdapterRecord:
        """Record this evaluation as the evidence of ``adapter_id`` and move it to ``stage``.

        The registry keeps evidence with a stage change, so this calls
        ``registry.promote(adapter_id, stage, evidence=Evidence(run_dir, passed, summary))``
        with ``passed`` = :attr:`CheckpointResult.passed` of ``checkpoint`` (default: the
        checkpoint named ``adapter_id``). A failing evaluation is recorded too; promotion to
        ``production`` then raises. Record with ``stage="staging"`` to keep the evidence for a
        later ``registry.promote(adapter_id, "production")``.

        Raises:
            ValidationError: no evaluated checkpoint is named ``checkpoint``/``adapter_id``, or
                the registry has no such adapter.
            PromotionError: a disallowed stage change, or production with a failing evaluation.
        """
        result = self.result(adapter_id if checkpoint is None else checkpoint)
        registry.get(adapter_id)
        summary = {
            "scorer": self.scorer,
            "baseline": self.baseline,
            "baseline_mean": self.baseline_score.estimate,
            "checkpoint": result.name,
            "mean": result.score.estimate,
            "ci": [result.score.ci_low, result.score.ci_high],
            "difference": result.versus_baseline.estimate,
            "difference_ci": [result.versus_baseline.ci_low, result.versus_baseline.ci_high],
            "test": result.versus_baseline.test,
            "p_value": result.versus_baseline.p_value,
            "p_adjusted": result.versus_baseline.p_adjusted,
            "correction": self.correction,
            "alpha": self.alpha,
            "n_items": self.n_items,
            "beats_baseline": result.beats_baseline,
            "gates": [g.to_dict() for g in result.gates],
            "report": str(self.report_path),
        }
        evidence = Evidence(self.run_dir, passed=result.passed, summary=summary)
        return registry.promote(adapter_id, stage, evidence=evidence)


# -- rendering ------------------------------------------------------------------------------


def _signed(value: float) -> str:
    return "n/a" if math.isnan(value) else f"{value:+.3f}"


def _table(header: Sequence[str], rows: Sequence[Sequence[str]]) -> list[str]:
    out = ["| " + " | ".join(header) + " |", "|" + "|".join("---" for _ in header) + "|"]
    out += ["| " + " | ".join(cell.replace("|", "\\|") for cell in row) + " |" for row in rows]
    return out


def _step_rows(steps: Sequence[CheckpointComparison]) -> list[list[str]]:
    return [
        [
            f"{s.against} → {s.checkpoint}",
            _signed(s.estimate),
            fmt_ci(s.ci_low, s.ci_high),
            s.test,
            fmt_p(s.p_value),
            fmt_p(s.p_adjusted),
            "yes" if s.significant else "no",
        ]
        for s in steps
    ]


def render_markdown(evaluation: CheckpointEvaluation) -> str:
    """The Markdown report written to the run directory."""
    ev = evaluation
    pct = f"{ev.confidence * 100:g}%"
    lines = [
        f"# Checkpoint evaluation: {len(ev.checkpoints)} checkpoint(s) against `{ev.baseline}`",
        "",
        f"- Scorer: `{ev.scorer}`, {ev.n_items} items × {ev.repeats} repeat(s), seed {ev.seed}",
        f"- Run directory: `{ev.run_dir}`",
        f"- Tests: {ev.test_description}; p-values across checkpoints adjusted with "
        f"`{ev.correction}`, alpha = {ev.alpha:g}; {pct} confidence intervals",
        "",
        "## Against the baseline",
        "",
    ]
    header = [
        "condition",
        "mean",
        f"{pct} CI",
        "difference",
        f"{pct} CI of difference",
        "test",
        "p",
        f"p ({ev.correction})",
        "beats baseline",
        "gates",
    ]
    rows = [
        [
            f"`{ev.baseline}` (baseline)",
            fmt_num(ev.baseline_score.estimate),
            fmt_ci(ev.baseline_score.ci_low, ev.baseline_score.ci_high),
            "",
            "",
            "",
            "",
            "",
            "",
            "",
        ]
    ]
    for c in ev.checkpoints:
        cmp = c.versus_baseline
        gates = "pass" if c.gates and all(g.passed for g in c.gates) else "fail" if c.gates else "—"
        rows.append(
            [
                f"`{c.name}`",
                fmt_num(c.score.estimate),
                fmt_ci(c.score.ci_low, c.score.ci_high),
                _signed(cmp.estimate),
                fmt_ci(cmp.ci_low, cmp.ci_high),
                cmp.test,
                fmt_p(cmp.p_value),
                fmt_p(cmp.p_adjusted),
                "yes" if c.beats_baseline else "no",
                gates,
            ]
        )
    lines += _table(header, rows)
    lines += [""]
    if ev.best is None:
        lines.append(
            f"**No checkpoint beats `{ev.baseline}`** after `{ev.correction}` correction at "
            f"alpha = {ev.alpha:g}."
        )
    else:
        best = ev.result(ev.best)
        lines.append(
            f"**Best checkpoint: `{ev.best}`** — mean {fmt_num(best.score.estimate)}, "
            f"{_signed(best.versus_baseline.estimate)} over `{ev.baseline}` "
            f"{fmt_ci(best.versus_baseline.ci_low, best.versus_baseline.ci_high)}, adjusted "
            f"p = {fmt_p(best.versus_baseline.p_adjusted)} (the highest mean among the "
            "checkpoints that beat the baseline after correction). It was chosen on the same "
            "items it is judged on, so its estimate is optimistic: confirm it on fresh items."
        )
    notes = [
        f"- `{c.name}`: {c.versus_baseline.note}" for c in ev.checkpoints if c.versus_baseline.note
    ]
    if notes:
        lines += ["", *notes]
    lines += ["", "## Where improvement stops", ""]
    lines.append(
        "Consecutive checkpoints in training order, each paired with the one before it and "
        "tested as a fixed sequence (Maurer, Hothorn & Lehmacher 1995): a step is tested at "
        "alpha only while every earlier step was a significant improvement, which keeps the "
        "family-wise error at alpha; a step's adjusted p-value is the largest raw p-value up "
        "to it."
    )
    lines += [""]
    lines += _table(
        ["step", "difference", f"{pct} CI", "test", "p", "p (sequence)", "improved"],
        _step_rows(ev.steps),
    )
    lines += [""]
    after = [s for s in ev.steps if not s.significant]
    if ev.improvement_stops_at == ev.baseline:
        lines.append(
            f"Improvement stops at once: `{ev.steps[0].checkpoint}` is not significantly better "
            f"than `{ev.baseline}`."
        )
    elif after:
        lines.append(
            f"Improvement stops at **`{ev.improvement_stops_at}`**: `{after[0].checkpoint}` is "
            f"not significantly better than it."
        )
    else:
        lines.append(
            f"Every step is a significant improvement, up to the last checkpoint "
            f"**`{ev.improvement_stops_at}`**: training may not have converged."
        )
    gated = [c for c in ev.checkpoints if c.gates]
    if gated:
        lines += ["", "## Quality gates", ""]
        lines.append(
            "A gate passes when the lower bound of the confidence interval reaches the target "
            "(not the point estimate)."
        )
        lines += [""]
        gate_rows = [
            [
                f"`{c.name}`",
                g.metric,
                f"{g.target:g}",
                fmt_num(g.estimate),
                fmt_ci(g.ci_low, g.ci_high),
                "pass" if g.passed else "fail",
            ]
            for c in gated
            for g in c.gates
        ]
        lines += _table(
            ["checkpoint", "metric", "target", "estimate", f"{pct} CI", "verdict"], gate_rows
        )
    lines += ["", "## Checkpoints", ""]
    lines += _table(
        ["condition", "source", "trials", "errors"],
        [[f"`{ev.baseline}`", ev.baseline_source, str(ev.baseline_trials), str(ev.baseline_errors)]]
        + [[f"`{c.name}`", c.source, str(c.trials), str(c.errors)] for c in ev.checkpoints],
    )
    return "\n".join(lines) + "\n"
