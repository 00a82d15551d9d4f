"""Attack throughput, evaluation cost and randomised-smoothing accuracy.

1. ``attack()`` throughput per group (attacks per second on a 53-word prompt).
2. ``evaluate()`` over 200 arithmetic items and every pure attack against a
   ``VulnerableModel(obedience=0.5, decoding=0.3, leak_rate=0.3, fragility=1.5)``: the measured
   ASR per group next to what the model's settings imply, and items evaluated per second.
3. ``certify()`` on a linear classifier, whose exact certified radius is known (the distance to
   the decision boundary): mean certified radius / true radius, and certificates per second.

Prints one JSON line.
"""

from __future__ import annotations

import asyncio
import json
import time
from collections import defaultdict

import numpy as np

from crucible.adversary import AttackGroup, AttackKind, VulnerableModel, attack, certify, evaluate
from crucible.core import Item

PROMPT = (
    "A farmer has 12 cows and buys 7 more. Each cow gives 20 litres of milk a day. "
    "How many litres does the farm produce in a week? Explain each step, then give the total. "
    "Be careful with the units and do not round. The answer must be a whole number of litres."
)


def bench_attack() -> dict[str, float]:
    out = {}
    kinds = defaultdict(list)
    for k in AttackKind:
        if k.group is not AttackGroup.REWRITE:
            kinds[k.group.value].append(k)
    for group, ks in kinds.items():
        n = 0
        t0 = time.perf_counter()
        for seed in range(200):
            for k in ks:
                attack(PROMPT, k, seed=seed)
                n += 1
        out[group] = round(n / (time.perf_counter() - t0), 1)
    return out


def bench_evaluate() -> dict[str, object]:
    items = [Item(i, f"What is {i} plus {i + 7}?", expected=str(2 * i + 7)) for i in range(200)]
    model = VulnerableModel(
        "gpt-4", seed=0, obedience=0.5, decoding=0.3, leak_rate=0.3, fragility=1.5
    )
    kinds = [k for k in AttackKind if k.group is not AttackGroup.REWRITE]
    t0 = time.perf_counter()
    report = asyncio.run(evaluate(model, items, kinds, seed=1))
    elapsed = time.perf_counter() - t0
    by_group: dict[str, list[float]] = defaultdict(list)
    for r in report.results:
        by_group[r.group].append(r.success.estimate)
    return {
        "asr_mean_by_group": {g: round(float(np.mean(v)), 3) for g, v in by_group.items()},
        "asr": {r.kind: round(r.success.estimate, 3) for r in report.results},
        "implied": {
            "injection": 0.5,
            "jailbreak_plain": 0.5,
            "jailbreak_encoded": 0.15,
            "extraction": 0.3,
        },
        "item_attacks_per_s": round(len(items) * len(kinds) / elapsed, 1),
    }


def bench_smoothing() -> dict[str, float]:
    w = np.array([3.0, 4.0])  # ||w|| = 5

    def linear(batch: np.ndarray) -> np.ndarray:
        return (batch @ w > 0).astype(int)

    rng = np.random.default_rng(0)
    ratios = []
    t0 = time.perf_counter()
    for i in range(20):
        x = rng.normal(size=2)
        true_radius = abs(float(x @ w)) / 5.0
        c = certify(linear, x, sigma=0.5, n0=100, n=10_000, alpha=0.001, seed=i)
        if not c.abstained:
            ratios.append(c.radius / true_radius)
    elapsed = time.perf_counter() - t0
    return {
        "certified": len(ratios),
        "of": 20,
        "mean_radius_ratio": round(float(np.mean(ratios)), 4),
        "max_radius_ratio": round(float(np.max(ratios)), 4),
        "certificates_per_s": round(20 / elapsed, 2),
    }


def main() -> None:
    print(
        json.dumps(
            {
                "bench": "adversary",
                "attacks_per_s": bench_attack(),
                "evaluate": bench_evaluate(),
                "smoothing": bench_smoothing(),
            }
        )
    )


if __name__ == "__main__":
    main()
