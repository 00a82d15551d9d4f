from __future__ import annotations

import numpy as np
import pytest

from crucible.fairness import conflict_analysis, pareto_frontier


def test_chouldechova_identity_and_numbers(data):
    c = conflict_analysis(data["y_true"], data["y_pred"], data["race"], y_prob=data["y_prob"])
    t = c.table
    # the identity FPR = p/(1-p) (1-PPV)/PPV (1-FNR) holds exactly per group
    p, ppv, fnr = (t[k].to_numpy() for k in ("base_rate", "ppv", "fnr"))
    np.testing.assert_allclose(
        t["fpr"].to_numpy(), p / (1 - p) * (1 - ppv) / ppv * (1 - fnr), rtol=1e-12
    )
    assert c.base_rate_gap == pytest.approx(t["base_rate"].max() - t["base_rate"].min())
    assert len(c.statements) == 4
    assert "Chouldechova" in c.statements[1] and f"{t['implied_fpr'].max():.4f}" in c.statements[1]
    assert "Kleinberg" in c.statements[3]


def test_no_conflict_with_equal_base_rates():
    y = [1, 0] * 50
    c = conflict_analysis(y, [1, 1, 0, 0] * 25, ["a"] * 50 + ["b"] * 50)
    assert c.base_rate_gap == 0.0
    assert c.statements[0].startswith("No impossibility applies")


def test_pareto_frontier_is_monotone_and_contains_unconstrained_optimum(data):
    y, s, race = data["y_true"], data["y_prob"], data["race"]
    front = pareto_frontier(y, s, race, n_thresholds=11)
    acc, disp = front["accuracy"].to_numpy(), front["disparity"].to_numpy()
    assert np.all(np.diff(disp) >= 0) and np.all(np.diff(acc) > 0)
    # brute force over the same candidate thresholds: the best accuracy is on the frontier
    cands = {
        g: np.r_[np.unique(np.quantile(s[race == g], np.linspace(0, 1, 11))), np.inf] for g in "abc"
    }
    best = max(
        np.mean(np.where(race == "a", s >= ta, np.where(race == "b", s >= tb, s >= tc)) == y)
        for ta in cands["a"] for tb in cands["b"] for tc in cands["c"]
    )  # fmt: skip
    assert acc.max() == pytest.approx(best, abs=1e-12)
    eo = pareto_frontier(y, s, race, criterion="equalized_odds", n_thresholds=6)
    assert set(eo.columns) == {
        "accuracy",
        "disparity",
        "threshold[a]",
        "threshold[b]",
        "threshold[c]",
    }
