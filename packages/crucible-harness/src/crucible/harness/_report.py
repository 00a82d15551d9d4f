"""The report of an analysis: sections written from the numbers, rendered to every format."""

from __future__ import annotations

import json
import math
from collections.abc import Callable
from typing import Any

import polars as pl

from crucible.harness._analysis import Analysis
from crucible.harness._document import (
    Block,
    Bullets,
    Code,
    Document,
    Figure,
    Paragraph,
    Section,
    Table,
)
from crucible.harness._hypothesis import Verdict
from crucible.harness._metrics import MetricKind
from crucible.harness._pairwise import ConditionComparison
from crucible.harness._references import references

__all__ = ["build_document", "num", "pct"]


def num(value: float | None, digits: int = 4) -> str:
    """A number for a table: ``n/a`` for missing or NaN, else ``digits`` significant digits."""
    if value is None or (isinstance(value, float) and not math.isfinite(value)):
        return "n/a"
    return f"{value:.{digits}g}"


def pct(value: float | None, digits: int = 1) -> str:
    if value is None or not math.isfinite(value):
        return "n/a"
    return f"{100 * value:.{digits}f}%"


def p_text(p: float) -> str:
    if not math.isfinite(p):
        return "n/a"
    return "< 0.001" if p < 0.001 else f"{p:.3f}"


def _value(analysis: Analysis, metric: str, value: float) -> str:
    kind = analysis.metric(metric).kind
    return pct(value) if kind is MetricKind.BINARY else num(value)


def _diff(analysis: Analysis, c: ConditionComparison) -> str:
    if analysis.metric(c.metric).kind is MetricKind.BINARY:
        return f"{100 * c.estimate:+.1f} pp [{100 * c.ci_low:+.1f}, {100 * c.ci_high:+.1f}]"
    return f"{c.estimate:+.4g} [{c.ci_low:+.4g}, {c.ci_high:+.4g}]"


def _significant(analysis: Analysis, c: ConditionComparison) -> bool:
    return math.isfinite(c.p_adjusted) and c.p_adjusted < analysis.alpha


def _summary(analysis: Analysis) -> list[Block]:
    primary = analysis.primary
    base = analysis.conditions[0]
    blocks: list[Block] = []
    facts: list[str] = []
    sentences = [
        f"{len(analysis.conditions)} conditions ({', '.join(analysis.conditions)}) were run on "
        f"{analysis.n_items} items with {analysis.repeats} repeat(s): {analysis.n_trials} trials, "
        f"{analysis.n_errors} errored, total cost ${analysis.total_cost_usd:.4f}."
    ]
    if primary is not None:
        ranked = sorted(
            analysis.conditions, key=lambda c: -analysis.descriptive(primary.name, c).mean
        )
        best = analysis.descriptive(primary.name, ranked[0])
        sentences.append(
            f"The highest {primary.name} was {ranked[0]}'s "
            f"({_value(analysis, primary.name, best.mean)}, {analysis.confidence:.0%} CI "
            f"{_value(analysis, primary.name, best.ci_low)}-"
            f"{_value(analysis, primary.name, best.ci_high)})."
        )
        for other in analysis.conditions[1:]:
            c = analysis.comparison(primary.name, other, base)
            sig = _significant(analysis, c)
            sentences.append(
                f"Against {base}, {other} differs by {_diff(analysis, c)} in {primary.name} "
                f"({c.design} design, {c.test}, adjusted p {p_text(c.p_adjusted)}): "
                + (
                    "a statistically significant difference."
                    if sig
                    else f"not significant at α = {analysis.alpha:g}."
                )
            )
            facts.append(
                ("✓ " if sig else "✗ ") + f"{other} vs {base} on {primary.name}: "
                f"{_diff(analysis, c)}, p {p_text(c.p_adjusted)}"
                + (
                    f", {c.effect_name} = {num(c.effect, 3)} ({c.effect_interpretation})"
                    if math.isfinite(c.effect)
                    else ""
                )
            )
    for metric, label in (("latency_ms", "median latency"), ("cost_usd", "mean cost per query")):
        if not any(m.name == metric for m in analysis.metrics):
            continue
        for other in analysis.conditions[1:]:
            ref = analysis.descriptive(metric, base)
            cur = analysis.descriptive(metric, other)
            stat = "median" if metric == "latency_ms" else "mean"
            a, b = getattr(cur, stat), getattr(ref, stat)
            if math.isfinite(a) and math.isfinite(b) and b > 0:
                facts.append(f"{other} {label} is {a / b:.2f}× {base}'s ({num(a)} vs {num(b)})")
    blocks.append(Paragraph(" ".join(sentences)))
    if facts:
        blocks.append(Paragraph("**Key findings:**"))
        blocks.append(Bullets(tuple(facts)))
    if analysis.hypotheses:
        blocks.append(
            Bullets(
                tuple(
                    f"Hypothesis {h.hypothesis}: **{h.verdict.value}**" for h in analysis.hypotheses
                )
            )
        )
    front = analysis.cost_benefit
    if not front.is_empty():
        names = front.filter(pl.col("pareto"))["condition"].to_list()
        blocks.append(
            Paragraph(
                "**Recommendation**: on the accuracy-cost-latency Pareto front: "
                + ", ".join(names)
                + ". Conditions off the front are dominated by another condition on all three."
            )
        )
    return blocks


def _descriptives(analysis: Analysis) -> list[Block]:
    blocks: list[Block] = []
    for m in analysis.metrics:
        rows = []
        for cond in analysis.conditions:
            d = analysis.descriptive(m.name, cond)
            fmt: Callable[[float], str] = pct if m.kind is MetricKind.BINARY else num
            rows.append(
                (
                    cond,
                    str(d.n),
                    fmt(d.mean),
                    num(d.sd),
                    f"[{fmt(d.ci_low)}, {fmt(d.ci_high)}]",
                    fmt(d.median),
                    fmt(d.p95),
                    fmt(d.p99),
                    fmt(d.min),
                    fmt(d.max),
                    num(d.total),
                )
            )
        unit = f" ({m.unit})" if m.unit else ""
        method = (
            "Wilson interval over trials" if m.kind is MetricKind.BINARY else "Student-t interval"
        )
        blocks.append(
            Table(
                (
                    "Condition",
                    "N",
                    "Mean",
                    "SD",
                    f"{analysis.confidence:.0%} CI",
                    "P50",
                    "P95",
                    "P99",
                    "Min",
                    "Max",
                    "Total",
                ),
                tuple(rows),
                f"{m.name}{unit}; CI: {method}",
            )
        )
    return blocks


def _statistics(analysis: Analysis) -> list[Block]:
    blocks: list[Block] = [
        Paragraph(
            f"Significance level α = {analysis.alpha:g}; {analysis.confidence:.0%} confidence "
            f"intervals; p-values adjusted within each metric with the {analysis.correction} "
            "correction. Conditions run on the same items are compared with paired tests; repeats "
            "are averaged within each item first."
            + (
                f" Items are clustered by `{analysis.cluster_field}`: standard errors are "
                "cluster-robust."
                if analysis.cluster_field
                else ""
            )
        )
    ]
    if analysis.omnibus:
        blocks.append(
            Table(
                ("Metric", "Omnibus test", "Statistic", "df", "p", "Why"),
                tuple(
                    (o.metric, o.test, num(o.statistic), num(o.df), p_text(o.p_value), o.reason)
                    for o in analysis.omnibus
                ),
                "Omnibus tests across all conditions (before pairwise comparisons)",
            )
        )
    rows = []
    for c in analysis.comparisons:
        rows.append(
            (
                c.metric,
                f"{c.a} - {c.b}",
                c.design,
                c.test,
                str(c.n),
                _diff(analysis, c),
                num(c.statistic),
                num(c.df),
                p_text(c.p_value),
                p_text(c.p_adjusted),
                f"{c.effect_name} = {num(c.effect, 3)} [{num(c.effect_ci_low, 3)}, {num(c.effect_ci_high, 3)}]",
            )
        )
    blocks.append(
        Table(
            (
                "Metric",
                "Comparison",
                "Design",
                "Test",
                "n",
                "Difference [CI]",
                "Statistic",
                "df",
                "p",
                "p adj.",
                "Effect size [CI]",
            ),
            tuple(rows),
            "Pairwise comparisons",
        )
    )
    blocks.append(Paragraph("**Why each test**:"))
    blocks.append(
        Bullets(
            tuple(
                f"{c.metric}, {c.a} vs {c.b}: {c.reason}" + (f" ({c.note})" if c.note else "")
                for c in analysis.comparisons
            )
        )
    )
    checks = []
    for c in analysis.comparisons:
        if c.design != "paired":
            continue
        if c.test == "McNemar exact":
            note = "exact binomial test: no distributional assumption"
        elif c.test == "Wilcoxon signed-rank":
            note = "normality rejected: rank test used"
        elif c.n_clusters or c.test.startswith("paired difference"):
            note = f"t reference with {num(c.df)} df; robust to non-normality as n grows"
        else:
            note = "normality not rejected: paired t used"
        checks.append((c.metric, f"{c.a} - {c.b}", p_text(c.normality_p), note))
    if checks:
        blocks.append(
            Table(
                ("Metric", "Comparison", "Shapiro-Wilk p (differences)", "Consequence"),
                tuple(checks),
                "Assumption checks on the paired differences",
            )
        )
    power_rows = []
    for c in analysis.comparisons:
        rec = "-" if not math.isfinite(c.recommended_n) else f"{math.ceil(c.recommended_n)}"
        power_rows.append((c.metric, f"{c.a} - {c.b}", num(c.power, 3), num(c.mde, 3), rec))
    blocks.append(
        Table(
            ("Metric", "Comparison", "Achieved power", "MDE (80% power)", "n for 80% power"),
            tuple(power_rows),
            "Power at the observed effect; minimum detectable effect for this sample "
            "(metric units for paired designs, standardised for unpaired ones)",
        )
    )
    under = [c for c in analysis.comparisons if math.isfinite(c.recommended_n)]
    if under:
        blocks.append(
            Paragraph(
                "Underpowered comparisons: "
                + "; ".join(
                    f"{c.metric} {c.a} vs {c.b} needs about {math.ceil(c.recommended_n)} items "
                    f"(has {c.n}) to detect the observed effect with 80% power"
                    for c in under
                )
                + "."
            )
        )
    return blocks


def _frame_table(frame: pl.DataFrame, caption: str, limit: int = 50) -> Table:
    rows = []
    for row in frame.head(limit).iter_rows():
        rows.append(
            tuple(num(v) if isinstance(v, float) else ("n/a" if v is None else str(v)) for v in row)
        )
    more = f" (first {limit} of {frame.height})" if frame.height > limit else ""
    return Table(tuple(frame.columns), tuple(rows), caption + more)


def _per_item(analysis: Analysis) -> list[Block]:
    if analysis.per_item.is_empty():
        return [Paragraph("No score metric: no per-item table.")]
    return [_frame_table(analysis.per_item, "Mean primary score per item and condition", 30)]


def _failures(analysis: Analysis) -> list[Block]:
    blocks: list[Block] = []
    n = analysis.disagreements.height
    blocks.append(
        Paragraph(f"{n} of {analysis.n_items} items score differently across conditions.")
    )
    if n:
        blocks.append(_frame_table(analysis.disagreements, "Items where conditions disagree", 25))
    if analysis.errors.is_empty():
        blocks.append(Paragraph("No trial errored."))
    else:
        blocks.append(_frame_table(analysis.errors, "Errored trials by condition and error type"))
    if not analysis.failures_by_cluster.is_empty():
        blocks.append(
            _frame_table(analysis.failures_by_cluster, f"Failures by {analysis.cluster_field}", 80)
        )
    return blocks


def _consensus(analysis: Analysis) -> list[Block]:
    if analysis.consensus.is_empty():
        return [Paragraph("No condition reported ensemble votes.")]
    table = analysis.consensus
    blocks: list[Block] = [_frame_table(table, "Agreement among ensemble members and accuracy")]
    for cond in table["condition"].unique(maintain_order=True).to_list():
        part = table.filter(pl.col("condition") == cond)
        top = part.row(0, named=True)
        low = part.row(part.height - 1, named=True)
        if part.height > 1 and top["accuracy"] is not None and low["accuracy"] is not None:
            blocks.append(
                Paragraph(
                    f"{cond}: when members agree {top['level']} ({pct(top['share'])} of trials) "
                    f"accuracy is {pct(top['accuracy'])}; at {low['level']} it is "
                    f"{pct(low['accuracy'])}."
                )
            )
    return blocks


def _cost(analysis: Analysis) -> list[Block]:
    if analysis.cost_benefit.is_empty():
        return [Paragraph("No cost data.")]
    return [
        _frame_table(analysis.cost_benefit, "Cost-benefit per condition"),
        Paragraph(
            "cost_per_correct = total cost / correct answers; errors_per_1000 = (1 - accuracy) "
            "x 1000; pareto: not dominated on accuracy, cost per query and median latency."
        ),
    ]


def _conclusions(analysis: Analysis) -> list[Block]:
    blocks: list[Block] = []
    if analysis.hypotheses:
        blocks.append(
            Table(
                ("Hypothesis", "Difference", "CI", "Threshold", "p", "Verdict"),
                tuple(
                    (
                        h.hypothesis,
                        num(h.estimate),
                        f"[{num(h.ci_low)}, {num(h.ci_high)}]",
                        num(h.threshold),
                        p_text(h.p_value),
                        h.verdict.value.upper(),
                    )
                    for h in analysis.hypotheses
                ),
                f"Verdicts from the {analysis.confidence:.0%} CI of the difference: supported when it "
                "lies entirely on the hypothesis' side of the threshold, not supported when "
                "entirely on the other side, inconclusive otherwise",
            )
        )
        if any(h.verdict is Verdict.INCONCLUSIVE for h in analysis.hypotheses):
            blocks.append(Paragraph("Inconclusive verdicts need more items (see the power table)."))
    else:
        blocks.append(Paragraph("No hypothesis was declared."))
    limits = [
        f"One dataset ({analysis.manifest.get('dataset', {}).get('name', 'unknown')}, "
        f"{analysis.n_items} items): results may not transfer to other tasks.",
        "Model versions and prices change over time; the manifest records those used.",
    ]
    if '"sim:' in json.dumps(analysis.manifest.get("config", {}), default=str):
        limits.append(
            "Simulated models were used: numbers describe the simulation, not real models."
        )
    if analysis.n_errors:
        limits.append(f"{analysis.n_errors} trials errored; scores count them as wrong.")
    blocks.append(Paragraph("**Limitations**:"))
    blocks.append(Bullets(tuple(limits)))
    return blocks


def reproducibility(manifest: dict[str, Any], run_dir: str) -> list[Block]:
    shown = {k: v for k, v in manifest.items() if k not in ("fingerprint", "items")}
    dataset = manifest.get("dataset", {})
    return [
        Bullets(
            (
                f"Python {manifest.get('python', '?')} on {manifest.get('platform', '?')}",
                f"git commit: {manifest.get('git_commit') or 'not recorded'}",
                f"price table: {manifest.get('price_table', {}).get('default', '?')}",
                f"root seed: {manifest.get('seeds', {}).get('root', '?')}",
                f"dataset: {dataset.get('name', '?')} "
                f"{dataset.get('version', '')} (content hash "
                f"{str(dataset.get('content_hash', '?'))[:16]}..., in full below)",
            )
        ),
        Code(json.dumps(shown, indent=2, sort_keys=True, default=str), "json"),
        Paragraph(
            f"To reproduce: `crux reproduce {run_dir}` (re-runs the manifest's experiment "
            "into a new directory and lists any trial that differs)."
        ),
    ]


def build_document(analysis: Analysis, figures: list[Figure]) -> Document:
    """The report of ``analysis`` with ``figures``."""
    m = analysis.manifest
    sessions = m.get("created_at", "?")
    return Document(
        title=f"Experiment Report: {analysis.experiment or analysis.experiment_id}",
        meta=(
            ("Experiment ID", analysis.experiment_id),
            ("Run directory", analysis.run_dir),
            ("Created", str(sessions)),
            ("Trials", f"{analysis.n_trials} ({analysis.n_errors} errored)"),
            ("Total cost", f"${analysis.total_cost_usd:.4f}"),
        ),
        sections=(
            Section("1. Executive Summary", tuple(_summary(analysis))),
            Section("2. Descriptive Statistics", tuple(_descriptives(analysis))),
            Section("3. Statistical Analysis", tuple(_statistics(analysis))),
            Section("4. Visualisations", tuple(figures) or (Paragraph("No figures."),)),
            Section("5. Per-Item Detail", tuple(_per_item(analysis))),
            Section("6. Failure Analysis", tuple(_failures(analysis))),
            Section("7. Ensemble Consensus Analysis", tuple(_consensus(analysis))),
            Section("8. Cost-Benefit Analysis", tuple(_cost(analysis))),
            Section("9. Conclusions", tuple(_conclusions(analysis))),
            Section("10. Reproducibility", tuple(reproducibility(m, analysis.run_dir))),
            Section("11. References", tuple(references(analysis))),
        ),
    )
