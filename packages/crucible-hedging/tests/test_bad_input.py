"""Bad arguments raise ConfigurationError naming the argument (and listing valid values)."""

from __future__ import annotations

from typing import Any

import pytest

from crucible.core import ConfigurationError, CrucibleError
from crucible.hedging import (
    HedgeBudget,
    HedgedModel,
    LatencyWindow,
    adaptive,
    fixed,
    hedged,
    percentile,
    resolve_policy,
    tiered,
    workload_aware,
)


@pytest.mark.parametrize(
    ("build", "match"),
    [
        (lambda: fixed(-1), "`delay_ms` must be a number of milliseconds >= 0, got -1"),
        (lambda: fixed("10"), "`delay_ms`"),
        (lambda: percentile(0), r"`p` must be a percentile in \(0, 100\)"),
        (lambda: percentile(100), "`p`"),
        (lambda: percentile(95, window=0), "`window` must be an int >= 1"),
        (lambda: percentile(95, min_samples=0), "`min_samples`"),
        (lambda: percentile(95, initial_delay_ms=-5), "`initial_delay_ms`"),
        (lambda: adaptive(max_extra_rate=1.5), "`max_extra_rate` must be in"),
        (lambda: adaptive(quantile=1.0), "`quantile` must be in"),
        (lambda: adaptive(refit_every=0), "`refit_every`"),
        (lambda: workload_aware(ms_per_output_token=-1), "`ms_per_output_token`"),
        (lambda: workload_aware(model_factors={"m": 0}), r"`model_factors\['m'\]`"),
        (lambda: tiered(), "at least one level"),
        (lambda: tiered(100, -1), r"`levels\[1\]`"),
        (lambda: tiered(100, "x"), r"`levels\[1\]` must be a delay in ms or a hedging policy"),
        (lambda: HedgeBudget(ratio=-0.1), "`ratio` must be a number >= 0, got -0.1"),
        (lambda: HedgeBudget(burst=-1), "`burst`"),
        (lambda: HedgeBudget(max_extra_usd=-2), "`max_extra_usd`"),
        (lambda: LatencyWindow(5).quantile(0.5), "empty"),
        (
            lambda: resolve_policy("fastest"),
            "unknown `policy` 'fastest'; valid: 'fixed', 'percentile', 'adaptive', 'workload_aware', 'tiered'",
        ),
        (lambda: resolve_policy("fixed"), r"use fixed\(delay_ms\)"),
        (lambda: resolve_policy(3), "`policy` must be a hedging policy object"),
        (lambda: HedgedModel(42), "`primary` must be a Model"),
        (lambda: HedgedModel("sim:gpt-4", max_hedges=-1), "`max_hedges` must be an int >= 0"),
        (lambda: HedgedModel("sim:gpt-4", budget=3), "`budget` must be a HedgeBudget"),
    ],
)
def test_bad_arguments(build: Any, match: str) -> None:
    with pytest.raises(ConfigurationError, match=match) as info:
        build()
    assert isinstance(info.value, CrucibleError)


async def test_bad_hedged_arguments() -> None:
    async def ok() -> int:
        return 1

    with pytest.raises(ConfigurationError, match="`call` is an empty list"):
        await hedged([], policy=fixed(0))
    with pytest.raises(ConfigurationError, match=r"`call\[1\]` must be a zero-argument function"):
        await hedged([ok, 5], policy=fixed(0))  # type: ignore[list-item]
    with pytest.raises(ConfigurationError, match="`max_hedges` must be an int >= 0, got -1"):
        await hedged(ok, policy=fixed(0), max_hedges=-1)
    with pytest.raises(ConfigurationError, match="unknown `policy`"):
        await hedged(ok, policy="nope")
