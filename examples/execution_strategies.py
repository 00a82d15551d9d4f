"""Example 7: sequential vs parallel vs cascade execution of the same three-model ensemble.

Parallel asks every member at once; sequential asks one at a time and stops once the rest
cannot change the outcome; cascade asks the cheapest first and escalates when unsure. Accuracy,
latency and cost are compared paired on the same items.

    python examples/execution_strategies.py [--fast]

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
MODELS = ("gemini-pro", "gpt-4", "claude-3")


def ensemble(execution: str) -> Ensemble:
    members = [SimulatedModel(name, seed=42, time_scale=1.0) for name in MODELS]
    return Ensemble(members, execution=execution, normalizer="letter", name=execution)


def build(fast: bool) -> Experiment:
    return Experiment(
        "execution-strategies",
        load("mmlu", limit=40 if fast else 100, seed=42),
        [Condition(e, ensemble(e), prompt=PROMPT) for e in ("parallel", "sequential", "cascade")],
        scorers=["multiple_choice"],
        repeats=1 if fast else 3,
        seed=42,
        limits=Limits(concurrency=32, backoff_base_s=0.001, backoff_max_s=0.002),
        budget=Budget(confirm_above_usd=None),
    )


def main(fast: bool = False, run_dir: str | None = None, report: bool = True) -> Analysis:
    analysis = run_experiment(build(fast), run_dir, report=report, virtual_clock=True)
    print_analysis(analysis, ("accuracy", "latency_ms", "cost_usd"))
    return analysis


if __name__ == "__main__":
    main(fast_mode())
