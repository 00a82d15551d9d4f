from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy import stats

from crucible.bench import BenchInputError, DegenerateDataError, ttest

ALTS = ["two-sided", "less", "greater"]


@pytest.mark.parametrize("alternative", ALTS)
def test_one_sample_matches_scipy(normal_pair, alternative):
    a, _ = normal_pair
    r = ttest(a, mu=9.5, alternative=alternative, confidence=0.9)
    # scipy 1.17: stats.ttest_1samp(a, 9.5, alternative=...)
    ref = stats.ttest_1samp(a, 9.5, alternative=alternative)
    ci = ref.confidence_interval(0.9)
    assert r.statistic == pytest.approx(ref.statistic, rel=1e-12)
    assert r.p_value == pytest.approx(ref.pvalue, rel=1e-9)
    assert r.df == len(a) - 1
    assert r.estimate == pytest.approx(a.mean(), rel=1e-12)
    assert r.ci_low == pytest.approx(ci.low, rel=1e-9)
    assert r.ci_high == pytest.approx(ci.high, rel=1e-9)
    assert r.test == "one-sample t-test"


@pytest.mark.parametrize("alternative", ALTS)
def test_paired_matches_scipy(paired_pair, alternative):
    a, b = paired_pair
    r = ttest(a, b, paired=True, alternative=alternative)
    # scipy 1.17: stats.ttest_rel(a, b, alternative=...)
    ref = stats.ttest_rel(a, b, alternative=alternative)
    assert r.statistic == pytest.approx(ref.statistic, rel=1e-12)
    assert r.p_value == pytest.approx(ref.pvalue, rel=1e-9)
    assert r.estimate == pytest.approx(np.mean(a - b), rel=1e-12)
    ci = ref.confidence_interval(0.95)
    assert (r.ci_low, r.ci_high) == pytest.approx((ci.low, ci.high), rel=1e-9)


@pytest.mark.parametrize("equal_var", [True, False])
@pytest.mark.parametrize("alternative", ALTS)
def test_independent_matches_scipy(normal_pair, equal_var, alternative):
    a, b = normal_pair
    r = ttest(a, b, equal_var=equal_var, alternative=alternative)
    # scipy 1.17: stats.ttest_ind(a, b, equal_var=..., alternative=...)
    ref = stats.ttest_ind(a, b, equal_var=equal_var, alternative=alternative)
    assert r.statistic == pytest.approx(ref.statistic, rel=1e-12)
    assert r.p_value == pytest.approx(ref.pvalue, rel=1e-9)
    assert r.df == pytest.approx(ref.df, rel=1e-12)
    ci = ref.confidence_interval(0.95)
    assert (r.ci_low, r.ci_high) == pytest.approx((ci.low, ci.high), rel=1e-9)
    assert r.test == ("Student t-test" if equal_var else "Welch t-test")


def test_nan_raises_and_omit_drops(normal_pair):
    a, b = normal_pair
    with pytest.raises(BenchInputError, match="`a` contains 1 NaN"):
        ttest(np.r_[a, np.nan], b)
    r = ttest(np.r_[a, np.nan], b, nan_policy="omit")
    assert r.p_value == pytest.approx(stats.ttest_ind(a, b, equal_var=False).pvalue, rel=1e-12)


def test_paired_nan_omit_drops_whole_pair(paired_pair):
    a, b = paired_pair
    a2 = a.copy()
    a2[3] = np.nan
    r = ttest(a2, b, paired=True, nan_policy="omit")
    keep = np.arange(a.size) != 3
    assert r.p_value == pytest.approx(stats.ttest_rel(a[keep], b[keep]).pvalue, rel=1e-12)
    assert r.n == a.size - 1


def test_bad_inputs():
    with pytest.raises(BenchInputError, match="`a` is empty"):
        ttest([], [1.0, 2.0])
    with pytest.raises(BenchInputError, match="`a` has 1 observation"):
        ttest([1.0])
    with pytest.raises(BenchInputError, match="equal length, got 3 and 2"):
        ttest([1.0, 2.0, 3.0], [1.0, 2.0], paired=True)
    with pytest.raises(DegenerateDataError, match="constant"):
        ttest([2.0, 2.0, 2.0])
    with pytest.raises(DegenerateDataError, match="both constant"):
        ttest([1.0, 1.0], [2.0, 2.0])
    with pytest.raises(BenchInputError, match="`alternative` must be one of"):
        ttest([1.0, 2.0], alternative="bigger")
    with pytest.raises(BenchInputError, match=r"`confidence` must be in \(0, 1\), got 1.5"):
        ttest([1.0, 2.0], confidence=1.5)
    with pytest.raises(BenchInputError, match="infinite"):
        ttest([1.0, np.inf, 2.0])


@settings(max_examples=60, deadline=None)
@given(
    st.lists(st.floats(-1e3, 1e3, allow_nan=False), min_size=2, max_size=25),
    st.lists(st.floats(-1e3, 1e3, allow_nan=False), min_size=2, max_size=25),
    st.sampled_from(ALTS),
)
def test_p_value_in_unit_interval_and_ci_contains_estimate(x, y, alternative):
    try:
        r = ttest(x, y, alternative=alternative)
    except DegenerateDataError:
        return
    assert 0.0 <= r.p_value <= 1.0
    assert r.ci_low <= r.estimate <= r.ci_high
