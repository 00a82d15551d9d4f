from __future__ import annotations

import math

import pingouin as pg
import pytest
from scipy import stats
from statsmodels.stats.power import FTestAnovaPower, NormalIndPower, TTestIndPower, TTestPower

from crucible.bench import BenchInputError, mde, power, sample_size

SM_ALT = {"two-sided": "two-sided", "less": "smaller", "greater": "larger"}


@pytest.mark.parametrize("alternative", ["two-sided", "less", "greater"])
def test_t_power_matches_statsmodels(alternative):
    eff = -0.4 if alternative == "less" else 0.4
    # statsmodels 0.15: TTestIndPower().power(0.4, 40, 0.05, ratio=1.5, alternative=...)
    ref = TTestIndPower().power(eff, 40, 0.05, ratio=1.5, alternative=SM_ALT[alternative])
    got = power("two-sample-t", effect=eff, n=40, ratio=1.5, alternative=alternative)
    assert got.power == pytest.approx(ref, rel=1e-9)
    assert got.n_total == 100
    # statsmodels 0.15: TTestPower().power(0.4, 30, 0.05, alternative=...)
    ref1 = TTestPower().power(eff, 30, 0.05, alternative=SM_ALT[alternative])
    assert power("paired-t", effect=eff, n=30, alternative=alternative).power == pytest.approx(ref1, rel=1e-9)  # fmt: skip


def test_t_power_matches_pingouin():
    # pingouin 0.7: pg.power_ttest(d=0.5, n=20, contrast="one-sample")
    ref = pg.power_ttest(d=0.5, n=20, contrast="one-sample")
    assert power("one-sample-t", effect=0.5, n=20).power == pytest.approx(ref, rel=1e-9)
    # pingouin 0.7: pg.power_ttest(d=0.5, power=0.8) -> n per group (real)
    n_real = pg.power_ttest(d=0.5, power=0.8)
    assert sample_size("two-sample-t", effect=0.5).n == math.ceil(n_real)


def test_two_proportions_matches_statsmodels():
    # statsmodels 0.15: NormalIndPower().power(0.3, 100, 0.05, ratio=2)
    ref = NormalIndPower().power(0.3, 100, 0.05, ratio=2)
    assert power("two-proportions", effect=0.3, n=100, ratio=2).power == pytest.approx(ref, rel=1e-9)  # fmt: skip
    # statsmodels 0.15: NormalIndPower().solve_power(0.3, power=0.9, alpha=0.05)
    n_real = NormalIndPower().solve_power(0.3, power=0.9, alpha=0.05)
    assert sample_size("two-proportions", effect=0.3, power=0.9).n == math.ceil(n_real)


def test_anova_matches_statsmodels_and_pingouin():
    # statsmodels 0.15: FTestAnovaPower().power(0.25, nobs=80, alpha=0.05, k_groups=4)
    ref = FTestAnovaPower().power(0.25, 80, 0.05, k_groups=4)
    assert power("anova", effect=0.25, n=20, k=4).power == pytest.approx(ref, rel=1e-9)
    # pingouin 0.7: pg.power_anova(eta_squared=f²/(1+f²), k=4, n=20)
    f2 = 0.25**2
    assert power("anova", effect=0.25, n=20, k=4).power == pytest.approx(pg.power_anova(eta_squared=f2 / (1 + f2), k=4, n=20), rel=1e-9)  # fmt: skip


def test_mcnemar_connor_formula():
    # Connor (1987): power = Φ((|δ|√n - z_{α/2}√ψ) / √(ψ - δ²)), evaluated with scipy 1.17
    delta, psi, n = 0.1, 0.3, 200
    expected = stats.norm.cdf((delta * math.sqrt(n) - stats.norm.isf(0.025) * math.sqrt(psi)) / math.sqrt(psi - delta**2))  # fmt: skip
    assert power("mcnemar", effect=delta, n=n, discordant=psi).power == pytest.approx(expected, rel=1e-12)  # fmt: skip
    # closed-form sample size of Connor (1987)
    n_closed = (stats.norm.isf(0.025) * math.sqrt(psi) + stats.norm.ppf(0.8) * math.sqrt(psi - delta**2)) ** 2 / delta**2  # fmt: skip
    assert sample_size("mcnemar", effect=delta, discordant=psi).n == math.ceil(n_closed)


@pytest.mark.parametrize("design", ["one-sample-t", "two-sample-t", "two-proportions", "anova"])
def test_sample_size_is_smallest_reaching_power(design):
    res = sample_size(design, effect=0.3, power=0.85, k=3)
    assert res.power >= 0.85
    assert power(design, effect=0.3, n=res.n - 1, k=3).power < 0.85


def test_mde_inverts_power():
    res = mde("two-sample-t", n=64)
    # statsmodels 0.15: TTestIndPower().solve_power(nobs1=64, alpha=0.05, power=0.8)
    assert res.effect == pytest.approx(TTestIndPower().solve_power(None, 64, 0.05, 0.8), rel=1e-6)
    assert power("two-sample-t", effect=res.effect, n=64).power == pytest.approx(0.8, abs=1e-9)
    less = mde("paired-t", n=30, alternative="less")
    assert less.effect < 0
    m = mde("mcnemar", n=400, discordant=0.2)
    assert power("mcnemar", effect=m.effect, n=400, discordant=0.2).power == pytest.approx(0.8, abs=1e-9)  # fmt: skip


def test_power_bad_input():
    with pytest.raises(BenchInputError, match="`design` must be one of 'one-sample-t'"):
        power("z", effect=0.5, n=10)
    with pytest.raises(BenchInputError, match=r"`alpha` must be in \(0, 1\), got 1.5"):
        power("paired-t", effect=0.5, n=10, alpha=1.5)
    with pytest.raises(BenchInputError, match="`n` must be a number >= 2"):
        power("paired-t", effect=0.5, n=1)
    with pytest.raises(BenchInputError, match="`discordant`"):
        power("mcnemar", effect=0.1, n=100)
    with pytest.raises(BenchInputError, match="smaller than `discordant`"):
        power("mcnemar", effect=0.3, n=100, discordant=0.2)
    with pytest.raises(BenchInputError, match="non-zero"):
        sample_size("paired-t", effect=0.0)
    with pytest.raises(BenchInputError, match="points away"):
        sample_size("paired-t", effect=-0.3, alternative="greater")
    with pytest.raises(BenchInputError, match="two-sided"):
        power("anova", effect=0.3, n=10, k=3, alternative="greater")
    with pytest.raises(BenchInputError, match="`k`"):
        power("anova", effect=0.3, n=10, k=1)
    with pytest.raises(BenchInputError, match="`ratio`"):
        power("two-sample-t", effect=0.3, n=10, ratio=0)
