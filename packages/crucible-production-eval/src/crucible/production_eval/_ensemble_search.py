"""Ensemble search: members, voting rule and size under a cost ceiling, confirmed on a holdout."""

from __future__ import annotations

import itertools
from collections.abc import Mapping, Sequence
from typing import Any

from crucible.core import Item
from crucible.datasets import Dataset
from crucible.ensemble import Ensemble
from crucible.harness import Condition, Experiment, estimate_async
from crucible.production_eval._errors import ProductionEvalError
from crucible.production_eval._optimize import OptimizationResult, optimize

__all__ = ["optimize_ensemble"]


async def optimize_ensemble(
    models: Sequence[str],
    dataset: Dataset | Sequence[Item],
    *,
    sizes: Sequence[int] = (1, 3),
    votings: Sequence[str] = ("majority", "best_confidence"),
    cost_ceiling: float | None = None,
    n_trials: int = 10,
    budget_usd: float,
    baseline: str | None = None,
    prompt: str = "{input}",
    seed: int = 0,
    **options: Any,
) -> OptimizationResult:
    """Choose ensemble members, voting rule and size with :func:`optimize`.

    Every subset of ``models`` of a size in ``sizes`` is a choice ("members"); with
    ``cost_ceiling`` (dollars per query), trials whose mean cost per query exceeds it are
    scored as failing (accuracy 0) so the search keeps within it. The winner is confirmed on
    held-out items against ``baseline`` (default: the first model alone), as in :func:`optimize`.
    """
    if len(models) < 1:
        raise ProductionEvalError("`models` is empty: give the candidate members")
    subsets = [
        ",".join(c)
        for k in sizes
        for c in itertools.combinations(models, k)
        if 1 <= k <= len(models)
    ]
    if not subsets:
        raise ProductionEvalError(f"`sizes` {list(sizes)} allow no subset of {len(models)} models")
    if cost_ceiling is not None and cost_ceiling <= 0:
        raise ProductionEvalError(f"`cost_ceiling` must be > 0, got {cost_ceiling!r}")

    def build(config: Mapping[str, Any], name: str) -> Condition:
        members = str(config["members"]).split(",")
        if len(members) == 1:
            return Condition(name, members[0], prompt=prompt)
        ensemble = Ensemble(members, voting=str(config["voting"]), name=name)
        return Condition(name, ensemble, prompt=prompt)

    base = {"members": baseline or models[0], "voting": votings[0]}
    space = {"members": subsets, "voting": list(votings)}
    items = list(dataset)
    per_model = []
    for m in models:
        est = await estimate_async(
            Experiment("projection", items, [Condition("m", m, prompt=prompt)])
        )
        per_model.append((est.cost_usd or 0.0) / len(items))
    # An ensemble costs at most the sum of its dearest members.
    per_item = sum(sorted(per_model, reverse=True)[: max(sizes)])
    return await optimize(
        space,
        "accuracy",
        items,
        n_trials=n_trials,
        budget_usd=budget_usd,
        baseline=base,
        build=build,
        seed=seed,
        cost_ceiling=cost_ceiling,
        cost_per_item_usd=per_item,
        **options,
    )
