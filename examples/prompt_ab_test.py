"""Example 1: A/B test of two prompts on GSM8K.

Two prompts for the same model: "solve step by step" (prompt_a) against a "you are a math
teacher" framing (prompt_b). A simulated model answers without reading the prompt's wording,
so each condition's simulated model carries the accuracy its prompt is assumed to reach
(prompt_a 0.80, prompt_b 0.88): the difference between the prompts is made explicit in the
model profile, not discovered. Every item is asked under both prompts, so the analysis is
paired (repeats averaged within item).

    python examples/prompt_ab_test.py [--fast]
"""

from __future__ import annotations

from _common import fast_mode, print_analysis, run_experiment

from crucible.core import SimulatedModel
from crucible.datasets import load
from crucible.harness import Analysis, Budget, Condition, Experiment, Limits

PROMPT_A = "Solve this math problem step by step:\n{input}"
PROMPT_B = "You are a math teacher. Solve this problem showing your work:\n\n{input}\n\nSolution:"
HYPOTHESES = ("prompt_b > prompt_a on accuracy",)


def build(fast: bool) -> Experiment:
    items = 40 if fast else 200
    return Experiment(
        "prompt-ab-test",
        load("gsm8k", limit=items, seed=42),
        [
            Condition("prompt_a", SimulatedModel("gpt-4", seed=42, accuracy=0.80), prompt=PROMPT_A),
            Condition("prompt_b", SimulatedModel("gpt-4", seed=42, accuracy=0.88), prompt=PROMPT_B),
        ],
        scorers=["numeric"],
        repeats=3,
        seed=42,
        limits=Limits(concurrency=32, backoff_base_s=0.001, backoff_max_s=0.002),
        budget=Budget(confirm_above_usd=None),
        metadata={"hypotheses": list(HYPOTHESES)},
    )


def main(fast: bool = False, run_dir: str | None = None, report: bool = True) -> Analysis:
    analysis = run_experiment(build(fast), run_dir, report=report)
    print_analysis(analysis, ("accuracy", "cost_usd"))
    return analysis


if __name__ == "__main__":
    main(fast_mode())
