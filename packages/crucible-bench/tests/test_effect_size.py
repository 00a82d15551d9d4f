from __future__ import annotations

import math

import numpy as np
import pingouin as pg
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy import stats
from statsmodels.stats.proportion import proportion_effectsize

from crucible.bench import (
    BenchInputError,
    DegenerateDataError,
    cliffs_delta,
    cohen_d,
    cohen_h,
    cramers_v,
    glass_delta,
    hedges_g,
    interpret,
    odds_ratio,
    rank_biserial,
)


def test_cohen_d_matches_pingouin(normal_pair):
    a, b = normal_pair
    e = cohen_d(a, b, confidence=0.9)
    # pingouin 0.7: pg.compute_effsize(a, b, eftype="cohen")
    d = pg.compute_effsize(a, b, eftype="cohen")
    assert e.value == pytest.approx(d, rel=1e-12)
    # pingouin 0.7: pg.compute_esci(d, nx, ny, eftype="cohen", confidence=0.9, decimals=14)
    ci = pg.compute_esci(d, a.size, b.size, eftype="cohen", confidence=0.9, decimals=14)
    assert (e.ci_low, e.ci_high) == pytest.approx(tuple(ci), rel=1e-9)


def test_hedges_g_matches_pingouin(normal_pair):
    a, b = normal_pair
    e = hedges_g(a, b)
    # pingouin 0.7: pg.compute_effsize(a, b, eftype="hedges")
    g = pg.compute_effsize(a, b, eftype="hedges")
    assert e.value == pytest.approx(g, rel=1e-12)
    ci = pg.compute_esci(g, a.size, b.size, eftype="hedges", decimals=14)
    assert (e.ci_low, e.ci_high) == pytest.approx(tuple(ci), rel=1e-9)


def test_one_sample_and_paired_d(paired_pair):
    a, b = paired_pair
    d = a - b
    e = cohen_d(a, b, paired=True)
    assert e.name == "d_z"
    assert e.value == pytest.approx(d.mean() / d.std(ddof=1), rel=1e-12)
    # pingouin 0.7: pg.compute_esci(dz, n, 1, eftype="cohen", decimals=14) (one-sample SE)
    ci = pg.compute_esci(e.value, a.size, 1, eftype="cohen", decimals=14)
    assert (e.ci_low, e.ci_high) == pytest.approx(tuple(ci), rel=1e-9)
    one = cohen_d(a, mu=0.2)
    # pingouin 0.7: pg.compute_effsize(a, 0.2 * ones) is not one-sample; use the definition
    assert one.value == pytest.approx((a.mean() - 0.2) / a.std(ddof=1), rel=1e-12)


def test_glass_delta_formula(normal_pair):
    a, b = normal_pair
    e = glass_delta(a, b)
    delta = (a.mean() - b.mean()) / b.std(ddof=1)
    se = math.sqrt((a.size + b.size) / (a.size * b.size) + delta**2 / (2 * (b.size - 1)))
    z = stats.norm.ppf(0.975)
    assert e.value == pytest.approx(delta, rel=1e-12)
    assert (e.ci_low, e.ci_high) == pytest.approx((delta - z * se, delta + z * se), rel=1e-12)


def test_rank_biserial_matches_pingouin(normal_pair, paired_pair):
    a, b = normal_pair
    # pingouin 0.7: pg.mwu(a, b)["RBC"]
    assert rank_biserial(a, b).value == pytest.approx(pg.mwu(a, b)["RBC"].iloc[0], rel=1e-12)
    x, y = paired_pair
    # pingouin 0.7: pg.wilcoxon(x, y)["RBC"]
    e = rank_biserial(x, y, paired=True)
    assert e.value == pytest.approx(pg.wilcoxon(x, y)["RBC"].iloc[0], rel=1e-12)
    n = x.size
    se = math.sqrt((2 * n**3 + 3 * n**2 + n) / 6) / (n * (n + 1) / 2)
    z = stats.norm.ppf(0.975)
    expected = (math.tanh(math.atanh(e.value) - z * se), math.tanh(math.atanh(e.value) + z * se))
    assert (e.ci_low, e.ci_high) == pytest.approx(expected, rel=1e-12)


def _cliff_reference(x: np.ndarray, y: np.ndarray) -> tuple[float, float]:
    """Cliff (1993) by its O(n1·n2) definition."""
    dom = np.sign(x[:, None] - y[None, :])
    d = dom.mean()
    n1, n2 = dom.shape
    di, dj = dom.mean(axis=1), dom.mean(axis=0)
    var = (n2**2 * ((di - d) ** 2).sum() + n1**2 * ((dj - d) ** 2).sum() - ((dom - d) ** 2).sum()) / (n1 * n2 * (n1 - 1) * (n2 - 1))  # fmt: skip
    return float(d), float(max(var, (1 - d * d) / (n1 * n2 - 1)))


def test_cliffs_delta_matches_definition():
    rng = np.random.default_rng(4)
    x = rng.integers(0, 6, 40).astype(float)  # ties on purpose
    y = rng.integers(1, 7, 33).astype(float)
    e = cliffs_delta(x, y)
    d, var = _cliff_reference(x, y)
    z = stats.norm.ppf(0.975)
    s = math.sqrt(var)
    root = z * s * math.sqrt((1 - d * d) ** 2 + z * z * var)
    denom = 1 - d * d + z * z * var
    assert e.value == pytest.approx(d, rel=1e-12)
    assert e.ci_low == pytest.approx((d - d**3 - root) / denom, rel=1e-9)
    assert e.ci_high == pytest.approx((d - d**3 + root) / denom, rel=1e-9)
    # pingouin 0.7: pg.mwu(x, y)["RBC"] equals Cliff's delta for independent samples
    assert e.value == pytest.approx(pg.mwu(x, y)["RBC"].iloc[0], rel=1e-12)


def test_cohen_h_matches_statsmodels():
    e = cohen_h(60, 100, 45, 100)
    # statsmodels 0.15: proportion_effectsize(0.60, 0.45)
    assert e.value == pytest.approx(proportion_effectsize(0.60, 0.45), rel=1e-12)
    se = math.sqrt(1 / 100 + 1 / 100)
    assert e.ci_high - e.ci_low == pytest.approx(2 * stats.norm.ppf(0.975) * se, rel=1e-12)


def test_odds_ratio_matches_scipy():
    table = [[23, 7], [11, 19]]
    e = odds_ratio(table, confidence=0.9)
    # scipy 1.17: stats.contingency.odds_ratio(table, kind="sample").confidence_interval(0.9)
    ref = stats.contingency.odds_ratio(table, kind="sample")
    ci = ref.confidence_interval(0.9)
    assert e.value == pytest.approx(ref.statistic, rel=1e-12)
    assert (e.ci_low, e.ci_high) == pytest.approx((ci.low, ci.high), rel=1e-9)
    zero = odds_ratio([[0, 5], [4, 6]])
    assert zero.method == "woolf-log-haldane"
    assert zero.value == pytest.approx(0.5 * 6.5 / (5.5 * 4.5), rel=1e-12)


def test_cramers_v_matches_scipy_and_inverts_ncx2():
    t = np.array([[10, 20, 30], [20, 15, 5]])
    e = cramers_v(t)
    # scipy 1.17: stats.contingency.association(t, method="cramer")
    assert e.value == pytest.approx(stats.contingency.association(t, method="cramer"), rel=1e-12)
    chi2 = stats.chi2_contingency(t, correction=False).statistic
    n = t.sum()
    lam_lo, lam_hi = e.ci_low**2 * n, e.ci_high**2 * n
    assert stats.ncx2.cdf(chi2, 2, lam_lo) == pytest.approx(0.975, abs=1e-8)
    assert stats.ncx2.cdf(chi2, 2, lam_hi) == pytest.approx(0.025, abs=1e-8)


def test_interpret_conventions():
    assert interpret("cohen_d", 0.19) == ("negligible", "Cohen (1988)")
    assert interpret("hedges_g", -0.5)[0] == "medium"
    assert interpret("cliffs_delta", 0.2)[0] == "small"
    assert interpret("odds_ratio", 1 / 4.0)[0] == "medium"
    assert interpret("cramers_v", 0.2, df=4)[0] == "medium"
    assert interpret("eta_squared", float("nan"))[0] == "undefined"
    with pytest.raises(BenchInputError, match="`name` must be one of"):
        interpret("phi", 0.3)


def test_effect_size_bad_input():
    with pytest.raises(DegenerateDataError, match="zero variance"):
        cohen_d([1.0, 1.0], [2.0, 2.0])
    with pytest.raises(DegenerateDataError):
        glass_delta([1.0, 2.0], [3.0, 3.0])
    with pytest.raises(DegenerateDataError):
        rank_biserial([1.0, 2.0], [1.0, 2.0], paired=True)
    with pytest.raises(BenchInputError, match="successes"):
        cohen_h(11, 10, 3, 10)
    with pytest.raises(BenchInputError, match="negative"):
        odds_ratio([[1, -1], [2, 3]])
    with pytest.raises(BenchInputError, match="`a` has 1 observation"):
        hedges_g([1.0], [1.0, 2.0])


samples = st.lists(st.floats(-1e3, 1e3, allow_nan=False), min_size=3, max_size=30)


@settings(max_examples=60, deadline=None)
@given(samples, samples)
def test_effect_size_ci_contains_estimate(x, y):
    for fn in (cohen_d, hedges_g, cliffs_delta, rank_biserial):
        try:
            e = fn(x, y)
        except DegenerateDataError:
            continue
        if abs(e.value) == 1 and fn in (cliffs_delta, rank_biserial):
            assert math.isnan(e.ci_low) and math.isnan(e.ci_high)
            continue
        assert e.ci_low <= e.value <= e.ci_high
        if fn is cliffs_delta:
            assert -1 <= e.ci_low <= e.ci_high <= 1
