"""Report figures (matplotlib, Agg backend, PNG bytes): accuracy with CIs, latency CDF,
cost-accuracy Pareto front and paired differences."""

from __future__ import annotations

import io
from typing import TYPE_CHECKING, Any

import numpy as np
import polars as pl

from crucible.harness._document import Figure

if TYPE_CHECKING:
    from crucible.harness._analysis import Analysis

__all__ = ["figures"]


def _png(fig: Any) -> bytes:
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=110, bbox_inches="tight", metadata={"Software": None})
    import matplotlib.pyplot as plt

    plt.close(fig)
    return buf.getvalue()


def _accuracy(analysis: Analysis, plt: Any) -> Figure | None:
    primary = analysis.primary
    if primary is None:
        return None
    rows = [analysis.descriptive(primary.name, c) for c in analysis.conditions]
    fig, ax = plt.subplots(figsize=(7, 3.6))
    x = np.arange(len(rows))
    means = np.array([r.mean for r in rows])
    low = means - np.array([r.ci_low for r in rows])
    high = np.array([r.ci_high for r in rows]) - means
    ax.bar(x, means, color="#4C72B0", alpha=0.85)
    ax.errorbar(x, means, yerr=[low, high], fmt="none", ecolor="black", capsize=5)
    ax.set_xticks(x, [r.condition for r in rows], rotation=15)
    ax.set_ylabel(primary.name)
    lo = max(0.0, float(np.nanmin([r.ci_low for r in rows])) - 0.1)
    ax.set_ylim(lo, min(1.02, float(np.nanmax([r.ci_high for r in rows])) + 0.05))
    ax.set_title(f"{primary.name} by condition ({analysis.confidence:.0%} {rows[0].ci_method} CI)")
    return Figure(
        "accuracy", _png(fig), f"Mean {primary.name} per condition with confidence intervals."
    )


def _latency(analysis: Analysis, trials: pl.DataFrame, plt: Any) -> Figure | None:
    if trials["latency_ms"].drop_nulls().len() == 0:
        return None
    fig, (left, right) = plt.subplots(1, 2, figsize=(10, 3.6))
    data = []
    for cond in analysis.conditions:
        values = np.sort(
            trials.filter(pl.col("condition") == cond)["latency_ms"].drop_nulls().to_numpy()
        )
        data.append(values)
        if len(values):
            right.step(
                values, np.arange(1, len(values) + 1) / len(values), where="post", label=cond
            )
    left.boxplot(data, showfliers=True)
    left.set_xticks(range(1, len(data) + 1), list(analysis.conditions), rotation=15)
    left.set_ylabel("latency (ms)")
    left.set_title("latency distribution")
    right.set_xscale("log")
    right.set_xlabel("latency (ms, log scale)")
    right.set_ylabel("cumulative share of trials")
    right.set_title("latency CDF")
    right.legend(fontsize=8)
    return Figure("latency", _png(fig), "Latency per condition: box plots and empirical CDF.")


def _pareto(analysis: Analysis, plt: Any) -> Figure | None:
    table = analysis.cost_benefit
    if table.is_empty() or table["cost_per_query"].drop_nulls().len() == 0:
        return None
    if table["accuracy"].drop_nulls().len() == 0:
        return None
    fig, ax = plt.subplots(figsize=(7, 4))
    for row in table.iter_rows(named=True):
        marker = "o" if row["pareto"] else "x"
        ax.scatter(row["cost_per_query"], row["accuracy"], marker=marker, s=60)
        ax.annotate(
            row["condition"],
            (row["cost_per_query"], row["accuracy"]),
            fontsize=8,
            xytext=(4, 4),
            textcoords="offset points",
        )
    front = table.filter(pl.col("pareto")).sort("cost_per_query")
    ax.plot(front["cost_per_query"], front["accuracy"], "--", color="grey", linewidth=1)
    ax.set_xlabel("mean cost per query (USD)")
    ax.set_ylabel("accuracy")
    ax.set_title("cost vs accuracy (o: Pareto front over accuracy, cost, p50 latency)")
    return Figure("pareto", _png(fig), "Cost against accuracy; circles are Pareto-optimal.")


def _differences(analysis: Analysis, plt: Any) -> Figure | None:
    primary = analysis.primary
    comps = [c for c in analysis.comparisons if primary is not None and c.metric == primary.name]
    if not comps:
        return None
    fig, ax = plt.subplots(figsize=(7, 0.6 * len(comps) + 1.5))
    y = np.arange(len(comps))
    est = np.array([c.estimate for c in comps])
    ax.errorbar(
        est,
        y,
        xerr=[
            est - np.array([c.ci_low for c in comps]),
            np.array([c.ci_high for c in comps]) - est,
        ],
        fmt="o",
        color="#C44E52",
        capsize=4,
    )
    ax.axvline(0.0, color="grey", linewidth=1)
    ax.set_yticks(y, [f"{c.a} - {c.b}" for c in comps])
    ax.set_xlabel(f"difference in {comps[0].metric} ({analysis.confidence:.0%} CI)")
    ax.set_title("paired differences" if comps[0].design == "paired" else "differences")
    return Figure("differences", _png(fig), f"Differences in {comps[0].metric} between conditions.")


def figures(analysis: Analysis, trials: pl.DataFrame) -> list[Figure]:
    """The report's figures, in order; figures without data are left out."""
    import matplotlib

    matplotlib.use("Agg", force=True)
    import matplotlib.pyplot as plt

    made = [
        _accuracy(analysis, plt),
        _latency(analysis, trials, plt),
        _pareto(analysis, plt),
        _differences(analysis, plt),
    ]
    return [f for f in made if f is not None]
