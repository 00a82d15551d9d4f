from __future__ import annotations

import json
import math

import numpy as np
import pytest
from scipy import stats

from crucible.bench import BenchInputError, Comparison, DegenerateDataError, compare

N_BOOT = 500


def test_normal_equal_variance_uses_student(normal_pair):
    rng = np.random.default_rng(1)
    a, b = rng.normal(0, 1, 40), rng.normal(0.6, 1, 45)
    r = compare(a, b, n_boot=N_BOOT, seed=0)
    assert r.test == "Student t-test"
    # scipy 1.17: stats.ttest_ind(a, b, equal_var=True)
    ref = stats.ttest_ind(a, b)
    assert r.p_value == pytest.approx(ref.pvalue, rel=1e-9)
    assert r.df == pytest.approx(ref.df)
    assert r.effect_size.name == "hedges_g"
    assert [c.test for c in r.assumptions] == ["Shapiro-Wilk", "Shapiro-Wilk", "Brown-Forsythe"]
    assert r.assumptions[0].p_value == pytest.approx(stats.shapiro(a).pvalue, rel=1e-12)
    assert "Student t-test" in r.reason and "independent" in r.reason.lower()
    assert r.ci.estimate == pytest.approx(a.mean() - b.mean(), rel=1e-12)
    assert r.ci.method == "bootstrap-bca"
    assert 0 < r.power < 1
    assert r.n == (40, 45) and not r.paired


def test_unequal_variance_uses_welch():
    rng = np.random.default_rng(2)
    a, b = rng.normal(0, 1, 40), rng.normal(0.5, 4, 40)
    r = compare(a, b, n_boot=N_BOOT, seed=0)
    assert r.test == "Welch t-test"
    assert r.p_value == pytest.approx(stats.ttest_ind(a, b, equal_var=False).pvalue, rel=1e-9)
    assert "variances differ" in r.reason


def test_skewed_uses_mann_whitney():
    rng = np.random.default_rng(3)
    a, b = rng.exponential(1, 50), rng.exponential(2, 50)
    r = compare(a, b, n_boot=N_BOOT, seed=0)
    assert r.test == "Mann-Whitney U"
    # scipy 1.17: stats.mannwhitneyu(a, b)
    assert r.p_value == pytest.approx(stats.mannwhitneyu(a, b).pvalue, rel=1e-9)
    assert r.effect_size.name == "rank_biserial"
    assert "normality rejected" in r.reason


def test_paired_normal_and_not(paired_pair):
    a, b = paired_pair
    r = compare(a, b, paired=True, n_boot=N_BOOT, seed=0)
    assert r.test == "paired t-test" and r.effect_size.name == "d_z"
    assert r.p_value == pytest.approx(stats.ttest_rel(a, b).pvalue, rel=1e-9)
    rng = np.random.default_rng(4)
    x = rng.exponential(1, 40)
    y = x - rng.exponential(0.5, 40) ** 2
    r2 = compare(x, y, paired=True, n_boot=N_BOOT, seed=0)
    assert r2.test == "Wilcoxon signed-rank"
    assert r2.p_value == pytest.approx(stats.wilcoxon(x, y).pvalue, rel=1e-9)


def test_paired_none_means_independent_never_guessed(paired_pair):
    a, b = paired_pair
    r = compare(a, b, n_boot=N_BOOT, seed=0)
    assert not r.paired and r.test in ("Student t-test", "Welch t-test")


def test_binary_paths():
    rng = np.random.default_rng(5)
    a = (rng.random(120) < 0.7).astype(int)
    b = (rng.random(120) < 0.5).astype(int)
    r = compare(a, b, n_boot=N_BOOT, seed=0)
    assert r.kind == "binary" and r.test == "chi-squared test"
    table = [[a.sum(), 120 - a.sum()], [b.sum(), 120 - b.sum()]]
    # scipy 1.17: stats.chi2_contingency(table, correction=False)
    assert r.p_value == pytest.approx(
        stats.chi2_contingency(table, correction=False).pvalue, rel=1e-9
    )
    assert r.effect_size.name == "cohen_h"
    small = compare([1, 1, 1, 0, 1], [0, 0, 1, 0, 0], n_boot=N_BOOT, seed=0)
    assert small.test == "Fisher exact test"
    paired = compare(a, b, paired=True, n_boot=N_BOOT, seed=0)
    assert paired.test == "McNemar" and paired.effect_size.name == "odds_ratio"
    n01 = int(((a == 0) & (b == 1)).sum())
    n10 = int(((a == 1) & (b == 0)).sum())
    assert paired.effect_size.value == pytest.approx(n10 / n01)
    one = compare(a, n_boot=N_BOOT, seed=0)
    # scipy 1.17: stats.binomtest(successes, n, 0.5)
    assert one.p_value == pytest.approx(stats.binomtest(int(a.sum()), 120, 0.5).pvalue, rel=1e-9)


def test_ordinal_uses_rank_tests():
    rng = np.random.default_rng(6)
    a, b = rng.integers(1, 6, 50), rng.integers(2, 6, 50)
    r = compare(a, b, n_boot=N_BOOT, seed=0)
    assert r.kind == "ordinal" and r.test == "Mann-Whitney U" and r.assumptions == ()
    forced = compare(a, b, kind="continuous", n_boot=N_BOOT, seed=0)
    assert forced.kind == "continuous" and len(forced.assumptions) >= 2


def test_one_sample_against_mu(normal_pair):
    a, _ = normal_pair
    r = compare(a, mu=9.0, n_boot=N_BOOT, seed=0)
    assert r.test == "one-sample t-test"
    assert r.p_value == pytest.approx(stats.ttest_1samp(a, 9.0).pvalue, rel=1e-9)
    assert r.ci.estimate == pytest.approx(a.mean() - 9.0)


def test_result_schema_is_fixed_and_serialisable(normal_pair):
    a, b = normal_pair
    r1 = compare(a, b, n_boot=N_BOOT, seed=0)
    r2 = compare([1, 0, 1, 1, 0, 1], [0, 0, 1, 0, 0, 0], n_boot=N_BOOT, seed=0)
    d1, d2 = r1.to_dict(), r2.to_dict()
    assert d1.keys() == d2.keys()
    assert d1["effect_size"].keys() == d2["effect_size"].keys()
    json.dumps(d1)
    text = str(r1)
    assert r1.test in text and "why this test" in text
    assert isinstance(r1, Comparison)


def test_alternative_passes_through(normal_pair):
    a, b = normal_pair
    r = compare(a, b, alternative="less", n_boot=N_BOOT, seed=0)
    ref = stats.ttest_ind(a, b, equal_var=r.test == "Student t-test", alternative="less")
    assert r.p_value == pytest.approx(ref.pvalue, rel=1e-9)


def test_seeded_bootstrap_is_reproducible(normal_pair):
    a, b = normal_pair
    assert compare(a, b, n_boot=N_BOOT, seed=3).ci == compare(a, b, n_boot=N_BOOT, seed=3).ci


def test_bad_input():
    with pytest.raises(BenchInputError, match="equal length, got 3 and 2"):
        compare([1.0, 2.0, 3.0], [1.0, 2.0], paired=True)
    with pytest.raises(BenchInputError, match="`paired=True` needs a second sample"):
        compare([1.0, 2.0], paired=True)
    with pytest.raises(BenchInputError, match="`a` has 1 observation"):
        compare([1.0], [1.0, 2.0])
    with pytest.raises(BenchInputError, match="`b` is empty"):
        compare([1.0, 2.0], [])
    with pytest.raises(BenchInputError, match="NaN"):
        compare([1.0, np.nan, 3.0], [1.0, 2.0, 3.0])
    with pytest.raises(BenchInputError, match=r"`alpha` must be in \(0, 1\), got 1.5"):
        compare([1.0, 2.0], [3.0, 4.0], alpha=1.5)
    with pytest.raises(BenchInputError, match="`kind` must be one of"):
        compare([1.0, 2.0], [3.0, 4.0], kind="nominal")
    with pytest.raises(BenchInputError, match="binary"):
        compare([1.0, 2.0], [3.0, 4.0], kind="binary")
    with pytest.raises(DegenerateDataError):
        compare([2.0, 2.0, 2.0], [2.0, 2.0, 2.0], kind="continuous")


def test_nan_omit(normal_pair):
    a, b = normal_pair
    r = compare(np.r_[a, np.nan], b, nan_policy="omit", n_boot=N_BOOT, seed=0)
    assert r.n == (a.size, b.size)


def test_degenerate_mcnemar_is_flagged():
    a = [1, 0, 1, 1, 0, 1]
    r = compare(a, a, paired=True, n_boot=N_BOOT, seed=0)
    assert r.degenerate and r.p_value == 1.0 and "discordant" in r.note
    assert math.isnan(r.ci.ci_low)


def test_two_sided_only_tests_refuse_one_sided_alternatives():
    rng = np.random.default_rng(9)
    a = (rng.random(200) < 0.6).astype(int)
    b = (rng.random(200) < 0.5).astype(int)
    with pytest.raises(BenchInputError, match="McNemar's test is two-sided"):
        compare(a, b, paired=True, alternative="greater", n_boot=N_BOOT, seed=0)
    with pytest.raises(BenchInputError, match="two-sided"):
        compare(a, b, alternative="greater", n_boot=N_BOOT, seed=0)
    small = compare([1, 1, 1, 0, 1], [0, 0, 1, 0, 0], alternative="greater", n_boot=N_BOOT, seed=0)
    # scipy 1.17: stats.fisher_exact([[4, 1], [1, 4]], alternative="greater")
    assert small.p_value == pytest.approx(
        stats.fisher_exact([[4, 1], [1, 4]], alternative="greater").pvalue, rel=1e-9
    )
