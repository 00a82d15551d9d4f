"""Example 2: three models on MMLU STEM.

Stand-ins for GPT-4o mini, Claude Haiku and Gemini Flash (simulated gpt-4, claude-3 and
gemini-pro). With three conditions the analysis runs an omnibus test first (Cochran's Q on one
binary outcome per item, Friedman when repeats are averaged), then every pair with the
Bonferroni correction the getting-started guide asks for. Items are clustered by MMLU subject,
so paired differences get cluster-robust standard errors.

    python examples/model_comparison.py [--fast]
"""

from __future__ import annotations

from _common import fast_mode, print_analysis, run_experiment

from crucible.core import SimulatedModel
from crucible.datasets import load
from crucible.harness import Analysis, Budget, Condition, Experiment, Limits

PROMPT = "{input}\n{choices}\nAnswer with the letter of the correct choice."


def build(fast: bool) -> Experiment:
    return Experiment(
        "model-comparison",
        load("mmlu", limit=40 if fast else 100, seed=42),
        [
            Condition("gpt4o_mini", SimulatedModel("gpt-4", seed=42), prompt=PROMPT),
            Condition("claude_haiku", SimulatedModel("claude-3", seed=42), prompt=PROMPT),
            Condition("gemini_flash", SimulatedModel("gemini-pro", seed=42), prompt=PROMPT),
        ],
        scorers=["multiple_choice"],
        repeats=2 if fast else 5,
        seed=42,
        limits=Limits(concurrency=32, backoff_base_s=0.001, backoff_max_s=0.002),
        budget=Budget(confirm_above_usd=None),
    )


def main(fast: bool = False, run_dir: str | None = None, report: bool = True) -> Analysis:
    analysis = run_experiment(build(fast), run_dir, correction="bonferroni", report=report)
    print_analysis(analysis, ("accuracy", "latency_ms", "cost_usd"))
    return analysis


if __name__ == "__main__":
    main(fast_mode())
