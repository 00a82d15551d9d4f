"""Budgeted search: projection, per-trial spend, paired pruning, holdout confirmation."""

from __future__ import annotations

import ast
import os
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import pytest

from crucible.core import Item
from crucible.harness import Condition
from crucible.production_eval import (
    GateBudgetError,
    ProductionEvalError,
    optimize,
    optimize_ensemble,
)


def _items(n: int) -> list[Item]:
    return [Item(str(i), f"What is {i} + {i}?", str(2 * i)) for i in range(n)]


_ACCURACY = {"weak": 0.6, "medium": 0.75, "strong": 0.92}


def _build(config: Mapping[str, Any], name: str) -> Condition:
    # Simulated models without failures, with the stated accuracy.
    return Condition(
        name,
        "sim:model-a",
        options={"accuracy": _ACCURACY[config["model"]]},
        params={"temperature": config["temperature"]},
    )


async def test_search_finds_and_confirms_the_better_model(tmp_path: Path) -> None:
    space = {"model": ["weak", "medium", "strong"], "temperature": (0.0, 1.0)}
    res = await optimize(
        space,
        "accuracy",
        _items(400),
        n_trials=6,
        budget_usd=20.0,
        seed=3,
        chunks=2,
        run_dir=tmp_path,
        build=_build,
    )
    assert res.best_config is not None and res.best_config["model"] == "strong"
    assert (res.n_search_items, res.n_holdout_items) == (280, 120)
    assert res.trials.height == 6
    assert res.spent_usd >= float(res.trials["cost_usd"].sum()) + float(
        res.confirmation["cost_usd"].sum()
    )
    assert res.spent_usd <= 20.0
    assert res.spent_usd <= res.projected_usd
    assert (res.confirmation["p_adjusted"] >= res.confirmation["p_value"]).all()
    pruned = res.trials.filter(res.trials["state"] == "pruned")
    assert (pruned["items"] < 280).all()


async def test_projection_over_budget_is_refused_before_any_call(tmp_path: Path) -> None:
    with pytest.raises(GateBudgetError, match=r"projected spend \$.* exceeds `budget_usd`"):
        await optimize(
            {"model": ["sim:gpt-4"]},
            "accuracy",
            _items(200),
            n_trials=50,
            budget_usd=0.5,
            run_dir=tmp_path,
        )
    assert os.listdir(tmp_path) == []
    with pytest.raises(GateBudgetError, match="`budget_usd` must be a positive"):
        await optimize({"model": ["sim:gpt-4"]}, "accuracy", _items(20), n_trials=1, budget_usd=0)
    with pytest.raises(ProductionEvalError, match=r"`space\['temperature'\]`"):
        await optimize({"temperature": "hot"}, "accuracy", _items(20), n_trials=1, budget_usd=5)
    with pytest.raises(ProductionEvalError, match="unknown objective"):
        await optimize({"model": ["sim:gpt-4"]}, "f1", _items(20), n_trials=1, budget_usd=5)


async def test_multi_objective_uses_nsga2(tmp_path: Path) -> None:
    res = await optimize(
        {"model": ["sim:model-a", "sim:model-b"]},
        ["accuracy", "cost_per_query"],
        _items(120),
        n_trials=4,
        budget_usd=20,
        prune=None,
        chunks=1,
        seed=1,
        run_dir=tmp_path,
    )
    assert set(res.trials.columns) >= {"accuracy", "cost_per_query"}
    assert (res.trials["state"] == "complete").all()


async def test_optimize_ensemble_respects_the_cost_ceiling(tmp_path: Path) -> None:
    res = await optimize_ensemble(
        ["sim:model-a", "sim:model-b", "sim:mixtral"],
        _items(150),
        sizes=(1, 3),
        n_trials=4,
        budget_usd=20.0,
        cost_ceiling=0.0005,
        chunks=1,
        seed=2,
        run_dir=tmp_path,
    )
    over = res.trials.filter(res.trials["cost_usd"] / res.trials["items"] > 0.0005)
    assert over.height > 0
    assert (over["state"] == "over cost ceiling").all()
    assert res.spent_usd <= res.projected_usd


def test_default_build_renders_few_shot_and_params() -> None:
    from crucible.production_eval import default_build

    shots = [Item("x1", "What is 1 + 1?", "2"), Item("x2", "What is 2 + 2?", "4")]
    cond = default_build(
        {"model": "sim:model-a", "prompt": "Q: {input}", "few_shot": 2, "temperature": 0.3},
        "c",
        shots,
    )
    assert cond.params == {"temperature": 0.3}
    rendered = str(cond.render(Item("q", "What is 5 + 5?", "10")))
    assert rendered.count("What is") == 3 and "Q: What is 5 + 5?" in rendered
    with pytest.raises(ProductionEvalError, match="`few_shot` = 3"):
        default_build({"few_shot": 3}, "c", shots)


async def test_few_shot_dimension_reaches_the_prompts(tmp_path: Path) -> None:
    shots = [Item(f"x{i}", f"What is {i} + 1?", str(i + 1)) for i in range(3)]
    res = await optimize(
        {"model": ["sim:model-a"], "few_shot": (0, 3)},
        "accuracy",
        _items(60),
        n_trials=2,
        budget_usd=5.0,
        chunks=1,
        prune=None,
        examples=shots,
        run_dir=tmp_path,
        seed=5,
    )
    assert res.trials.height == 2
    assert all("few_shot" in c for c in res.trials["config"].to_list())
    tokens = []
    for n in range(2):
        from crucible.harness import load_run

        tokens.append(float(load_run(tmp_path / f"trial-{n}").trials["input_tokens"].mean()))
    shots_used = [ast.literal_eval(c)["few_shot"] for c in res.trials["config"].to_list()]
    assert shots_used[0] != shots_used[1]  # seed 5 draws two different counts
    # Each example adds its question and answer to every prompt.
    assert (tokens[0] > tokens[1]) == (shots_used[0] > shots_used[1])
