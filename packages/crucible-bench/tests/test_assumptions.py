from __future__ import annotations

import numpy as np
import pytest
from scipy import stats

from crucible.bench import BenchInputError, DegenerateDataError, levene, shapiro
from crucible.bench._assumptions import check_normality


def test_shapiro_matches_scipy(normal_pair):
    a, _ = normal_pair
    r = shapiro(a)
    # scipy 1.17: stats.shapiro(a)
    ref = stats.shapiro(a)
    assert r.statistic == pytest.approx(ref.statistic, rel=1e-12)
    assert r.p_value == pytest.approx(ref.pvalue, rel=1e-9)


@pytest.mark.parametrize("center", ["median", "mean", "trimmed"])
def test_levene_matches_scipy(three_groups, center):
    r = levene(three_groups, center=center)
    # scipy 1.17: stats.levene(*groups, center=...)
    ref = stats.levene(*three_groups, center=center)
    assert r.statistic == pytest.approx(ref.statistic, rel=1e-12)
    assert r.p_value == pytest.approx(ref.pvalue, rel=1e-9)


def test_normality_switches_to_dagostino_above_5000():
    x = np.random.default_rng(0).normal(size=6000)
    check = check_normality(x, "x", 0.05)
    # scipy 1.17: stats.normaltest(x)
    assert check.test == "D'Agostino-Pearson"
    assert check.p_value == pytest.approx(stats.normaltest(x).pvalue, rel=1e-9)
    small = check_normality(np.array([1.0, 2.0]), "x", 0.05)
    assert not small.passed and "too small" in small.verdict


def test_assumption_bad_input():
    with pytest.raises(BenchInputError, match="at least 3"):
        shapiro([1.0, 2.0])
    with pytest.raises(DegenerateDataError):
        shapiro([1.0, 1.0, 1.0])
    with pytest.raises(BenchInputError, match="`center`"):
        levene([[1.0, 2.0], [3.0, 5.0]], center="mode")
