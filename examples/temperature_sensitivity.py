"""Example 9: temperature sensitivity — one model at temperature 0.0, 0.3, 0.7 and 1.0.

A simulated model ignores the temperature parameter it is sent, so each condition's simulated
model carries the accuracy assumed for its temperature (0.92 falling by 0.10 per unit of
temperature): the effect is stated in the profile, and the experiment shows how the analysis
detects a dose-response of that size. Repeats (5, the guide's choice for noisy temperatures)
are averaged within item before the paired tests.

    python examples/temperature_sensitivity.py [--fast]
"""

from __future__ import annotations

from _common import fast_mode, print_analysis, run_experiment

from crucible.core import SimulatedModel
from crucible.datasets import load
from crucible.harness import Analysis, Budget, Condition, Experiment, Limits

PROMPT = "{input}\n{choices}\nAnswer with the letter of the correct choice."
TEMPERATURES = (0.0, 0.3, 0.7, 1.0)


def accuracy_at(temperature: float) -> float:
    return 0.92 - 0.10 * temperature


def build(fast: bool) -> Experiment:
    conditions = [
        Condition(
            f"temp_{t:.1f}",
            SimulatedModel("gpt-4", seed=42, accuracy=accuracy_at(t)),
            prompt=PROMPT,
            params={"temperature": t},
        )
        for t in TEMPERATURES
    ]
    return Experiment(
        "temperature-sensitivity",
        load("mmlu", limit=30 if fast else 100, seed=42),
        conditions,
        scorers=["multiple_choice"],
        repeats=2 if fast else 5,
        seed=42,
        limits=Limits(concurrency=32, backoff_base_s=0.001, backoff_max_s=0.002),
        budget=Budget(confirm_above_usd=None),
    )


def main(fast: bool = False, run_dir: str | None = None, report: bool = True) -> Analysis:
    analysis = run_experiment(build(fast), run_dir, report=report)
    print_analysis(analysis)
    return analysis


if __name__ == "__main__":
    main(fast_mode())
