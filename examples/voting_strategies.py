"""Example 5: voting strategies — majority, weighted and best-confidence over the same three
simulated models on MMLU.

Weighted voting uses fixed weights proportional to each member's simulated accuracy. All three
ensembles answer the same items, so accuracy is compared with paired tests after an omnibus
test; the consensus section reports how agreement relates to accuracy under each rule.

    python examples/voting_strategies.py [--fast]

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
MODELS = ("gpt-4", "claude-3", "gemini-pro")
WEIGHTS = (0.94, 0.93, 0.90)


def ensemble(voting: str) -> Ensemble:
    members = [SimulatedModel(name, seed=42, time_scale=1.0) for name in MODELS]
    weights = WEIGHTS if voting == "weighted" else None
    return Ensemble(members, voting=voting, normalizer="letter", weights=weights, name=voting)


def build(fast: bool) -> Experiment:
    return Experiment(
        "voting-strategies",
        load("mmlu", limit=40 if fast else 100, seed=42),
        [
            Condition(v, ensemble(v), prompt=PROMPT)
            for v in ("majority", "weighted", "best_confidence")
        ],
        scorers=["multiple_choice"],
        repeats=1 if fast else 3,
        seed=42,
        limits=Limits(concurrency=32, backoff_base_s=0.001, backoff_max_s=0.002),
        budget=Budget(confirm_above_usd=None),
    )


def main(fast: bool = False, run_dir: str | None = None, report: bool = True) -> Analysis:
    analysis = run_experiment(build(fast), run_dir, report=report, virtual_clock=True)
    print_analysis(analysis)
    print(analysis.consensus)
    return analysis


if __name__ == "__main__":
    main(fast_mode())
