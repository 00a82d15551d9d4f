"""A/B/n design and analysis, checked against statsmodels and scipy."""

from __future__ import annotations

import math

import numpy as np
import polars as pl
import pytest
from scipy import stats
from statsmodels.stats.power import FTestAnovaPower, NormalIndPower, TTestIndPower

from crucible.production_eval import (
    ProductionEvalError,
    analyze_experiment,
    design_experiment,
    peeking_simulation,
    relative_uplift,
    sequential_ab,
)


def test_design_matches_statsmodels() -> None:
    h = 2 * math.asin(math.sqrt(0.12)) - 2 * math.asin(math.sqrt(0.10))
    # statsmodels 0.14: NormalIndPower().solve_power(h, alpha=0.05, power=0.8) = 3834.6
    assert design_experiment(2, "proportion", 0.02, baseline=0.10).n_per_variant == math.ceil(
        NormalIndPower().solve_power(h, alpha=0.05, power=0.8)
    )
    assert design_experiment(2, "mean", 0.5, sd=1.0).n_per_variant == math.ceil(
        TTestIndPower().solve_power(0.5, alpha=0.05, power=0.8)
    )
    f = 1.0 * math.sqrt(2) / (3 * 5.0)
    total = FTestAnovaPower().solve_power(effect_size=f, alpha=0.05, power=0.8, k_groups=3)
    assert design_experiment(3, "mean", 1.0, sd=5.0).n_per_variant == math.ceil(total / 3)
    # Relative MDE of 20 % on a 10 % rate is the same as +0.02.
    assert (
        design_experiment(2, "proportion", 0.2, baseline=0.1, relative=True).n_per_variant == 3835
    )


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"variants": 1, "metric": "mean", "mde": 1.0, "sd": 1.0}, "`variants`"),
        ({"variants": 2, "metric": "proportion", "mde": 0.1}, "`baseline`"),
        ({"variants": 2, "metric": "mean", "mde": 0.0, "sd": 1.0}, "`mde`"),
        ({"variants": 2, "metric": "median", "mde": 1.0}, "`metric`"),
    ],
)
def test_design_bad_input(kwargs: dict, match: str) -> None:
    with pytest.raises(ProductionEvalError, match=match):
        design_experiment(**kwargs)


def _frame(seed: int = 0, n: int = 3000) -> pl.DataFrame:
    rng = np.random.default_rng(seed)
    v = rng.choice(["A", "B", "C"], n)
    pre = rng.normal(10, 3, n)
    return pl.DataFrame(
        {
            "variant": v,
            "pre": pre,
            "revenue": pre + rng.normal(0, 1, n) + np.where(v == "C", 0.3, 0.0),
            "converted": (rng.random(n) < np.where(v == "B", 0.15, 0.10)).astype(float),
            "latency": rng.normal(100, 10, n) + np.where(v == "B", 5.0, 0.0),
        }
    )


def test_pairwise_numbers_match_scipy_and_holm() -> None:
    df = _frame()
    res = analyze_experiment(df, "variant", ["revenue"], alpha=0.05)
    row = res.pairwise.filter(pl.col("variant") == "C").row(0, named=True)
    a = df.filter(pl.col("variant") == "A")["revenue"].to_numpy()
    c = df.filter(pl.col("variant") == "C")["revenue"].to_numpy()
    assert row["p_value"] == pytest.approx(stats.ttest_ind(c, a, equal_var=False).pvalue)
    assert row["difference"] == pytest.approx(c.mean() - a.mean())
    up, lo, hi = relative_uplift(c, a)
    assert (row["uplift"], row["uplift_ci_low"], row["uplift_ci_high"]) == pytest.approx(
        (up, lo, hi)
    )
    ps = res.pairwise["p_value"].to_numpy()
    assert res.pairwise["p_adjusted"].max() == pytest.approx(max(ps.max(), min(1, 2 * ps.min())))
    omni = res.omnibus.row(0, named=True)
    assert omni["test"].lower().startswith("welch")


def test_cuped_shrinks_the_interval_and_finds_the_winner() -> None:
    df = _frame()
    plain = analyze_experiment(df, "variant", ["revenue"])
    cuped = analyze_experiment(df, "variant", ["revenue"], covariate="pre")
    width = lambda r: r["ci_high"] - r["ci_low"]  # noqa: E731
    p_row = plain.pairwise.filter(pl.col("variant") == "C").row(0, named=True)
    c_row = cuped.pairwise.filter(pl.col("variant") == "C").row(0, named=True)
    # Var(y - θx) = Var(y)(1 - ρ²): ρ² = 9/10 here, so the CI is about √10 times narrower.
    assert width(p_row) / width(c_row) == pytest.approx(math.sqrt(10), rel=0.15)
    assert plain.winner is None
    assert cuped.winner == "C"


def test_guardrail_blocks_a_winner() -> None:
    df = _frame(n=6000)
    res = analyze_experiment(
        df, "variant", ["converted"], guardrails={"latency": "higher_is_worse"}
    )
    g = {r["variant"]: r["passed"] for r in res.guardrails.iter_rows(named=True)}
    assert g == {"B": False, "C": True}
    assert res.winner is None
    assert "guardrail" in res.reason


def test_srm_is_detected_and_blocks_the_winner() -> None:
    df = _frame()
    skewed = pl.concat([df, df.filter(pl.col("variant") == "C").head(300)])
    res = analyze_experiment(skewed, "variant", ["revenue"], covariate="pre")
    counts = np.array([res.counts[k] for k in ("A", "B", "C")], dtype=float)
    assert res.srm_p_value == pytest.approx(stats.chisquare(counts).pvalue)
    assert res.srm and res.winner is None and "sample-ratio" in res.reason


def test_zero_traffic_variant_and_missing_columns() -> None:
    df = _frame()
    with pytest.raises(ProductionEvalError, match="variant 'D' has zero traffic"):
        analyze_experiment(df, "variant", ["revenue"], expected_split={"A": 1, "B": 1, "D": 1})
    with pytest.raises(ProductionEvalError, match="column 'sales'"):
        analyze_experiment(df, "variant", ["sales"])
    with pytest.raises(ProductionEvalError, match="need >= 2"):
        analyze_experiment(df.filter(pl.col("variant") == "A"), "variant", ["revenue"])


def test_bayesian_summary_is_labelled() -> None:
    res = analyze_experiment(_frame(), "variant", ["converted"], bayesian=True)
    row = res.bayesian.filter(pl.col("variant") == "B").row(0, named=True)
    assert row["model"].startswith("Bayesian (Beta(1, 1) prior")
    assert 0.9 < row["prob_beat_control"] <= 1.0
    assert row["expected_loss"] >= 0


def test_peeking_fpr_sequential_below_alpha_naive_above() -> None:
    sim = peeking_simulation(n_sims=150, n=600, peek_every=10, alpha=0.05, seed=4)
    assert sim.fpr_sequential <= 0.05
    assert sim.fpr_naive > 0.15
    assert "naive repeated t-test" in str(sim)


def test_sequential_ab_detects_a_real_difference() -> None:
    rng = np.random.default_rng(1)
    res = sequential_ab(rng.random(3000) < 0.10, rng.random(3000) < 0.15, alpha=0.05)
    assert res.reject and 0 < res.stopped_at < 3000
    assert res.ci_low > 0
    mean = sequential_ab(rng.normal(0, 1, 500), rng.normal(0.5, 1, 500), kind="mean")
    assert mean.reject and mean.ci_low > 0
