"""Example 6: the cost-accuracy trade-off — cheap and expensive models, alone and in ensembles.

Conditions: a cheap single model, a cheap three-model ensemble, an expensive single model and a
mixed ensemble. The report's cost-benefit section gives the cost per correct answer and the
accuracy-cost-latency Pareto front; accuracy differences are paired on the same items.

    python examples/cost_accuracy.py [--fast]

Simulated members wait out their simulated latency on crucible.hedging's virtual clock, so an
ensemble's latency (the wall time of its slowest needed member) is meaningful and the run
still takes well under a second of real time.
"""

from __future__ import annotations

from _common import fast_mode, print_analysis, run_experiment

from crucible.core import SimulatedModel
from crucible.datasets import load
from crucible.ensemble import Ensemble
from crucible.harness import Analysis, Budget, Condition, Experiment, Limits

PROMPT = "{input}\n{choices}\nAnswer with the letter of the correct choice."


def sim(name: str) -> SimulatedModel:
    return SimulatedModel(name, seed=42, time_scale=1.0)


def build(fast: bool) -> Experiment:
    cheap = ("mixtral", "llama-3", "gemini-pro")
    return Experiment(
        "cost-accuracy",
        load("mmlu", limit=40 if fast else 100, seed=42),
        [
            Condition("cheap_single", sim("mixtral"), prompt=PROMPT),
            Condition(
                "cheap_ensemble",
                Ensemble([sim(m) for m in cheap], normalizer="letter", name="cheap-ensemble"),
                prompt=PROMPT,
            ),
            Condition("expensive_single", sim("gpt-4"), prompt=PROMPT),
            Condition(
                "mixed_ensemble",
                Ensemble(
                    [sim("mixtral"), sim("llama-3"), sim("gpt-4")],
                    normalizer="letter",
                    name="mixed-ensemble",
                ),
                prompt=PROMPT,
            ),
        ],
        scorers=["multiple_choice"],
        repeats=1 if fast else 3,
        seed=42,
        limits=Limits(concurrency=32, backoff_base_s=0.001, backoff_max_s=0.002),
        budget=Budget(confirm_above_usd=None),
    )


def main(fast: bool = False, run_dir: str | None = None, report: bool = True) -> Analysis:
    analysis = run_experiment(build(fast), run_dir, report=report, virtual_clock=True)
    print_analysis(analysis, ("accuracy", "cost_usd"))
    print(
        analysis.cost_benefit.select(
            "condition", "accuracy", "cost_per_query", "cost_per_correct", "pareto"
        )
    )
    return analysis


if __name__ == "__main__":
    main(fast_mode())
