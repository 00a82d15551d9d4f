from __future__ import annotations

import numpy as np
import pandas as pd
import pingouin as pg
import pytest
from scipy import stats
from statsmodels.stats import contingency_tables as ct
from statsmodels.stats.proportion import proportions_ztest as sm_ztest

from crucible.bench import (
    BenchInputError,
    DegenerateDataError,
    chi2_contingency,
    cochran_q,
    fisher_exact,
    mcnemar,
    proportions_ztest,
)

TABLE = np.array([[23, 7], [11, 19]])
PAIRED = np.array([[30, 9], [21, 40]])


@pytest.mark.parametrize("correction", [True, False])
def test_chi2_matches_scipy(correction):
    r = chi2_contingency(TABLE, correction=correction)
    # scipy 1.17: stats.chi2_contingency(table, correction=...)
    ref = stats.chi2_contingency(TABLE, correction=correction)
    assert r.statistic == pytest.approx(ref.statistic, rel=1e-12)
    assert r.p_value == pytest.approx(ref.pvalue, rel=1e-9)
    assert r.df == 1
    # scipy 1.17: stats.contingency.association(table, method="cramer")
    assert r.estimate == pytest.approx(stats.contingency.association(TABLE, method="cramer"), rel=1e-9)  # fmt: skip


def test_chi2_rxc():
    t = np.array([[10, 20, 30], [20, 15, 5]])
    r = chi2_contingency(t)
    assert r.p_value == pytest.approx(stats.chi2_contingency(t).pvalue, rel=1e-9)
    assert r.df == 2


@pytest.mark.parametrize("alternative", ["two-sided", "less", "greater"])
def test_fisher_matches_scipy(alternative):
    r = fisher_exact(TABLE, alternative=alternative)
    # scipy 1.17: stats.fisher_exact(table, alternative=...)
    ref = stats.fisher_exact(TABLE, alternative=alternative)
    assert r.statistic == pytest.approx(ref.statistic, rel=1e-12)
    assert r.p_value == pytest.approx(ref.pvalue, rel=1e-9)
    # scipy 1.17: stats.contingency.odds_ratio(table, kind="conditional")
    odds = stats.contingency.odds_ratio(TABLE, kind="conditional")
    ci = odds.confidence_interval(0.95, alternative=alternative)
    assert r.estimate == pytest.approx(odds.statistic, rel=1e-9)
    assert (r.ci_low, r.ci_high) == pytest.approx((ci.low, ci.high), rel=1e-9)


def test_fisher_empty_margin_is_degenerate():
    r = fisher_exact([[0, 0], [3, 4]])
    assert r.degenerate and r.p_value == 1.0 and "empty row" in r.note


def test_mcnemar_matches_statsmodels():
    # statsmodels 0.15: mcnemar(table, exact=True)
    ref = ct.mcnemar(PAIRED, exact=True)
    r = mcnemar(PAIRED, method="exact")
    assert r.statistic == ref.statistic
    assert r.p_value == pytest.approx(ref.pvalue, rel=1e-9)
    for correction in (True, False):
        # statsmodels 0.15: mcnemar(table, exact=False, correction=...)
        ref = ct.mcnemar(PAIRED, exact=False, correction=correction)
        r = mcnemar(PAIRED, method="asymptotic", correction=correction)
        assert r.statistic == pytest.approx(ref.statistic, rel=1e-12)
        assert r.p_value == pytest.approx(ref.pvalue, rel=1e-9)


def test_mcnemar_mid_p():
    r = mcnemar(PAIRED, method="mid-p")
    # Fagerland et al. (2013): 2·P(X <= 9) - P(X = 9), X ~ Binomial(30, 0.5), via scipy 1.17
    expected = 2 * stats.binom.cdf(9, 30, 0.5) - stats.binom.pmf(9, 30, 0.5)
    assert r.p_value == pytest.approx(expected, rel=1e-12)
    assert r.p_value < mcnemar(PAIRED).p_value


def test_mcnemar_from_vectors_equals_table():
    a = np.repeat([0, 0, 1, 1], PAIRED.ravel())
    b = np.repeat([0, 1, 0, 1], PAIRED.ravel())
    r = mcnemar(a, b)
    assert r.p_value == mcnemar(PAIRED).p_value
    assert r.estimate == pytest.approx((21 - 9) / 100)


def test_mcnemar_no_discordant_is_degenerate():
    r = mcnemar([[10, 0], [0, 5]])
    assert r.degenerate and r.p_value == 1.0


def test_cochran_q_matches_statsmodels_and_pingouin():
    rng = np.random.default_rng(3)
    data = (rng.random((40, 4)) < np.array([0.3, 0.4, 0.5, 0.7])).astype(float)
    r = cochran_q(data)
    # statsmodels 0.15: contingency_tables.cochrans_q(data)
    ref = ct.cochrans_q(data)
    assert r.statistic == pytest.approx(ref.statistic, rel=1e-12)
    assert r.p_value == pytest.approx(ref.pvalue, rel=1e-9)
    df = pd.DataFrame(
        {"y": data.ravel(), "s": np.repeat(np.arange(40), 4), "c": np.tile(np.arange(4), 40)}
    )
    # pingouin 0.7: pg.cochran(dv="y", within="c", subject="s")
    assert r.statistic == pytest.approx(pg.cochran(df, dv="y", within="c", subject="s")["Q"].iloc[0], rel=1e-12)  # fmt: skip


def test_cochran_q_two_conditions_equals_uncorrected_mcnemar():
    a = np.repeat([0, 0, 1, 1], PAIRED.ravel())
    b = np.repeat([0, 1, 0, 1], PAIRED.ravel())
    q = cochran_q(np.column_stack([a, b]))
    assert q.statistic == pytest.approx(mcnemar(PAIRED, method="asymptotic", correction=False).statistic, rel=1e-12)  # fmt: skip


def test_cochran_q_degenerate_and_bad():
    assert cochran_q(np.ones((5, 3))).degenerate
    with pytest.raises(BenchInputError, match="binary"):
        cochran_q([[1, 2, 0], [0, 1, 1]])


@pytest.mark.parametrize("alternative", ["two-sided", "less", "greater"])
def test_proportions_ztest_matches_statsmodels(alternative):
    sm_alt = {"two-sided": "two-sided", "less": "smaller", "greater": "larger"}[alternative]
    r = proportions_ztest([45, 30], [100, 90], alternative=alternative)
    # statsmodels 0.15: proportions_ztest([45, 30], [100, 90], alternative=...)
    z, p = sm_ztest([45, 30], [100, 90], alternative=sm_alt)
    assert r.statistic == pytest.approx(z, rel=1e-12)
    assert r.p_value == pytest.approx(p, rel=1e-9)
    r1 = proportions_ztest(45, 100, value=0.4, alternative=alternative)
    # statsmodels 0.15: proportions_ztest(45, 100, value=0.4, prop_var=0.4) (score test)
    z1, p1 = sm_ztest(45, 100, value=0.4, alternative=sm_alt, prop_var=0.4)
    assert r1.statistic == pytest.approx(z1, rel=1e-12)
    assert r1.p_value == pytest.approx(p1, rel=1e-9)


def test_counts_validation():
    with pytest.raises(BenchInputError, match="negative counts"):
        chi2_contingency([[1, -2], [3, 4]])
    with pytest.raises(BenchInputError, match="whole-number"):
        fisher_exact([[1.5, 2], [3, 4]])
    with pytest.raises(BenchInputError, match="2×2"):
        fisher_exact([[1, 2, 3], [3, 4, 5]])
    with pytest.raises(DegenerateDataError, match="empty row"):
        chi2_contingency([[0, 0], [3, 4]])
    with pytest.raises(BenchInputError, match="`value`"):
        proportions_ztest(3, 10)
    with pytest.raises(BenchInputError, match="successes"):
        proportions_ztest([11, 3], [10, 10])
    assert proportions_ztest([0, 0], [10, 10]).degenerate
    with pytest.raises(BenchInputError, match="binary"):
        mcnemar([0, 1, 2], [1, 1, 0])
