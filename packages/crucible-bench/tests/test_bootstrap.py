from __future__ import annotations

import math

import numpy as np
import pytest
from scipy import stats

from crucible.bench import BenchInputError, bootstrap_ci
from crucible.bench._bootstrap import resample_chunk

METHODS = ["percentile", "basic", "bca"]


def _diff(a, b, axis=-1):
    return np.mean(a, axis=axis) - np.mean(b, axis=axis)


@pytest.mark.parametrize("method", METHODS)
def test_one_sample_mean_matches_scipy(method):
    x = np.random.default_rng(1).gamma(2.0, size=40)
    ci = bootstrap_ci(x, method=method, n_boot=2000, seed=5, confidence=0.9)
    # scipy 1.17: stats.bootstrap((x,), np.mean, method=..., n_resamples=2000,
    #             rng=default_rng(5), batch=<our chunk size>) draws the same resamples
    ref = stats.bootstrap(
        (x,), np.mean, method=method, n_resamples=2000, confidence_level=0.9,
        rng=np.random.default_rng(5), batch=resample_chunk(x.size),
    )  # fmt: skip
    assert ci.ci_low == pytest.approx(ref.confidence_interval.low, rel=1e-9)
    assert ci.ci_high == pytest.approx(ref.confidence_interval.high, rel=1e-9)
    assert ci.se == pytest.approx(ref.standard_error, rel=1e-9)
    assert ci.estimate == pytest.approx(x.mean(), rel=1e-12)


@pytest.mark.parametrize("method", METHODS)
def test_two_sample_difference_matches_scipy(method, normal_pair):
    a, b = normal_pair
    ci = bootstrap_ci(a, b, method=method, n_boot=2000, seed=9)
    # scipy 1.17: stats.bootstrap((a, b), mean(a) - mean(b), batch=<our chunk size>)
    ref = stats.bootstrap(
        (a, b), _diff, method=method, n_resamples=2000, rng=np.random.default_rng(9),
        batch=resample_chunk(max(a.size, b.size)),
    )  # fmt: skip
    assert ci.ci_low == pytest.approx(ref.confidence_interval.low, rel=1e-9)
    assert ci.ci_high == pytest.approx(ref.confidence_interval.high, rel=1e-9)


@pytest.mark.parametrize("method", METHODS)
def test_paired_matches_scipy(method, paired_pair):
    a, b = paired_pair
    ci = bootstrap_ci(a, b, paired=True, method=method, n_boot=2000, seed=3)
    # scipy 1.17: stats.bootstrap((a, b), mean(a) - mean(b), paired=True)
    ref = stats.bootstrap(
        (a, b), _diff, paired=True, method=method, n_resamples=2000,
        rng=np.random.default_rng(3), batch=resample_chunk(a.size),
    )  # fmt: skip
    assert ci.ci_low == pytest.approx(ref.confidence_interval.low, rel=1e-9)
    assert ci.ci_high == pytest.approx(ref.confidence_interval.high, rel=1e-9)


@pytest.mark.parametrize("paired", [False, True])
def test_callable_statistic_matches_scipy(paired, paired_pair):
    a, b = paired_pair

    def median_diff(x, y, axis=-1):
        return np.median(x, axis=axis) - np.median(y, axis=axis)

    ci = bootstrap_ci(a, b, statistic=median_diff, paired=paired, n_boot=1000, seed=2)
    # scipy 1.17: stats.bootstrap((a, b), median_diff, paired=..., method="BCa")
    ref = stats.bootstrap(
        (a, b), median_diff, paired=paired, n_resamples=1000, rng=np.random.default_rng(2),
        batch=resample_chunk(a.size),
    )  # fmt: skip
    assert ci.ci_low == pytest.approx(ref.confidence_interval.low, rel=1e-9)
    assert ci.ci_high == pytest.approx(ref.confidence_interval.high, rel=1e-9)


def test_cluster_bootstrap_with_singleton_clusters_is_the_ordinary_bootstrap():
    x = np.random.default_rng(8).normal(size=50)
    plain = bootstrap_ci(x, n_boot=1000, seed=4)
    clustered = bootstrap_ci(x, clusters=np.arange(50), n_boot=1000, seed=4)
    assert clustered.ci_low == pytest.approx(plain.ci_low, rel=1e-12)
    assert clustered.ci_high == pytest.approx(plain.ci_high, rel=1e-12)
    assert clustered.method == "cluster-bootstrap-bca"


def test_cluster_bootstrap_is_wider_with_correlated_clusters():
    rng = np.random.default_rng(12)
    cluster_effect = np.repeat(rng.normal(0, 1, 20), 10)
    x = cluster_effect + rng.normal(0, 0.3, 200)
    labels = np.repeat(np.arange(20), 10)
    naive = bootstrap_ci(x, n_boot=2000, seed=1)
    clustered = bootstrap_ci(x, clusters=labels, n_boot=2000, seed=1)
    assert clustered.width > 2 * naive.width


def test_cluster_bootstrap_statistic_is_pooled_mean():
    x = np.array([1.0, 2.0, 3.0, 10.0, 0.0, 5.0])
    labels = np.array(["a", "a", "a", "b", "c", "c"])
    ci = bootstrap_ci(x, clusters=labels, n_boot=500, seed=1, method="percentile")
    assert ci.estimate == pytest.approx(x.mean())
    rng = np.random.default_rng(1)
    idx = rng.integers(0, 3, (resample_chunk(3), 3))[:500]
    sums, counts = np.array([6.0, 10.0, 5.0]), np.array([3.0, 1.0, 2.0])
    dist = sums[idx].sum(axis=1) / counts[idx].sum(axis=1)
    assert ci.ci_low == pytest.approx(np.quantile(dist, 0.025), rel=1e-12)


def test_seed_reproducibility_and_generator():
    x = np.random.default_rng(0).normal(size=30)
    assert bootstrap_ci(x, seed=1, n_boot=500) == bootstrap_ci(x, seed=1, n_boot=500)
    assert bootstrap_ci(x, seed=1, n_boot=500) != bootstrap_ci(x, seed=2, n_boot=500)
    g = np.random.default_rng(1)
    assert bootstrap_ci(x, seed=g, n_boot=500) == bootstrap_ci(x, seed=1, n_boot=500)


def test_constant_data_reports_nan_not_zero_width():
    ci = bootstrap_ci([2.0, 2.0, 2.0, 2.0], n_boot=200, seed=0)
    assert math.isnan(ci.ci_low) and math.isnan(ci.ci_high) and "constant" in ci.note


def test_bootstrap_bad_input():
    with pytest.raises(BenchInputError, match="`n_boot` must be an integer >= 100"):
        bootstrap_ci([1.0, 2.0, 3.0], n_boot=10)
    with pytest.raises(BenchInputError, match="`a` has 1 observation"):
        bootstrap_ci([1.0])
    with pytest.raises(BenchInputError, match="`method` must be one of 'percentile'"):
        bootstrap_ci([1.0, 2.0], method="studentized")
    with pytest.raises(BenchInputError, match="`seed`"):
        bootstrap_ci([1.0, 2.0], seed="abc")  # type: ignore[arg-type]
    with pytest.raises(BenchInputError, match="one label per observation"):
        bootstrap_ci([1.0, 2.0, 3.0], clusters=[1, 2])
    with pytest.raises(BenchInputError, match="at least 2"):
        bootstrap_ci([1.0, 2.0, 3.0], clusters=[1, 1, 1])
    with pytest.raises(BenchInputError, match="equal length"):
        bootstrap_ci([1.0, 2.0, 3.0], [1.0, 2.0], paired=True)
    with pytest.raises(BenchInputError, match="NaN"):
        bootstrap_ci([1.0, np.nan, 3.0])
