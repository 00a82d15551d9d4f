from __future__ import annotations

import numpy as np
import pandas as pd
import pingouin as pg
import pytest
from scipy import stats

from crucible.bench import (
    BenchInputError,
    DegenerateDataError,
    anova,
    eta_squared,
    omega_squared,
    partial_eta_squared,
    rm_anova,
    welch_anova,
)


def _long(groups: list[np.ndarray]) -> pd.DataFrame:
    return pd.DataFrame(
        {
            "y": np.concatenate(groups),
            "g": np.repeat([f"g{i}" for i in range(len(groups))], [g.size for g in groups]),
        }
    )


def test_anova_matches_scipy_and_pingouin(three_groups):
    r = anova(three_groups)
    # scipy 1.17: stats.f_oneway(*groups)
    ref = stats.f_oneway(*three_groups)
    assert r.statistic == pytest.approx(ref.statistic, rel=1e-10)
    assert r.p_value == pytest.approx(ref.pvalue, rel=1e-9)
    # pingouin 0.7: pg.anova(dv="y", between="g", detailed=False) -> np2 (= eta² one-way)
    pgr = pg.anova(_long(three_groups), dv="y", between="g", detailed=False)
    assert r.estimate == pytest.approx(pgr["np2"].iloc[0], rel=1e-9)
    assert (r.df, r.df_denom) == (2.0, 59.0)


def test_eta_ci_inverts_noncentral_f(three_groups):
    r = anova(three_groups, confidence=0.9)
    n = r.df + r.df_denom + 1
    lam_lo = r.ci_low * n / (1 - r.ci_low)
    lam_hi = r.ci_high * n / (1 - r.ci_high)
    # scipy 1.17: stats.ncf.cdf at the bounds gives the tail probabilities (Steiger 2004)
    assert stats.ncf.cdf(r.statistic, r.df, r.df_denom, lam_lo) == pytest.approx(0.95, abs=1e-7)
    assert stats.ncf.cdf(r.statistic, r.df, r.df_denom, lam_hi) == pytest.approx(0.05, abs=1e-7)


def test_welch_anova_matches_pingouin_and_scipy(three_groups):
    r = welch_anova(three_groups)
    # pingouin 0.7: pg.welch_anova(dv="y", between="g")
    ref = pg.welch_anova(_long(three_groups), dv="y", between="g")
    assert r.statistic == pytest.approx(ref["F"].iloc[0], rel=1e-10)
    assert r.p_value == pytest.approx(ref["p_unc"].iloc[0], rel=1e-9)
    assert r.df_denom == pytest.approx(ref["ddof2"].iloc[0], rel=1e-10)
    # scipy 1.17: stats.f_oneway(*groups, equal_var=False)
    assert r.p_value == pytest.approx(
        stats.f_oneway(*three_groups, equal_var=False).pvalue, rel=1e-9
    )


@pytest.mark.parametrize("correction", [False, True])
def test_rm_anova_matches_pingouin(repeated, correction):
    r = rm_anova(repeated, sphericity_correction=correction)
    n, k = repeated.shape
    df = pd.DataFrame(
        {"y": repeated.ravel(), "s": np.repeat(np.arange(n), k), "c": np.tile(np.arange(k), n)}
    )
    # pingouin 0.7: pg.rm_anova(dv="y", within="c", subject="s", correction=True, effsize="np2")
    ref = pg.rm_anova(df, dv="y", within="c", subject="s", correction=True, effsize="np2")
    assert r.statistic == pytest.approx(ref["F"].iloc[0], rel=1e-10)
    p_col = "p_GG_corr" if correction else "p_unc"
    assert r.p_value == pytest.approx(ref[p_col].iloc[0], rel=1e-9)
    assert r.estimate == pytest.approx(ref["np2"].iloc[0], rel=1e-9)
    if correction:
        assert r.df == pytest.approx(3 * ref["eps"].iloc[0], rel=1e-9)
    assert partial_eta_squared(repeated).value == pytest.approx(ref["np2"].iloc[0], rel=1e-9)


def test_rm_anova_accepts_groups(repeated):
    cols = {f"c{j}": repeated[:, j] for j in range(repeated.shape[1])}
    assert rm_anova(cols).statistic == pytest.approx(rm_anova(repeated).statistic, rel=1e-12)
    with pytest.raises(BenchInputError, match="equal-length"):
        rm_anova([[1.0, 2.0, 3.0], [1.0, 2.0]])


def test_eta_and_omega_squared(three_groups):
    # pingouin 0.7: pg.anova(..., effsize="n2")
    ref = pg.anova(_long(three_groups), dv="y", between="g", effsize="n2", detailed=True)
    assert eta_squared(three_groups).value == pytest.approx(ref["n2"].iloc[0], rel=1e-9)
    ss_b, ss_w = ref["SS"].iloc[0], ref["SS"].iloc[1]
    ms_w = ref["MS"].iloc[1]
    omega = (ss_b - 2 * ms_w) / (ss_b + ss_w + ms_w)  # Olejnik & Algina (2003), from pingouin's SS
    e = omega_squared(three_groups)
    assert e.value == pytest.approx(omega, rel=1e-9)
    assert e.ci_low <= e.ci_high


def test_degenerate_and_bad_groups():
    with pytest.raises(DegenerateDataError, match="constant"):
        anova([[1.0, 1.0], [2.0, 2.0], [3.0, 3.0]])
    with pytest.raises(DegenerateDataError, match="constant"):
        welch_anova([[1.0, 1.0], [2.0, 2.5], [3.0, 3.1]])
    with pytest.raises(BenchInputError, match="at least 2 samples"):
        anova([[1.0, 2.0]])
    with pytest.raises(BenchInputError, match=r"groups\['group2'\]. has 1 observation"):
        anova([[1.0, 2.0], [1.0]])
    with pytest.raises(DegenerateDataError, match="no residual"):
        rm_anova(np.array([[1.0, 2.0], [2.0, 3.0], [5.0, 6.0]]))
