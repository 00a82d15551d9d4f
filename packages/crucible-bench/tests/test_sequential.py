from __future__ import annotations

import math

import numpy as np
import pytest
from scipy import optimize

from crucible.bench import BenchInputError, confidence_sequence, msprt


def _eb_reference(x: np.ndarray, alpha: float) -> tuple[list[float], list[float]]:
    """Waudby-Smith & Ramdas (2024) Theorem 2, written as a plain loop."""
    lows, highs = [], []
    s_lx = s_l = s_vpsi = 0.0
    sum_x = sum_sq = 0.0
    mu_prev, sig2_prev = 0.5, 0.25
    lo_run, hi_run = -math.inf, math.inf
    for t, xi in enumerate(x, start=1):
        lam = min(math.sqrt(2 * math.log(2 / alpha) / (sig2_prev * t * math.log(1 + t))), 0.5)
        v = 4 * (xi - mu_prev) ** 2
        psi = (-math.log(1 - lam) - lam) / 4
        s_lx += lam * xi
        s_l += lam
        s_vpsi += v * psi
        center, margin = s_lx / s_l, (math.log(2 / alpha) + s_vpsi) / s_l
        lo_run, hi_run = max(lo_run, center - margin), min(hi_run, center + margin)
        lows.append(max(lo_run, 0.0))
        highs.append(min(hi_run, 1.0))
        sum_x += xi
        mu = (0.5 + sum_x) / (t + 1)
        sum_sq += (xi - mu) ** 2
        mu_prev, sig2_prev = mu, (0.25 + sum_sq) / (t + 1)
    return lows, highs


def test_empirical_bernstein_matches_loop_reference():
    x = np.random.default_rng(0).beta(2, 5, 300)
    cs = confidence_sequence(x, bounds=(0, 1), confidence=0.9)
    lows, highs = _eb_reference(x, 0.1)
    np.testing.assert_allclose(cs.lower, lows, rtol=1e-9, atol=1e-12)
    np.testing.assert_allclose(cs.upper, highs, rtol=1e-9, atol=1e-12)
    assert cs.method == "empirical-bernstein"


def test_normal_mixture_boundary():
    x = np.random.default_rng(1).normal(0.2, 1.0, 400)
    cs = confidence_sequence(x, sigma=1.0, optimize_at=100)
    alpha = 0.05
    # Howard et al. (2021) eq. 14 with rho minimising the width at t = 100
    res = optimize.minimize_scalar(lambda r: (100 + math.exp(r)) * math.log((100 + math.exp(r)) / (math.exp(r) * alpha**2)), bounds=(math.log(100) - 10, math.log(100) + 10), method="bounded")  # fmt: skip
    rho = math.exp(res.x)
    t = np.arange(1, 401)
    radius = np.sqrt((t + rho) * np.log((t + rho) / (rho * alpha**2))) / t
    mean = np.cumsum(x) / t
    np.testing.assert_allclose(cs.lower, np.maximum.accumulate(mean - radius), rtol=1e-9)
    np.testing.assert_allclose(cs.upper, np.minimum.accumulate(mean + radius), rtol=1e-9)


def test_paired_difference_sequence_and_monotone():
    rng = np.random.default_rng(2)
    a = (rng.random(2000) < 0.7).astype(float)
    b = (rng.random(2000) < 0.5).astype(float)
    cs = confidence_sequence(a, b, bounds=(0, 1))
    assert (np.diff(cs.lower) >= 0).all() and (np.diff(cs.upper) <= 0).all()
    assert cs.ci_low <= a.mean() - b.mean() <= cs.ci_high
    assert cs.first_excluding(0.0) > 0
    assert cs.lower[0] >= -1 and cs.upper[0] <= 1


def test_cs_bad_input():
    with pytest.raises(BenchInputError, match="`bounds` are required"):
        confidence_sequence([0.1, 0.2], method="empirical-bernstein")
    with pytest.raises(BenchInputError, match="outside `bounds`"):
        confidence_sequence([0.1, 1.2], bounds=(0, 1))
    with pytest.raises(BenchInputError, match="`sigma` or `bounds`"):
        confidence_sequence([0.1, 0.2])
    with pytest.raises(BenchInputError, match="lo < hi"):
        confidence_sequence([0.1, 0.2], bounds=(1, 0))


def test_msprt_one_sample_closed_form():
    x = np.array([1, 1, 0, 1, 1, 1, 0, 1, 1, 1] * 5, dtype=float)
    r = msprt(x, p0=0.5, tau=0.2)
    n = np.arange(1, x.size + 1)
    theta = np.cumsum(x) / n - 0.5
    v, tau2 = 0.25, 0.04
    lam = np.sqrt(v / (v + n * tau2)) * np.exp(n**2 * tau2 * theta**2 / (2 * v * (v + n * tau2)))
    expected = np.minimum(1, np.minimum.accumulate(1 / lam))
    np.testing.assert_allclose(r.p_values, expected, rtol=1e-12)
    assert r.reject == (expected[-1] <= 0.05)
    assert (np.diff(r.p_values) <= 0).all()


def test_msprt_two_sample_and_null():
    rng = np.random.default_rng(4)
    a = (rng.random(3000) < 0.6).astype(float)
    b = (rng.random(3000) < 0.5).astype(float)
    r = msprt(a, b)
    assert r.reject and 0 < r.stopped_at < 3000
    assert r.p_values[r.stopped_at - 1] <= 0.05 < r.p_values[r.stopped_at - 2]
    same = msprt(np.ones(10), np.ones(10))
    assert same.p_value == 1.0 and not same.reject


def test_msprt_bad_input():
    with pytest.raises(BenchInputError, match="binary"):
        msprt([0.5, 1.0])
    with pytest.raises(BenchInputError, match="`tau`"):
        msprt([0, 1], tau=0)
    with pytest.raises(BenchInputError, match="equal length"):
        msprt([0, 1, 1], [1, 0])
