"""An executable Jupyter notebook that reloads a run, recomputes its analysis and draws it."""

from __future__ import annotations

from typing import Any

__all__ = ["notebook"]

_LOAD = """\
import json
from pathlib import Path

import duckdb
import matplotlib.pyplot as plt
import numpy as np
import polars as pl

RUN_DIR = Path({run_dir!r})
con = duckdb.connect(str(RUN_DIR / "run.duckdb"), read_only=True)
trials = con.sql('SELECT * FROM trials ORDER BY "order"').pl()
manifest = {{k: json.loads(v) for k, v in con.execute("SELECT key, value FROM manifest").fetchall()}}
con.close()
print(trials.height, "trials;", trials["condition"].n_unique(), "conditions")
trials.head()"""

_DIRECT = """\
# Descriptives straight from the trials table (errored trials score 0).
scores = [c for c in trials.columns if c.startswith("score_")]
direct = (
    trials.group_by("condition")
    .agg(
        *[pl.col(s).fill_null(0.0).mean().alias(s) for s in scores],
        pl.col("latency_ms").median().alias("latency_p50_ms"),
        pl.col("cost_usd").mean().alias("cost_per_query"),
    )
    .sort("condition")
)
direct"""

_ANALYZE = """\
# The full analysis, recomputed from the stored run.
from crucible.harness import analyze

analysis = analyze(RUN_DIR, correction={correction!r}, alpha={alpha!r}, confidence={confidence!r})
comparisons = pl.DataFrame([c.to_dict() for c in analysis.comparisons])
comparisons.select("metric", "a", "b", "design", "test", "estimate", "ci_low", "ci_high", "p_value", "p_adjusted")"""

_FIGURES = """\
primary = analysis.primary
fig, (ax1, ax2) = plt.subplots(1, 2, figsize=(11, 3.8))
if primary is not None:
    rows = [analysis.descriptive(primary.name, c) for c in analysis.conditions]
    means = np.array([r.mean for r in rows])
    err = [means - np.array([r.ci_low for r in rows]), np.array([r.ci_high for r in rows]) - means]
    ax1.bar(range(len(rows)), means, yerr=err, capsize=5)
    ax1.set_xticks(range(len(rows)), [r.condition for r in rows], rotation=15)
    ax1.set_title(primary.name + " with CIs")
for cond in analysis.conditions:
    values = np.sort(trials.filter(pl.col("condition") == cond)["latency_ms"].drop_nulls().to_numpy())
    if len(values):
        ax2.step(values, np.arange(1, len(values) + 1) / len(values), where="post", label=cond)
ax2.set_xscale("log")
ax2.set_title("latency CDF")
ax2.legend()
plt.show()"""

_NUMBERS = """\
# Key numbers, machine-readable (compared with the report's JSON analysis).
key_numbers = {
    "accuracy": {
        row["condition"]: row[scores[0]] for row in direct.iter_rows(named=True)
    } if scores else {},
    "p_values": {
        f"{c.metric}:{c.a}|{c.b}": c.p_value for c in analysis.comparisons
    },
}
print(json.dumps(key_numbers, sort_keys=True))"""


def notebook(run_dir: str, title: str, options: dict[str, Any]) -> Any:
    """An ``nbformat`` v4 notebook for the run in ``run_dir``."""
    import nbformat  # type: ignore[import-untyped, unused-ignore]

    nb = nbformat.v4.new_notebook()  # type: ignore[no-untyped-call]
    nb.metadata["kernelspec"] = {
        "name": "python3",
        "display_name": "Python 3",
        "language": "python",
    }
    nb.cells = [
        nbformat.v4.new_markdown_cell(  # type: ignore[no-untyped-call]
            f"# {title}\n\nThis notebook reloads `run.duckdb`, recomputes the analysis with "
            "`crucible.harness.analyze` and redraws the main figures. Run all cells."
        ),
        *(
            nbformat.v4.new_code_cell(source)  # type: ignore[no-untyped-call]
            for source in (
                _LOAD.format(run_dir=run_dir),
                _DIRECT,
                _ANALYZE.format(**options),
                _FIGURES,
                _NUMBERS,
            )
        ),
    ]
    return nb
