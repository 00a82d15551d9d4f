"""Orchestration overhead of an Ensemble over a bare ``asyncio.gather`` of the same calls.

Five zero-latency simulated members (the demo presets, ``time_scale=0``): each prediction is timed
once as ``asyncio.gather`` of the five ``generate`` calls and once as ``Ensemble.predict`` (parallel
execution, majority voting, letter normaliser), on the same items; the difference per prediction
is what the ensemble adds (normalising, voting, accounting, its span). Best of 5 rounds of 2 000
predictions each, with the OpenTelemetry API's default no-op tracer. Sequential and cascade
execution make fewer calls; their time per prediction is reported with their calls per
prediction.

Run: ``python benchmarks/bench_overhead.py`` (prints one JSON line).
"""

from __future__ import annotations

import asyncio
import json
import sys
import time
from typing import Any

from crucible.core import Item, SimulatedModel
from crucible.ensemble import Ensemble

PRESETS = ("gpt-4", "claude-3", "gemini-pro", "llama-3", "mixtral")
N = 2_000
ROUNDS = 5


async def measure() -> dict[str, Any]:
    models = [SimulatedModel(p, seed=0, time_scale=0.0) for p in PRESETS]
    items = [Item(i, "Which letter?", expected="ABCD"[i % 4]) for i in range(N)]
    ensembles = {
        name: Ensemble(models, normalizer="letter", execution=name, timeout_s=None)
        for name in ("parallel", "sequential", "cascade")
    }
    ensembles["parallel_with_timeout"] = Ensemble(models, normalizer="letter", timeout_s=60.0)

    async def bare() -> float:
        t = time.perf_counter()
        for item in items:
            await asyncio.gather(
                *(m.generate("Which letter?", item=item) for m in models), return_exceptions=True
            )
        return time.perf_counter() - t

    calls: dict[str, int] = {}

    async def ensemble(name: str, e: Ensemble) -> float:
        made = 0
        t = time.perf_counter()
        for item in items:
            made += (await e.predict("Which letter?", item=item)).calls
        elapsed = time.perf_counter() - t
        calls[name] = made
        return elapsed

    base = []
    timed: dict[str, list[float]] = {name: [] for name in ensembles}
    for _ in range(ROUNDS):  # interleaved, so drifting machine load hits both alike
        base.append(await bare())
        for name, e in ensembles.items():
            timed[name].append(await ensemble(name, e))
    bare_us = min(base) / N * 1e6
    out: dict[str, Any] = {"bare_gather_us_per_prediction": bare_us}
    for name, times in timed.items():
        us = min(times) / N * 1e6
        out[name] = {"us_per_prediction": us, "calls_per_prediction": calls[name] / N}
        if name.startswith("parallel"):
            # Same five calls as the bare gather: the difference is pure orchestration.
            out[name]["overhead_us"] = us - bare_us
    return out


def main() -> None:
    report: dict[str, Any] = {
        "benchmark": "ensemble_orchestration_overhead",
        "members": len(PRESETS),
        "predictions_per_round": N,
        "rounds": ROUNDS,
        **asyncio.run(measure()),
        "goal_us": 1000.0,
        "python": sys.version.split()[0],
    }
    report["parallel_meets_goal"] = report["parallel"]["overhead_us"] <= report["goal_us"]
    print(json.dumps(report))


if __name__ == "__main__":
    main()
