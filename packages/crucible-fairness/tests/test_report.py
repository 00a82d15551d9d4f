from __future__ import annotations

import json
import warnings

import numpy as np
import polars as pl
import pytest
from fairlearn.metrics import demographic_parity_difference

from crucible.fairness import (
    FairnessError,
    SmallGroupWarning,
    fairness_report,
    permutation_test,
)


@pytest.fixture
def report(data):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", SmallGroupWarning)
        return fairness_report(
            data["y_true"], data["y_pred"], pl.DataFrame({"race": data["race"], "sex": data["sex"]}),
            y_prob=data["y_prob"], n_boot=200, seed=1,
        )  # fmt: skip


def test_report_has_every_criterion_and_matches_fairlearn(report, data):
    assert list(report.disparities) == [
        "demographic_parity", "equalized_odds", "equal_opportunity", "predictive_parity",
        "calibration", "disparate_impact",
    ]  # fmt: skip
    ref = demographic_parity_difference(
        data["y_true"], data["y_pred"], sensitive_features=np.c_[data["race"], data["sex"]]
    )
    assert report.disparities["demographic_parity"].difference == pytest.approx(ref, abs=1e-9)
    assert report.passed == all(d.passes for d in report.disparities.values())
    assert set(report.by_group["attribute"].unique()) == {"race × sex", "race", "sex"}


def test_renderings(report):
    md = report.to_markdown()
    assert md.startswith("# Fairness report")
    dp = report.disparities["demographic_parity"]
    assert f"{dp.difference:.4f}" in md and f"[{dp.ci[0]:.4f}, {dp.ci[1]:.4f}]" in md
    page = report.to_html()
    assert page.count("<svg") == 1 and page.count("<circle") == 5  # all but disparate impact
    assert "<script src" not in page and "<link" not in page
    data = json.loads(json.dumps(report.to_dict()))
    assert data["disparities"]["equalized_odds"]["aggregation"] == "worst_case"
    assert len(data["by_group"]) == 6 + 3 + 2


def test_report_is_reproducible(data):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", SmallGroupWarning)
        a = fairness_report(data["y_true"], data["y_pred"], data["race"], n_boot=100, seed=9)
        b = fairness_report(data["y_true"], data["y_pred"], data["race"], n_boot=100, seed=9)
    assert a.to_dict() == b.to_dict()
    assert "calibration" not in a.disparities


def test_unknown_or_no_criterion():
    with pytest.raises(FairnessError, match="unknown criterion 'parity'"):
        fairness_report([0, 1], [0, 1], ["a", "b"], criteria=["parity"])
    with pytest.raises(FairnessError, match="`criteria` is empty"):
        fairness_report([0, 1], [0, 1], ["a", "b"], criteria=[])


def test_permutation_test_any_metric(data):
    def accuracy(t, p):
        return float(np.mean(t == p))

    stat, p = permutation_test(
        accuracy, data["y_true"], data["y_pred"], data["race"], n_permutations=200
    )
    accs = [
        accuracy(data["y_true"][data["race"] == g], data["y_pred"][data["race"] == g])
        for g in "abc"
    ]
    assert stat == pytest.approx(max(accs) - min(accs))
    assert 1 / 201 <= p <= 1
    same = np.tile([0, 1], 100)
    _, p_null = permutation_test(accuracy, same, same, ["a"] * 100 + ["b"] * 100, n_permutations=50)
    assert p_null == 1.0
