from __future__ import annotations

import numpy as np
import pandas as pd
import pingouin as pg
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy import stats

from crucible.bench import (
    BenchInputError,
    DegenerateDataError,
    friedman,
    kruskal,
    ks_2samp,
    mann_whitney,
    wilcoxon,
)


@pytest.mark.parametrize("method", ["auto", "exact", "asymptotic"])
@pytest.mark.parametrize("alternative", ["two-sided", "less", "greater"])
def test_mann_whitney_matches_scipy(normal_pair, method, alternative):
    a, b = normal_pair[0][:12], normal_pair[1][:15]
    r = mann_whitney(a, b, method=method, alternative=alternative)
    # scipy 1.17: stats.mannwhitneyu(a, b, method=..., alternative=...)
    ref = stats.mannwhitneyu(a, b, method=method, alternative=alternative)
    assert r.statistic == ref.statistic
    assert r.p_value == pytest.approx(ref.pvalue, rel=1e-9)


def test_mann_whitney_rbc_matches_pingouin(normal_pair):
    a, b = normal_pair
    # pingouin 0.7: pg.mwu(a, b)["RBC"]
    assert mann_whitney(a, b).estimate == pytest.approx(pg.mwu(a, b)["RBC"].iloc[0], rel=1e-12)


@pytest.mark.parametrize("zero_method", ["wilcox", "pratt", "zsplit"])
def test_wilcoxon_matches_scipy(paired_pair, zero_method):
    a, b = paired_pair
    b = b.copy()
    b[:3] = a[:3]  # zero differences exercise zero_method
    r = wilcoxon(a, b, zero_method=zero_method)
    # scipy 1.17: stats.wilcoxon(a - b, zero_method=...)
    ref = stats.wilcoxon(a - b, zero_method=zero_method)
    assert r.statistic == ref.statistic
    assert r.p_value == pytest.approx(ref.pvalue, rel=1e-9)


def test_wilcoxon_exact_and_rbc(paired_pair):
    a, b = paired_pair[0][:15], paired_pair[1][:15]
    r = wilcoxon(a, b, method="exact", alternative="greater")
    # scipy 1.17: stats.wilcoxon(a, b, method="exact", alternative="greater")
    ref = stats.wilcoxon(a, b, method="exact", alternative="greater")
    assert r.p_value == pytest.approx(ref.pvalue, rel=1e-9)
    # pingouin 0.7: pg.wilcoxon(a, b)["RBC"] (matched-pairs rank-biserial)
    assert wilcoxon(a, b).estimate == pytest.approx(pg.wilcoxon(a, b)["RBC"].iloc[0], rel=1e-12)


def test_kruskal_matches_scipy(three_groups):
    r = kruskal(three_groups)
    # scipy 1.17: stats.kruskal(*groups)
    ref = stats.kruskal(*three_groups)
    assert r.statistic == pytest.approx(ref.statistic, rel=1e-12)
    assert r.p_value == pytest.approx(ref.pvalue, rel=1e-9)
    n = sum(g.size for g in three_groups)
    assert r.estimate == pytest.approx(ref.statistic / (n - 1), rel=1e-12)


def test_friedman_matches_scipy_and_pingouin(repeated):
    r = friedman(repeated)
    # scipy 1.17: stats.friedmanchisquare(*columns)
    ref = stats.friedmanchisquare(*repeated.T)
    assert r.statistic == pytest.approx(ref.statistic, rel=1e-12)
    assert r.p_value == pytest.approx(ref.pvalue, rel=1e-9)
    n, k = repeated.shape
    df = pd.DataFrame(
        {"y": repeated.ravel(), "s": np.repeat(np.arange(n), k), "c": np.tile(np.arange(k), n)}
    )
    # pingouin 0.7: pg.friedman(dv="y", within="c", subject="s")["W"]
    assert r.estimate == pytest.approx(pg.friedman(df, dv="y", within="c", subject="s")["W"].iloc[0], rel=1e-9)  # fmt: skip


@pytest.mark.parametrize("alternative", ["two-sided", "less", "greater"])
def test_ks_matches_scipy(normal_pair, alternative):
    a, b = normal_pair
    r = ks_2samp(a, b, alternative=alternative)
    # scipy 1.17: stats.ks_2samp(a, b, alternative=...)
    ref = stats.ks_2samp(a, b, alternative=alternative)
    assert r.statistic == pytest.approx(ref.statistic, rel=1e-12)
    assert r.p_value == pytest.approx(ref.pvalue, rel=1e-9)


def test_rank_tests_bad_input():
    with pytest.raises(DegenerateDataError, match="single value"):
        mann_whitney([1.0, 1.0], [1.0, 1.0])
    with pytest.raises(DegenerateDataError, match="every difference is zero"):
        wilcoxon([1.0, 2.0], [1.0, 2.0])
    with pytest.raises(BenchInputError, match="equal length"):
        wilcoxon([1.0, 2.0, 3.0], [1.0, 2.0])
    with pytest.raises(BenchInputError, match="`method` must be one of"):
        mann_whitney([1.0, 2.0], [3.0, 4.0], method="fast")
    with pytest.raises(BenchInputError, match="at least 3 conditions"):
        friedman([[1.0, 2.0], [2.0, 3.0]])
    with pytest.raises(DegenerateDataError, match="equal values"):
        friedman(np.ones((4, 3)))
    with pytest.raises(DegenerateDataError):
        kruskal([[1.0, 1.0], [1.0, 1.0], [1.0]])
    with pytest.raises(BenchInputError, match="NaN"):
        kruskal([[1.0, np.nan], [1.0, 2.0], [3.0, 4.0]])


samples = st.lists(st.floats(-1e3, 1e3, allow_nan=False), min_size=3, max_size=25)


@settings(max_examples=60, deadline=None)
@given(samples, samples)
def test_p_values_are_probabilities(x, y):
    for fn in (mann_whitney, ks_2samp):
        try:
            r = fn(x, y)
        except DegenerateDataError:
            continue
        assert 0.0 <= r.p_value <= 1.0
    try:
        r = wilcoxon(x[: min(len(x), len(y))], y[: min(len(x), len(y))])
    except DegenerateDataError:
        return
    assert 0.0 <= r.p_value <= 1.0
