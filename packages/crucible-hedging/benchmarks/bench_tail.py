"""Tail latency under hedging: simulated vs exact analytic values, and the decision overhead.

Latency model: the demo presets of crucible-core (P50 500 ms / P95 2 s / P99 5 s, a 10 % slow
log-normal tail). Each call is hedged once to an independent replica (a second simulated model
with another seed), so attempts are independent and identically distributed and the exact
hedged survival is P(T > t) = S(t) * S(t - d) for t > d (S(t) below d); the extra-request rate is
S(d).

Clock: the main figures run the real ``hedged`` code on a *simulated clock*
(``crucible.hedging.run_virtual``): simulated models sleep their full latency, and the event loop
jumps to the next timer instead of waiting, so measured latencies are exact and free of the
scheduling noise of a shared 2-core machine. A smaller real-time run (``time_scale`` 0.02, real
sleeps, 4 calls at a time) is reported beside it as a cross-check. Decision overhead is measured in real time.

Run: ``python benchmarks/bench_tail.py`` (prints one JSON line).
"""

from __future__ import annotations

import asyncio
import json
import math
import sys
import time
from typing import Any

import numpy as np

from crucible.core import PRESETS, Item, SimulatedModel
from crucible.hedging import (
    HedgeResult,
    adaptive,
    fixed,
    hedged,
    hedged_quantile,
    percentile,
    run_virtual,
)

N_CALLS = 20_000
N_REALTIME = 1_000
REALTIME_SCALE = 0.02
REALTIME_CONCURRENCY = 4
QUANTILES = {"p50": 0.5, "p95": 0.95, "p99": 0.99, "p999": 0.999}
PROFILE = PRESETS["gpt-4"].latency


def replicas(time_scale: float) -> tuple[SimulatedModel, SimulatedModel]:
    return (
        SimulatedModel("gpt-4", seed=1, time_scale=time_scale, error_rate=0.0),
        SimulatedModel("gpt-4", seed=2, time_scale=time_scale, error_rate=0.0),
    )


def analytic(delay_ms: float) -> dict[str, float]:
    out = {
        name: hedged_quantile(PROFILE.sf, q, delay_ms, upper_ms=200_000.0)
        for name, q in QUANTILES.items()
    }
    out["extra_rate"] = PROFILE.sf(delay_ms) if math.isfinite(delay_ms) else 0.0
    return out


def summarise(latencies: list[float], fired: list[bool], scale: float = 1.0) -> dict[str, float]:
    arr = np.asarray(latencies) / scale
    out = {name: float(np.quantile(arr, q)) for name, q in QUANTILES.items()}
    out["extra_rate"] = float(np.mean(fired))
    return out


async def run_calls(
    policy: Any, n: int, *, offset: int = 0, batch: int = 500, time_scale: float = 1.0
) -> list[HedgeResult[Any]]:
    primary, backup = replicas(time_scale)
    results: list[HedgeResult[Any]] = []
    for start in range(0, n, batch):
        items = [Item(f"i{offset + k}", "q") for k in range(start, min(n, start + batch))]
        results += await asyncio.gather(
            *(
                hedged(
                    [
                        lambda it=it: primary.generate("q", item=it),
                        lambda it=it: backup.generate("q", item=it),
                    ],
                    policy=policy,
                )
                for it in items
            )
        )
    return results


def rel_err(measured: float, exact: float) -> float:
    return (measured - exact) / exact


def sweep() -> dict[str, Any]:
    rows: dict[str, Any] = {}
    unhedged = run_virtual(run_calls(fixed(math.inf), N_CALLS))
    rows["none"] = {
        "delay_ms": None,
        "simulated": summarise([r.latency_ms for r in unhedged], [r.hedge_fired for r in unhedged]),
        "analytic": analytic(math.inf),
    }
    for label, q in (("p90", 0.90), ("p95", 0.95), ("p99", 0.99)):
        delay = PROFILE.quantile(q)
        results = run_virtual(run_calls(fixed(delay), N_CALLS))
        sim = summarise([r.latency_ms for r in results], [r.hedge_fired for r in results])
        exact = analytic(delay)
        rows[f"hedge_at_{label}"] = {
            "delay_ms": delay,
            "simulated": sim,
            "analytic": exact,
            "p99_rel_error": rel_err(sim["p99"], exact["p99"]),
        }
    return rows


def learned(policy_name: str) -> dict[str, Any]:
    warmup = 2_000
    policy = (
        percentile(95, window=4_000, min_samples=500)
        if policy_name == "percentile"
        else adaptive(quantile=0.99, max_extra_rate=0.1, window=4_000, min_samples=500)
    )

    async def both() -> tuple[list[HedgeResult[Any]], list[HedgeResult[Any]]]:
        first = await run_calls(policy, warmup, batch=100)
        return first, await run_calls(policy, N_CALLS, offset=warmup, batch=100)

    _, results = run_virtual(both())
    delay = policy.delay_ms(1)
    sim = summarise([r.latency_ms for r in results], [r.hedge_fired for r in results])
    exact = analytic(delay)
    out: dict[str, Any] = {
        "warmup_calls": warmup,
        "learned_delay_ms": delay,
        "simulated": sim,
        "analytic_at_learned_delay": exact,
        "p99_rel_error": rel_err(sim["p99"], exact["p99"]),
    }
    fit = getattr(policy, "fit", None)
    if fit is not None:
        out["predicted_p99_ms"] = fit.predicted_ms
        out["predicted_extra_rate"] = fit.predicted_extra_rate
    return out


def realtime_check() -> dict[str, Any]:
    delay = PROFILE.quantile(0.95) * REALTIME_SCALE

    async def main() -> list[HedgeResult[Any]]:
        return await run_calls(
            fixed(delay), N_REALTIME, batch=REALTIME_CONCURRENCY, time_scale=REALTIME_SCALE
        )

    started = time.perf_counter()
    results = asyncio.run(main())
    wall = time.perf_counter() - started
    sim = summarise(
        [r.latency_ms for r in results], [r.hedge_fired for r in results], scale=REALTIME_SCALE
    )
    return {
        "calls": N_REALTIME,
        "time_scale": REALTIME_SCALE,
        "concurrency": REALTIME_CONCURRENCY,
        "wall_s": wall,
        "simulated_rescaled": sim,
        "analytic": analytic(PROFILE.quantile(0.95)),
    }


def overhead() -> dict[str, float]:
    """Real-time cost of hedged() around an immediate call, minus the bare call."""
    n = 20_000

    async def instant() -> int:
        return 1

    async def bare() -> float:
        t = time.perf_counter()
        for _ in range(n):
            await instant()
        return time.perf_counter() - t

    async def wrapped(policy: Any) -> float:
        t = time.perf_counter()
        for _ in range(n):
            await hedged(instant, policy=policy)
        return time.perf_counter() - t

    async def main() -> dict[str, float]:
        base = min([await bare() for _ in range(3)])
        out = {}
        for name, policy in (
            ("fixed", fixed(1000)),
            ("percentile", percentile(95, min_samples=10)),
            ("adaptive", adaptive(min_samples=100)),
        ):
            spent = min([await wrapped(policy) for _ in range(3)])
            out[f"{name}_us_per_call"] = (spent - base) / n * 1e6
        return out

    return asyncio.run(main())


def main() -> None:
    started = time.perf_counter()
    report: dict[str, Any] = {
        "benchmark": "hedging_tail_latency",
        "latency_model": "crucible-core demo preset: P50 500 ms, P95 2 s, P99 5 s, 10 % slow tail",
        "clock": "simulated (virtual event-loop clock) for the sweep and learned policies; "
        "real time for realtime_check and overhead",
        "calls_per_setting": N_CALLS,
        "sweep": sweep(),
        "learned_percentile_p95": learned("percentile"),
        "adaptive_p99_max_extra_10pct": learned("adaptive"),
        "realtime_check": realtime_check(),
        "decision_overhead": overhead(),
        "python": sys.version.split()[0],
    }
    report["total_wall_s"] = time.perf_counter() - started
    print(json.dumps(report))


if __name__ == "__main__":
    main()
