"""The fairness report: every group metric and every criterion, with CIs, in one object."""

from __future__ import annotations

import html
import json
from collections.abc import Sequence
from typing import Any

import attrs
import numpy as np
import polars as pl

from crucible.fairness._criteria import evaluate
from crucible.fairness._data import FairnessError
from crucible.fairness._disparity import FOUR_FIFTHS, Criterion, Disparity
from crucible.fairness._metrics import Binning, GroupCounts, metrics_table

__all__ = ["FairnessReport", "fairness_report"]


@attrs.frozen
class FairnessReport:
    """Per-group metrics and the disparity of each criterion.

    Attributes:
        by_group: :func:`group_metrics` output (intersections, plus single columns when there
            are several).
        disparities: criterion name -> :class:`Disparity`.
        threshold: the difference threshold used for every criterion but disparate impact.
        confidence: the CI level.
    """

    by_group: pl.DataFrame = attrs.field(eq=False)
    disparities: dict[str, Disparity]
    threshold: float
    confidence: float

    @property
    def passed(self) -> bool:
        """Whether every criterion passes."""
        return all(d.passes for d in self.disparities.values())

    def to_dict(self) -> dict[str, Any]:
        return {
            "passed": self.passed,
            "threshold": self.threshold,
            "confidence": self.confidence,
            "by_group": self.by_group.to_dicts(),
            "disparities": {k: d.to_dict() for k, d in self.disparities.items()},
        }

    def _summary_rows(self) -> list[list[str]]:
        rows = []
        for d in self.disparities.values():
            rows.append(
                [
                    d.criterion,
                    d.metric,
                    f"{d.difference:.4f}",
                    f"[{d.ci[0]:.4f}, {d.ci[1]:.4f}]",
                    f"{d.ratio:.4f}",
                    f"[{d.ratio_ci[0]:.4f}, {d.ratio_ci[1]:.4f}]",
                    f"{d.p_value:.3g}",
                    "pass" if d.passes else "FAIL",
                ]
            )
        return rows

    _HEADER = ("criterion", "metric", "difference", "CI", "ratio", "ratio CI", "p", "verdict")

    def to_markdown(self) -> str:
        """The report as GitHub-flavoured Markdown."""
        ci = f"{self.confidence:.0%}"
        lines = [
            "# Fairness report",
            "",
            f"Overall: **{'PASS' if self.passed else 'FAIL'}** (threshold {self.threshold:g}; "
            f"disparate impact uses the four-fifths rule; {ci} bootstrap CIs).",
            "",
            "| " + " | ".join(self._HEADER) + " |",
            "|" + "---|" * len(self._HEADER),
        ]
        lines += ["| " + " | ".join(r) + " |" for r in self._summary_rows()]
        lines += ["", "## Groups", "", _markdown_table(self.by_group), "", "## Notes", ""]
        for d in self.disparities.values():
            lines.append(f"- {d.interpretation}")
            lines += [f"  - {note}" for note in d.notes]
        return "\n".join(lines) + "\n"

    def to_html(self) -> str:
        """A self-contained HTML page with an inline SVG disparity plot (differences with CIs)."""
        head = "".join(f"<th>{html.escape(h)}</th>" for h in self._HEADER)
        body = "".join(
            "<tr>" + "".join(f"<td>{html.escape(c)}</td>" for c in r) + "</tr>"
            for r in self._summary_rows()
        )
        groups = self.by_group.drop("null_reasons")
        ghead = "".join(f"<th>{html.escape(c)}</th>" for c in groups.columns)
        gbody = "".join(
            "<tr>" + "".join(f"<td>{html.escape(_fmt(v))}</td>" for v in row) + "</tr>"
            for row in groups.iter_rows()
        )
        notes = "".join(
            f"<li>{html.escape(d.interpretation)}</li>" for d in self.disparities.values()
        )
        verdict = "PASS" if self.passed else "FAIL"
        return (
            "<!DOCTYPE html><html><head><meta charset='utf-8'><title>Fairness report</title>"
            "<style>body{font-family:sans-serif;max-width:1100px;margin:2em auto}"
            "table{border-collapse:collapse}td,th{border:1px solid #ccc;padding:3px 8px;"
            "text-align:right}</style></head><body>"
            f"<h1>Fairness report: {verdict}</h1>{self._svg()}"
            f"<table><tr>{head}</tr>{body}</table><h2>Groups</h2>"
            f"<table><tr>{ghead}</tr>{gbody}</table><h2>Notes</h2><ul>{notes}</ul>"
            f"<script type='application/json' id='data'>{html.escape(json.dumps(self.to_dict(), default=str))}</script>"
            "</body></html>"
        )

    def _svg(self) -> str:
        # disparate impact is judged on the ratio, so it stays out of the difference plot
        items = [
            d for d in self.disparities.values()
            if np.isfinite(d.difference) and d.criterion != Criterion.DISPARATE_IMPACT
        ]  # fmt: skip
        width, row_h, left = 640, 28, 190
        height = row_h * len(items) + 55
        top = max([d.ci[1] for d in items if np.isfinite(d.ci[1])] + [self.threshold, 0.05])
        scale = (width - left - 20) / (top * 1.1)
        parts = [
            f"<svg xmlns='http://www.w3.org/2000/svg' width='{width}' height='{height}' "
            "role='img' aria-label='disparity differences with confidence intervals'>"
        ]
        x_thr = left + self.threshold * scale
        parts.append(
            f"<line x1='{x_thr:.1f}' y1='5' x2='{x_thr:.1f}' y2='{height - 25}' "
            "stroke='#c00' stroke-dasharray='4'/>"
        )
        for i, d in enumerate(items):
            y = 20 + i * row_h
            colour = "#2a7" if d.passes else "#c33"
            lo, hi = d.ci if np.isfinite(d.ci[0]) else (d.difference, d.difference)
            parts.append(
                f"<text x='{left - 8}' y='{y + 4}' text-anchor='end' font-size='12'>"
                f"{html.escape(d.criterion)}</text>"
                f"<line x1='{left + lo * scale:.1f}' y1='{y}' x2='{left + hi * scale:.1f}' "
                f"y2='{y}' stroke='{colour}' stroke-width='2'/>"
                f"<circle cx='{left + d.difference * scale:.1f}' cy='{y}' r='4' fill='{colour}'/>"
            )
        for tick in np.linspace(0.0, top * 1.1, 5):
            x_tick = left + tick * scale
            parts.append(
                f"<line x1='{x_tick:.1f}' y1='{height - 27}' x2='{x_tick:.1f}' y2='{height - 23}' "
                f"stroke='#555'/><text x='{x_tick:.1f}' y='{height - 12}' font-size='10' "
                f"text-anchor='middle'>{tick:.3g}</text>"
            )
        parts.append(
            f"<text x='10' y='{height - 2}' font-size='11'>difference (max − min), "
            f"{self.confidence:.0%} CI; dashed: threshold {self.threshold:g}; disparate impact "
            "is judged on the ratio (table)</text></svg>"
        )
        return "".join(parts)

    def __str__(self) -> str:
        return self.to_markdown()


def _fmt(value: Any) -> str:
    if value is None:
        return "—"
    if isinstance(value, float):
        return f"{value:.4f}"
    return str(value)


def _markdown_table(df: pl.DataFrame) -> str:
    cols = [c for c in df.columns if c != "null_reasons"]
    lines = ["| " + " | ".join(cols) + " |", "|" + "---|" * len(cols)]
    for row in df.select(cols).iter_rows():
        lines.append("| " + " | ".join(_fmt(v) for v in row) + " |")
    return "\n".join(lines)


def fairness_report(
    y_true: Any,
    y_pred: Any,
    sensitive: Any,
    *,
    y_prob: Any = None,
    criteria: Sequence[Criterion | str] | None = None,
    threshold: float = 0.1,
    ci: float = 0.95,
    n_boot: int = 1000,
    seed: int = 0,
    n_bins: int = 10,
    binning: Binning | str = Binning.UNIFORM,
) -> FairnessReport:
    """Evaluate group metrics and fairness criteria with bootstrap CIs and tests.

    Args:
        criteria: criteria to evaluate; default all (calibration only when ``y_prob`` is given).
        threshold: the largest acceptable difference for every criterion except disparate
            impact, which uses the four-fifths rule (ratio ≥ 0.8).
        ci, n_boot, seed: the bootstrap CI level, resamples and seed (same seed, same result).

    Returns:
        A :class:`FairnessReport`; ``.passed`` is true when every criterion passes.

    Example:
        >>> r = fairness_report([1, 0, 1, 0] * 5, [1, 0, 0, 0] * 5, ["a", "a", "b", "b"] * 5, n_boot=100)
        >>> r.disparities["equal_opportunity"].difference
        1.0
    """
    gc = GroupCounts.build(y_true, y_pred, sensitive, y_prob=y_prob, n_bins=n_bins, binning=binning)
    if criteria is None:
        chosen = [c for c in Criterion if c is not Criterion.CALIBRATION or y_prob is not None]
    else:
        if not criteria:
            raise FairnessError(
                "`criteria` is empty; pass None for all criteria or name at least one"
            )
        chosen = []
        for c in criteria:
            try:
                chosen.append(Criterion(c))
            except ValueError:
                raise FairnessError(
                    f"unknown criterion {c!r} in `criteria`; choose from {[x.value for x in Criterion]}"
                ) from None
    disparities = {}
    for crit in chosen:
        thr = FOUR_FIFTHS if crit is Criterion.DISPARATE_IMPACT else threshold
        disparities[crit.value] = evaluate(gc, crit, threshold=thr, ci=ci, n_boot=n_boot, seed=seed)
    by_group = metrics_table(gc, marginal=True, n_bins=n_bins, binning=binning)
    return FairnessReport(by_group, disparities, float(threshold), float(ci))
