"""Two runs compared condition by condition, paired on the items they share."""

from __future__ import annotations

import os
from collections.abc import Sequence

import polars as pl

from crucible.harness._errors import HarnessError
from crucible.harness._metrics import metrics_of, with_metric_columns
from crucible.harness._pairwise import ConditionComparison, compare_pair
from crucible.harness._rundir import load_run

__all__ = ["compare_runs"]


def compare_runs(
    run_a: str | os.PathLike[str],
    run_b: str | os.PathLike[str],
    *,
    pairs: Sequence[tuple[str, str]] | None = None,
    confidence: float = 0.95,
    alpha: float = 0.05,
) -> list[ConditionComparison]:
    """Compare conditions of ``run_a`` with conditions of ``run_b`` on every metric.

    Args:
        pairs: (condition in a, condition in b); default: the conditions both runs share by
            name, or the only condition of each when each has one.

    Returns:
        One :class:`ConditionComparison` per pair and metric (``estimate`` is a - b), paired
        on the shared items, unpaired only when the runs share fewer than two items.

    Raises:
        HarnessError: no pair to compare, or a named condition is missing.
    """
    a, b = load_run(run_a), load_run(run_b)
    ta, tb = with_metric_columns(a.trials), with_metric_columns(b.trials)
    ca = list(dict.fromkeys(ta["condition"].to_list()))
    cb = list(dict.fromkeys(tb["condition"].to_list()))
    if pairs is None:
        pairs = [(c, c) for c in ca if c in cb]
        if not pairs and len(ca) == 1 and len(cb) == 1:
            pairs = [(ca[0], cb[0])]
    if not pairs:
        raise HarnessError(
            f"the runs share no condition name ({ca} vs {cb}); name the pairs, e.g. "
            f"--pair {ca[0] if ca else 'A'}:{cb[0] if cb else 'B'}"
        )
    for x, y in pairs:
        if x not in ca or y not in cb:
            raise HarnessError(f"pair {x}:{y}: run A has {ca}, run B has {cb}")
    scorers_a = [c.removeprefix("score_") for c in ta.columns if c.startswith("score_")]
    scorers_b = {c.removeprefix("score_") for c in tb.columns if c.startswith("score_")}
    shared_scorers = [s for s in scorers_a if s in scorers_b]
    both = pl.concat([ta.select("cost_usd"), tb.select("cost_usd")])
    metrics = [
        m
        for m in metrics_of(ta, shared_scorers)
        if m.name != "cost_usd" or both["cost_usd"].drop_nulls().len() > 0
    ]
    clusters = None
    items = a.manifest.get("items") or {}
    for field in ("cluster", "subject"):
        if items and all(field in f for f in items.values()):
            clusters = {i: str(f[field]) for i, f in items.items()}
            cluster_field: str | None = field
            break
    else:
        cluster_field = None
    return [
        compare_pair(
            ta,
            tb,
            m,
            x,
            y,
            clusters=clusters,
            cluster_field=cluster_field,
            confidence=confidence,
            alpha=alpha,
        )
        for x, y in pairs
        for m in metrics
    ]
