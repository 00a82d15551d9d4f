from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy import stats
from statsmodels.stats.proportion import proportion_confint

from crucible.bench import BenchInputError, mean_ci, proportion_ci

SM = {"wilson": "wilson", "clopper-pearson": "beta", "agresti-coull": "agresti_coull", "jeffreys": "jeffreys"}  # fmt: skip


def test_mean_ci_matches_scipy(normal_pair):
    a, _ = normal_pair
    ci = mean_ci(a, confidence=0.9)
    # scipy 1.17: stats.ttest_1samp(a, 0).confidence_interval(0.9)
    ref = stats.ttest_1samp(a, 0).confidence_interval(0.9)
    assert (ci.ci_low, ci.ci_high) == pytest.approx((ref.low, ref.high), rel=1e-12)
    assert ci.se == pytest.approx(stats.sem(a), rel=1e-12)


def test_mean_ci_n1_reports_nan_not_zero_width():
    ci = mean_ci([3.0])
    assert math.isnan(ci.ci_low) and math.isnan(ci.ci_high) and "n = 1" in ci.note


@pytest.mark.parametrize("method", list(SM))
@pytest.mark.parametrize(("x", "n"), [(0, 20), (1, 20), (7, 10), (20, 20), (345, 1000)])
def test_proportion_ci_matches_statsmodels(method, x, n):
    ci = proportion_ci(x, n, method=method, confidence=0.9)
    # statsmodels 0.15: proportion_confint(x, n, alpha=0.1, method=...)
    lo, hi = proportion_confint(x, n, alpha=0.1, method=SM[method])
    if method == "jeffreys" and x in (0, n):
        # Brown, Cai & DasGupta (2001) §4.1.2: the bound at the boundary is 0 (or 1)
        lo, hi = (0.0, hi) if x == 0 else (lo, 1.0)
    assert ci.ci_low == pytest.approx(lo, rel=1e-9, abs=1e-15)
    assert ci.ci_high == pytest.approx(hi, rel=1e-9, abs=1e-15)


def test_proportion_ci_bad_input():
    with pytest.raises(BenchInputError, match="`successes`"):
        proportion_ci(11, 10)
    with pytest.raises(BenchInputError, match="`n`"):
        proportion_ci(0, 0)
    with pytest.raises(BenchInputError, match="`method` must be one of 'wilson'"):
        proportion_ci(1, 10, method="wald")


@settings(max_examples=100, deadline=None)
@given(st.integers(1, 500).flatmap(lambda n: st.tuples(st.integers(0, n), st.just(n))))
def test_proportion_ci_in_unit_interval_and_contains_p(xn):
    x, n = xn
    for method in ("wilson", "clopper-pearson", "jeffreys", "agresti-coull"):
        ci = proportion_ci(x, n, method=method)
        assert 0.0 <= ci.ci_low <= ci.ci_high <= 1.0
        if method != "agresti-coull":
            assert ci.ci_low <= x / n <= ci.ci_high + 1e-15


@settings(max_examples=50, deadline=None)
@given(st.lists(st.floats(-1e6, 1e6, allow_nan=False), min_size=2, max_size=40))
def test_mean_ci_contains_mean(x):
    ci = mean_ci(x)
    assert ci.ci_low <= np.mean(x) <= ci.ci_high
