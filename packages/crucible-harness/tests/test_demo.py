from __future__ import annotations

from pathlib import Path

import numpy as np
import polars as pl
import pytest

from crucible.bench import compare_evals
from crucible.core import Item, SimulatedModel
from crucible.harness import MajorityVote, TrialContext, compare_conditions, demo_experiment, run


async def test_majority_vote_answers_what_most_members_said() -> None:
    members = [SimulatedModel(m, seed=3) for m in ("mixtral", "llama-3", "gpt-4")]
    vote = MajorityVote(members)
    item = Item("q", "Which?", "B", {"choices": ["a", "b", "c", "d"]})
    context = TrialContext("e", "c", repeat=0, attempt=0, seed=1, prompt="Which?", params={})
    alone = [await m.generate("Which?", item=item, repeat=0) for m in members]
    answers = [c.text for c in alone]
    result = await vote(item, context)
    assert answers.count(result.text) == max(answers.count(a) for a in answers)
    assert result.raw["votes"] == {a: answers.count(a) for a in set(answers)}
    assert result.cost_usd == pytest.approx(sum(c.cost_usd or 0.0 for c in alone))
    assert result.usage.output_tokens == sum(c.usage.output_tokens for c in alone)


def test_comparison_pairs_items_and_averages_repeats() -> None:
    trials = pl.DataFrame(
        {
            "condition": ["a"] * 4 + ["b"] * 4,
            "item_id": ["1", "1", "2", "2"] * 2,
            "repeat": [0, 1] * 4,
            "score_acc": [1.0, 1.0, 0.0, None, 1.0, 0.0, 0.0, 0.0],
        }
    )
    result = compare_conditions(trials, "a", "b", "acc")
    expected = compare_evals(np.array([[1.0, 1.0], [0.0, 0.0]]), np.array([[1.0, 0.0], [0.0, 0.0]]))
    assert result.estimate == pytest.approx(expected.estimate) == pytest.approx(0.25)
    assert result.n_items == 2


async def test_demo_is_the_getting_started_design(tmp_path: Path) -> None:
    exp = demo_experiment(items=12, repeats=3)
    assert [c.name for c in exp.conditions] == ["single_model", "ensemble_3model"]
    assert exp.n_trials == 2 * 12 * 3
    assert exp.dataset.name == "mmlu"
    result = await run(exp, tmp_path)
    assert result.trials.height == 72
    ensemble = result.trials.filter(pl.col("condition") == "ensemble_3model")
    assert ensemble["model"].unique().to_list() == ["majority(gemini-pro,gpt-4,claude-3)"]
