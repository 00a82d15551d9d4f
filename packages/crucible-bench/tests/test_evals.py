from __future__ import annotations

import math

import numpy as np
import pytest
import statsmodels.api as sm
from scipy import stats
from statsmodels.stats.power import NormalIndPower

from crucible.bench import BenchInputError, DegenerateDataError, compare_evals, eval_sample_size


@pytest.fixture
def eval_scores() -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    rng = np.random.default_rng(21)
    n_clusters, per = 25, 8
    difficulty = np.repeat(rng.normal(0, 1, n_clusters), per) + rng.normal(0, 0.7, n_clusters * per)  # fmt: skip
    a = (rng.random(difficulty.size) < 1 / (1 + np.exp(-(difficulty + 0.4)))).astype(float)
    b = (rng.random(difficulty.size) < 1 / (1 + np.exp(-difficulty))).astype(float)
    return a, b, np.repeat(np.arange(n_clusters), per)


def test_unclustered_equals_paired_t(eval_scores):
    a, b, _ = eval_scores
    r = compare_evals(a, b)
    # scipy 1.17: stats.ttest_rel(a, b)
    ref = stats.ttest_rel(a, b)
    assert r.statistic == pytest.approx(ref.statistic, rel=1e-12)
    assert r.p_value == pytest.approx(ref.pvalue, rel=1e-9)
    ci = ref.confidence_interval()
    assert (r.ci_low, r.ci_high) == pytest.approx((ci.low, ci.high), rel=1e-9)
    assert r.correlation == pytest.approx(stats.pearsonr(a, b).statistic, rel=1e-12)
    var_a, var_b = a.var(ddof=1), b.var(ddof=1)
    assert r.variance_reduction == pytest.approx(1 - np.var(a - b, ddof=1) / (var_a + var_b), rel=1e-9)  # fmt: skip
    assert r.se_unpaired == pytest.approx(math.sqrt((var_a + var_b) / a.size), rel=1e-12)


def test_clustered_se_matches_statsmodels_cluster_robust(eval_scores):
    a, b, clusters = eval_scores
    r = compare_evals(a, b, clusters=clusters)
    d = a - b
    n = d.size
    # statsmodels 0.15: OLS(d, 1).fit(cov_type="cluster", cov_kwds={"groups": clusters,
    #                   "use_correction": False}) -> Σ_c (Σ_i e_i)² / n²
    fit = sm.OLS(d, np.ones(n)).fit(cov_type="cluster", cov_kwds={"groups": clusters, "use_correction": False})  # fmt: skip
    resid = d - d.mean()
    # Miller (2024) eq. 4 = CR0 + Σe²/(n²(n-1)) (his SE_CLT uses n - 1, the cross terms n²)
    expected = math.sqrt(fit.bse[0] ** 2 + float(resid @ resid) / (n * n * (n - 1)))
    assert r.se == pytest.approx(expected, rel=1e-9)
    assert r.df == 24 and r.n_clusters == 25
    assert r.p_value == pytest.approx(2 * stats.t.sf(abs(d.mean() / expected), 24), rel=1e-9)


def test_clustered_se_grows_with_shared_cluster_effects():
    rng = np.random.default_rng(8)
    shared = np.repeat(rng.normal(0, 1, 20), 10)
    a = shared + rng.normal(0, 0.2, 200)
    b = rng.normal(0, 0.2, 200)
    r = compare_evals(a, b, clusters=np.repeat(np.arange(20), 10))
    assert r.se > 2 * r.se_naive


def test_repeats_are_averaged_within_items():
    rng = np.random.default_rng(3)
    a = rng.random((40, 5))
    b = rng.random((40, 3))
    r = compare_evals(a, b)
    ref = compare_evals(a.mean(axis=1), b.mean(axis=1))
    assert r.estimate == pytest.approx(ref.estimate, rel=1e-12)
    assert r.se == pytest.approx(ref.se, rel=1e-12)
    assert r.n_repeats == (5, 3)
    a2 = a.copy()
    a2[0, 0] = np.nan
    omitted = compare_evals(a2, b, nan_policy="omit")
    assert omitted.mean_a == pytest.approx(np.r_[np.nanmean(a2[0]), a[1:].mean(axis=1)].mean())


def test_one_sided_alternative(eval_scores):
    a, b, _ = eval_scores
    r = compare_evals(a, b, alternative="greater")
    assert r.p_value == pytest.approx(stats.ttest_rel(a, b, alternative="greater").pvalue, rel=1e-9)  # fmt: skip
    assert r.ci_high == math.inf


def test_eval_bad_input(eval_scores):
    a, b, clusters = eval_scores
    with pytest.raises(BenchInputError, match="same items: got 200 and 199"):
        compare_evals(a, b[:-1])
    with pytest.raises(BenchInputError, match="one label per item"):
        compare_evals(a, b, clusters=clusters[:-1])
    with pytest.raises(BenchInputError, match="at least 2 distinct clusters"):
        compare_evals(a, b, clusters=np.zeros(a.size))
    with pytest.raises(BenchInputError, match="NaN"):
        compare_evals(np.r_[np.nan, a[1:]], b)
    with pytest.raises(BenchInputError, match="1 complete item"):
        compare_evals([1.0], [0.0])
    with pytest.raises(DegenerateDataError, match="identical"):
        compare_evals([1.0, 0.0, 1.0], [0.0, -1.0, 0.0])


def test_eval_sample_size_matches_normal_power():
    r = eval_sample_size(p_a=0.80, p_b=0.75, correlation=0.5)
    sd_a, sd_b = math.sqrt(0.8 * 0.2), math.sqrt(0.75 * 0.25)
    sd_d = math.sqrt(sd_a**2 + sd_b**2 - 2 * 0.5 * sd_a * sd_b)
    # statsmodels 0.15: NormalIndPower().solve_power(effect_size=δ/σ_d, ratio=0) (one-sample z)
    n_ref = NormalIndPower().solve_power(effect_size=0.05 / sd_d, alpha=0.05, power=0.8, ratio=0)
    assert r.n_items == math.ceil(n_ref)
    assert r.n_unpaired > r.n_paired == r.n_items
    cont = eval_sample_size(0.1, sd=0.3, paired=False)
    n_un = NormalIndPower().solve_power(effect_size=0.1 / math.sqrt(2 * 0.09), alpha=0.05, power=0.8, ratio=0)  # fmt: skip
    assert cont.n_items == math.ceil(n_un)
    assert eval_sample_size(0.1, sd=0.3, design_effect=2.0).n_items == math.ceil(2 * n_un)


def test_eval_sample_size_bad_input():
    with pytest.raises(BenchInputError, match="`correlation`"):
        eval_sample_size(0.1, sd=0.3, correlation=1.0)
    with pytest.raises(BenchInputError, match="paired"):
        eval_sample_size(0.1, sd=0.3, correlation=0.3, paired=False)
    with pytest.raises(BenchInputError, match="`sd`"):
        eval_sample_size(0.1)
    with pytest.raises(BenchInputError, match="`delta`"):
        eval_sample_size(0.0, sd=1.0)
    with pytest.raises(BenchInputError, match="both"):
        eval_sample_size(p_a=0.5)
