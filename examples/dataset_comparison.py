"""Example 8: one pair of models across datasets — MMLU STEM, GSM8K and TruthfulQA.

Each dataset is its own run, in which both models answer the same items (paired comparison of
the models within the dataset). Comparing a model's accuracy *between* datasets has no shared
items, so that comparison is unpaired (two-proportion z-test or Welch's t on item means), and
the analysis says so.

    python examples/dataset_comparison.py [--fast]
"""

from __future__ import annotations

import tempfile
from pathlib import Path

from _common import fast_mode, print_analysis, run_experiment

from crucible.core import SimulatedModel
from crucible.datasets import load
from crucible.harness import (
    Analysis,
    Budget,
    Condition,
    ConditionComparison,
    Experiment,
    Limits,
    compare_runs,
)

DATASETS = {
    "mmlu": (
        "multiple_choice",
        "{input}\n{choices}\nAnswer with the letter of the correct choice.",
    ),
    "gsm8k": ("numeric", "Solve step by step, then give the number:\n{input}"),
    "truthfulqa": (
        "multiple_choice",
        "{input}\n{choices}\nAnswer with the letter of the true choice.",
    ),
}


def build(dataset: str, fast: bool) -> Experiment:
    scorer, prompt = DATASETS[dataset]
    return Experiment(
        f"dataset-{dataset}",
        load(dataset, limit=30 if fast else 100, seed=42),
        [
            Condition("gpt4o_mini", SimulatedModel("gpt-4", seed=42), prompt=prompt),
            Condition("claude_haiku", SimulatedModel("claude-3", seed=42), prompt=prompt),
        ],
        scorers=[scorer],
        repeats=1 if fast else 3,
        seed=42,
        limits=Limits(concurrency=32, backoff_base_s=0.001, backoff_max_s=0.002),
        budget=Budget(confirm_above_usd=None),
    )


def main(
    fast: bool = False, run_dir: str | None = None, report: bool = True
) -> tuple[dict[str, Analysis], list[ConditionComparison]]:
    """Per-dataset analyses, and gpt4o_mini on MMLU against gpt4o_mini on GSM8K."""
    root = Path(run_dir) if run_dir is not None else Path(tempfile.mkdtemp(prefix="datasets-"))
    analyses = {}
    for name in DATASETS:
        print(f"== {name}")
        analyses[name] = run_experiment(build(name, fast), root / name, report=report)
        print_analysis(analyses[name])
    across = [
        c
        for c in compare_runs(root / "mmlu", root / "gsm8k", pairs=[("gpt4o_mini", "gpt4o_mini")])
        if c.metric == "latency_ms"
    ]
    for c in across:
        print(f"mmlu vs gsm8k, {c.metric}: {c.estimate:+.4g} ({c.design}, {c.test}): {c.reason}")
    return analyses, across


if __name__ == "__main__":
    main(fast_mode())
