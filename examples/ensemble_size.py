"""Example 3: ensemble size — 1, 3, 5 and 7 simulated models voting by majority on MMLU.

Each ensemble is a crucible.ensemble.Ensemble (itself a Model); the harness records every
vote, so the report's consensus section relates agreement to accuracy. Accuracy, cost and
tail latency are compared pairwise on the same items after an omnibus test.

    python examples/ensemble_size.py [--fast]

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
MEMBERS = ("gpt-4", "claude-3", "gemini-pro", "llama-3", "mixtral", "model-a", "model-b")


def ensemble(size: int) -> Ensemble:
    members = [SimulatedModel(name, seed=42, time_scale=1.0) for name in MEMBERS[:size]]
    return Ensemble(members, voting="majority", normalizer="letter", name=f"majority-{size}")


def build(fast: bool) -> Experiment:
    conditions = [
        Condition("single", SimulatedModel("gpt-4", seed=42, time_scale=1.0), prompt=PROMPT)
    ]
    conditions += [Condition(f"ensemble_{k}", ensemble(k), prompt=PROMPT) for k in (3, 5, 7)]
    return Experiment(
        "ensemble-size",
        load("mmlu", limit=30 if fast else 150, seed=42),
        conditions,
        scorers=["multiple_choice"],
        repeats=1 if fast else 3,
        seed=42,
        limits=Limits(concurrency=32, backoff_base_s=0.001, backoff_max_s=0.002),
        budget=Budget(confirm_above_usd=None),
    )


def main(fast: bool = False, run_dir: str | None = None, report: bool = True) -> Analysis:
    analysis = run_experiment(build(fast), run_dir, report=report, virtual_clock=True)
    print_analysis(analysis, ("accuracy", "cost_usd"))
    print(analysis.consensus)
    return analysis


if __name__ == "__main__":
    main(fast_mode())
