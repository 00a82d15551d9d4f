"""Policies: fixed, learned percentile, adaptive, workload-aware, tiered; the sliding window."""

from __future__ import annotations

import math

import numpy as np
import pytest

from crucible.core import LatencyProfile
from crucible.hedging import (
    LatencyWindow,
    Observation,
    SurvivalWindow,
    Work,
    adaptive,
    fixed,
    hedged_quantile,
    hedged_sf,
    percentile,
    resolve_policy,
    tiered,
    workload_aware,
)


def test_window_is_bounded_and_forgets_old_values() -> None:
    w = LatencyWindow(10)
    for v in range(100):
        w.add(float(v))
    assert len(w) == 10
    assert w.values() == [float(v) for v in range(90, 100)]
    assert w.quantile(0.5) == 94.0  # type-1 quantile of 90..99: ceil(0.5 * 10) = 5th value
    assert w.sf(95.0) == pytest.approx(0.4)


def test_window_quantile_matches_numpy_inverted_cdf() -> None:
    rng = np.random.default_rng(7)
    data = rng.lognormal(6, 1, 999)
    w = LatencyWindow(1000)
    for v in data:
        w.add(float(v))
    for p in (0.1, 0.5, 0.9, 0.95, 0.99):
        # numpy 1.22+: method="inverted_cdf" is Hyndman & Fan type 1
        assert w.quantile(p) == pytest.approx(float(np.quantile(data, p, method="inverted_cdf")))


def test_fixed_levels_are_successive_multiples() -> None:
    policy = fixed(250)
    assert [policy.delay_ms(k) for k in (1, 2, 3)] == [250.0, 500.0, 750.0]


def test_percentile_learns_after_min_samples_and_counts_censored_primaries() -> None:
    policy = percentile(90, min_samples=10, initial_delay_ms=1234)
    for ms in range(100, 1000, 100):
        policy.observe(Observation(float(ms), completed=True))
    assert policy.delay_ms(1) == 1234.0  # 9 samples < min_samples
    policy.observe(Observation(5000.0, completed=False))  # a primary cancelled at 5 s
    policy.observe(Observation(1.0, completed=True, attempt=1))  # hedges are not primaries
    assert policy.learned
    assert policy.delay_ms(1) == 900.0  # 9th of 10 sorted values
    assert policy.delay_ms(2) == 1800.0


def test_percentile_tracks_the_profile_quantile() -> None:
    profile = LatencyProfile.from_quantiles(p50=500, p95=2000, p99=5000, slow_fraction=0.1)
    policy = percentile(95, window=5000, min_samples=100)
    for v in profile.sample(np.random.default_rng(3), 5000):
        policy.observe(Observation(float(v), completed=True))
    assert policy.delay_ms(1) == pytest.approx(2000.0, rel=0.08)


def test_hedged_quantile_matches_the_exponential_closed_form() -> None:
    # S(t) = exp(-t/100): S(t) S(t - d) = exp(-(2t - d)/100) = 1 - q  =>  t = (d + 100 ln(1/(1-q))) / 2
    sf = lambda t: math.exp(-t / 100.0)  # noqa: E731
    for d in (50.0, 200.0):
        expected = (d + 100.0 * math.log(100.0)) / 2
        assert hedged_quantile(sf, 0.99, d, upper_ms=2000) == pytest.approx(expected, rel=1e-9)
    assert hedged_quantile(sf, 0.99, math.inf, upper_ms=2000) == pytest.approx(100 * math.log(100))
    assert hedged_sf(sf, 30.0, 50.0) == pytest.approx(math.exp(-0.3))


def test_adaptive_respects_the_extra_rate_and_beats_unhedged_p99() -> None:
    profile = LatencyProfile.from_quantiles(p50=500, p95=2000, p99=5000, slow_fraction=0.1)
    policy = adaptive(quantile=0.99, max_extra_rate=0.1, min_samples=200, window=4000)
    assert policy.delay_ms(1) == math.inf
    for v in profile.sample(np.random.default_rng(11), 4000):
        policy.observe(Observation(float(v), completed=True))
    fit = policy.fit
    assert fit is not None
    assert fit.predicted_extra_rate <= 0.1 + 1e-9  # Kaplan-Meier products carry rounding
    assert fit.predicted_ms < 0.6 * fit.unhedged_ms
    # The fit's prediction agrees with the exact formula on the true distribution.
    exact = hedged_quantile(profile.sf, 0.99, fit.delay_ms, upper_ms=60_000)
    assert fit.predicted_ms == pytest.approx(exact, rel=0.1)
    assert policy.delay_ms(1) == fit.delay_ms


def test_adaptive_prefers_the_cheapest_near_optimal_delay() -> None:
    # Constant latency: every delay gives the same P99 (no hedge ever helps), so the largest
    # candidate delay, the one with the fewest extra requests, is chosen.
    policy = adaptive(max_extra_rate=0.2, min_samples=50)
    for i in range(100):
        policy.observe(Observation(100.0 + i * 1e-6, completed=True))
    assert policy.fit is not None
    assert policy.fit.delay_ms == pytest.approx(100.0, abs=1e-3)
    assert policy.fit.predicted_extra_rate <= 0.01


def test_workload_aware_scales_with_expected_work_and_learns() -> None:
    policy = workload_aware(
        p=90,
        base_ms=100,
        ms_per_prompt_token=1,
        ms_per_output_token=10,
        model_factors={"big": 2.0},
        min_samples=10,
    )
    small, large = Work(prompt_tokens=0, max_tokens=10), Work(prompt_tokens=100, max_tokens=90)
    assert policy.expected_ms(small) == 200.0
    assert policy.expected_ms(large) == 1100.0
    assert policy.expected_ms(Work(max_tokens=10, model="big")) == 400.0
    assert policy.delay_ms(1, small) == 600.0  # initial multiplier 3
    for ratio in range(1, 11):  # observed latency / expected = 1..10
        policy.observe(Observation(200.0 * ratio, completed=True, work=small))
    assert policy.multiplier() == 9.0
    assert policy.delay_ms(1, large) == 9900.0


def test_tiered_levels_and_nested_policies() -> None:
    learned = percentile(50, min_samples=2)
    policy = tiered(100, learned)
    assert policy.delay_ms(1) == 100.0
    assert policy.delay_ms(2) == math.inf  # the nested percentile has not learned yet
    assert policy.delay_ms(3) == math.inf  # no third level
    policy.observe(Observation(300.0, completed=True))
    policy.observe(Observation(500.0, completed=True))
    assert policy.delay_ms(2) == 300.0


def test_policy_names_resolve() -> None:
    assert resolve_policy("percentile").name == "percentile"
    assert resolve_policy("adaptive").name == "adaptive"
    assert resolve_policy("workload_aware").name == "workload_aware"


def test_kaplan_meier_matches_a_hand_computed_curve() -> None:
    # Times 1..6; 2 and 5 censored. S: 1 -> 5/6; 3 -> 5/6 * 3/4; 4 -> * 2/3; 6 -> 0.
    w = SurvivalWindow(10)
    for t, done in [(1, True), (2, False), (3, True), (4, True), (5, False), (6, True)]:
        w.add(float(t), completed=done)
    expected = [1.0, 5 / 6, 5 / 6, 5 / 8, 5 / 12, 5 / 12, 0.0]
    assert [w.sf(t) for t in (0.5, 1, 2, 3, 4, 5, 6)] == pytest.approx(expected)
    assert w.quantile(0.4) == 4.0  # first t with S(t) <= 0.6


def test_adaptive_predictions_account_for_censored_primaries() -> None:
    # Censoring the slow primaries at the hedge delay must not make the tail look short: with
    # Kaplan-Meier, the estimated survival beyond the censoring point stays near the truth.
    profile = LatencyProfile.from_quantiles(p50=500, p95=2000, p99=5000, slow_fraction=0.1)
    rng = np.random.default_rng(5)
    w = SurvivalWindow(20_000)
    naive = LatencyWindow(20_000)
    for v in profile.sample(rng, 20_000):
        cut = 1500.0 + float(rng.uniform(0, 3000))  # cancelled when a hedge won
        w.add(min(float(v), cut), completed=float(v) <= cut)
        naive.add(min(float(v), cut))
    assert w.sf(3000.0) == pytest.approx(profile.sf(3000.0), rel=0.15)
    assert naive.sf(3000.0) < 0.7 * profile.sf(3000.0)  # treating the cut as the latency fails
