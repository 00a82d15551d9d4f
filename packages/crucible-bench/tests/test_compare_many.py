from __future__ import annotations

from itertools import combinations

import numpy as np
import pandas as pd
import pingouin as pg
import pytest
from scipy import stats
from statsmodels.stats.multitest import multipletests

from crucible.bench import BenchInputError, compare_many


def test_normal_equal_variances_anova_tukey():
    rng = np.random.default_rng(0)
    groups = [rng.normal(m, 1, 30) for m in (0.0, 0.3, 0.9)]
    r = compare_many(groups)
    assert (r.omnibus.test, r.posthoc.test) == ("one-way ANOVA", "Tukey HSD")
    assert r.omnibus.p_value == pytest.approx(stats.f_oneway(*groups).pvalue, rel=1e-9)
    assert r.posthoc.comparisons[1].p_value == pytest.approx(stats.tukey_hsd(*groups).pvalue[0, 2], rel=1e-9)  # fmt: skip
    assert r.effect_size.name == "eta_squared"


def test_unequal_variances_welch_games_howell():
    rng = np.random.default_rng(2)
    groups = {"a": rng.normal(0, 1, 30), "b": rng.normal(0, 5, 30), "c": rng.normal(1, 1, 30)}
    r = compare_many(groups)
    assert (r.omnibus.test, r.posthoc.test) == ("Welch ANOVA", "Games-Howell")
    assert r.groups == ("a", "b", "c")
    assert r.posthoc.comparisons[0].group_a == "a"


def test_skewed_kruskal_with_holm_corrected_mann_whitney():
    rng = np.random.default_rng(3)
    groups = [rng.exponential(s, 40) for s in (1.0, 1.5, 3.0)]
    r = compare_many(groups, correction="holm")
    assert r.omnibus.test == "Kruskal-Wallis H"
    assert r.omnibus.p_value == pytest.approx(stats.kruskal(*groups).pvalue, rel=1e-9)
    raw = [stats.mannwhitneyu(groups[i], groups[j]).pvalue for i, j in combinations(range(3), 2)]
    # statsmodels 0.15: multipletests(raw, method="holm")
    expected = multipletests(raw, method="holm")[1]
    got = [c.p_adjusted for c in r.posthoc.comparisons]
    np.testing.assert_allclose(got, expected, rtol=1e-9)
    assert r.posthoc.correction == "holm"


def test_repeated_measures_paths(repeated):
    r = compare_many(list(repeated.T), paired=True)
    assert r.omnibus.test == "repeated-measures ANOVA" and r.omnibus.method == "greenhouse-geisser"
    # pingouin 0.7: pg.sphericity(pd.DataFrame(repeated)) -> Mauchly's W and p-value
    mauchly = pg.sphericity(pd.DataFrame(repeated))
    check = r.assumptions[1]
    assert check.test == "Mauchly"
    assert check.statistic == pytest.approx(mauchly.W, rel=1e-12)
    assert check.p_value == pytest.approx(mauchly.pval, rel=1e-12)
    d = repeated[:, 0] - repeated[:, 1]
    raw = stats.ttest_rel(repeated[:, 0], repeated[:, 1]).pvalue
    assert r.posthoc.comparisons[0].p_value == pytest.approx(raw, rel=1e-9)
    assert r.posthoc.comparisons[0].estimate == pytest.approx(d.mean(), rel=1e-12)
    ordinal = np.random.default_rng(4).integers(1, 6, (30, 3))
    r2 = compare_many(list(ordinal.T), paired=True)
    assert r2.omnibus.test == "Friedman"
    assert r2.omnibus.p_value == pytest.approx(stats.friedmanchisquare(*ordinal.T).pvalue, rel=1e-9)  # fmt: skip


def test_binary_paths():
    rng = np.random.default_rng(5)
    data = (rng.random((80, 3)) < np.array([0.4, 0.5, 0.8])).astype(int)
    r = compare_many(list(data.T), paired=True, correction="bonferroni")
    assert r.omnibus.test == "Cochran Q" and r.posthoc.test == "McNemar"
    raw = [c.p_value for c in r.posthoc.comparisons]
    assert [c.p_adjusted for c in r.posthoc.comparisons] == pytest.approx(np.minimum(np.array(raw) * 3, 1))  # fmt: skip
    r2 = compare_many(list(data.T))
    assert r2.omnibus.test == "chi-squared test" and r2.effect_size.name == "cramers_v"


def test_bad_input():
    with pytest.raises(BenchInputError, match="at least 3 groups"):
        compare_many([[1.0, 2.0], [3.0, 4.0]])
    with pytest.raises(BenchInputError, match="equal lengths"):
        compare_many([[1.0, 2.0], [3.0, 4.0], [1.0]], paired=True)
    with pytest.raises(BenchInputError, match="`correction` must be one of"):
        compare_many([[1.0, 2.0], [3.0, 4.0], [1.0, 5.0]], correction="tukey")
    with pytest.raises(BenchInputError, match="NaN"):
        compare_many([[1.0, np.nan], [3.0, 4.0], [1.0, 5.0]], paired=True)
    r = compare_many([[1.0, np.nan, 2.0, 3.0], [3.0, 4.0, 5.0, 3.5], [1.0, 5.0, 2.0, 2.5]], paired=True, nan_policy="omit")  # fmt: skip
    assert r.n == (3, 3, 3)
