"""Example 4: request hedging for tail latency.

A simulated model with a heavy latency tail (P50 about 500 ms, P99 about 5 s) that really
waits out its latency, alone and hedged with crucible.hedging at the learned P95 and P99
latency. The run uses crucible.hedging's virtual clock, so thousands of seconds of simulated
waiting take a fraction of a second. Latency is compared paired on the same items (the test,
paired t or Wilcoxon, follows the shape of the differences); the cost of the extra requests
shows in the cost comparison.

    python examples/hedging_latency.py [--fast]
"""

from __future__ import annotations

from _common import fast_mode, print_analysis, run_experiment

from crucible.core import SimulatedModel
from crucible.datasets import load
from crucible.harness import Analysis, Budget, Condition, Experiment, Limits
from crucible.hedging import HedgeBudget, HedgedModel, percentile


def replica(seed: int) -> SimulatedModel:
    return SimulatedModel("gpt-4", seed=seed, time_scale=1.0, error_rate=0.0)


def hedged(p: float) -> HedgedModel:
    return HedgedModel(
        replica(1),
        [replica(2)],
        policy=percentile(p, min_samples=20),
        budget=HedgeBudget(ratio=0.2),
    )


def build(fast: bool) -> Experiment:
    return Experiment(
        "hedging-latency",
        load("gsm8k", limit=80 if fast else 1000, seed=7),
        [
            Condition("baseline", replica(1)),
            Condition("hedged_p95", hedged(95)),
            Condition("hedged_p99", hedged(99)),
        ],
        scorers=["numeric"],
        repeats=1,
        seed=7,
        randomize=False,
        limits=Limits(concurrency=8, timeout_s=120.0),
        budget=Budget(confirm_above_usd=None),
    )


def main(fast: bool = False, run_dir: str | None = None, report: bool = True) -> Analysis:
    analysis = run_experiment(build(fast), run_dir, report=report, virtual_clock=True)
    print_analysis(analysis, ("latency_ms", "cost_usd"))
    for cond in analysis.conditions:
        d = analysis.descriptive("latency_ms", cond)
        print(f"{cond:12s} P50 {d.median:.0f} ms  P95 {d.p95:.0f} ms  P99 {d.p99:.0f} ms")
    return analysis


if __name__ == "__main__":
    main(fast_mode())
