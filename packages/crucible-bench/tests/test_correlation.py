from __future__ import annotations

import numpy as np
import pingouin as pg
import pytest
from scipy import stats

from crucible.bench import DegenerateDataError, kendall, pearson, spearman


@pytest.mark.parametrize("alternative", ["two-sided", "less", "greater"])
def test_pearson_matches_scipy(paired_pair, alternative):
    a, b = paired_pair
    r = pearson(a, b, alternative=alternative, confidence=0.9)
    # scipy 1.17: stats.pearsonr(a, b, alternative=...).confidence_interval(0.9)
    ref = stats.pearsonr(a, b, alternative=alternative)
    ci = ref.confidence_interval(0.9)
    assert r.statistic == pytest.approx(ref.statistic, rel=1e-12)
    assert r.p_value == pytest.approx(ref.pvalue, rel=1e-9)
    assert (r.ci_low, r.ci_high) == pytest.approx((ci.low, ci.high), rel=1e-9)


def test_spearman_matches_scipy_and_pingouin(paired_pair):
    a, b = paired_pair
    r = spearman(a, b)
    # scipy 1.17: stats.spearmanr(a, b)
    ref = stats.spearmanr(a, b)
    assert r.statistic == pytest.approx(ref.statistic, rel=1e-12)
    assert r.p_value == pytest.approx(ref.pvalue, rel=1e-9)
    # Fieller, Hartley & Pearson (1957): SE of atanh(rho) is sqrt(1.06 / (n - 3))
    z, se = np.arctanh(ref.statistic), np.sqrt(1.06 / (a.size - 3))
    expected = np.tanh([z - stats.norm.ppf(0.975) * se, z + stats.norm.ppf(0.975) * se])
    assert (r.ci_low, r.ci_high) == pytest.approx(tuple(expected), rel=1e-12)
    # pingouin 0.7: pg.corr(method="spearman") gives the same rho
    assert r.estimate == pytest.approx(pg.corr(a, b, method="spearman")["r"].iloc[0], rel=1e-12)


@pytest.mark.parametrize("method", ["auto", "exact", "asymptotic"])
def test_kendall_matches_scipy(paired_pair, method):
    a, b = paired_pair[0][:20], paired_pair[1][:20]
    r = kendall(a, b, method=method)
    # scipy 1.17: stats.kendalltau(a, b, method=...)
    ref = stats.kendalltau(a, b, method=method)
    assert r.statistic == pytest.approx(ref.statistic, rel=1e-12)
    assert r.p_value == pytest.approx(ref.pvalue, rel=1e-9)
    assert r.ci_low < r.estimate < r.ci_high


def test_constant_raises():
    with pytest.raises(DegenerateDataError, match="`b` is constant"):
        pearson([1.0, 2.0, 3.0], [1.0, 1.0, 1.0])
