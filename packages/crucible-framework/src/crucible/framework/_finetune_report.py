"""Rendering of a checkpoint evaluation: the Markdown report and the number formats it uses."""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from crucible.framework.finetune import CheckpointComparison, CheckpointEvaluation

__all__ = ["fmt_ci", "fmt_num", "fmt_p", "render_markdown"]


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
