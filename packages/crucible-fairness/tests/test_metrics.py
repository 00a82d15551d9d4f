from __future__ import annotations

import numpy as np
import pandas as pd
import polars as pl
import pytest
from fairlearn.metrics import (
    MetricFrame,
    count,
    false_negative_rate,
    false_positive_rate,
    selection_rate,
    true_negative_rate,
    true_positive_rate,
)
from sklearn.metrics import accuracy_score, precision_score

from crucible.fairness import FairnessError, group_metrics

FAIRLEARN = {
    "count": count,
    "selection_rate": selection_rate,
    "tpr": true_positive_rate,
    "fpr": false_positive_rate,
    "fnr": false_negative_rate,
    "tnr": true_negative_rate,
    "ppv": precision_score,
    "accuracy": accuracy_score,
}


def test_intersections_match_fairlearn_metricframe(data):
    sens = pd.DataFrame({"race": data["race"], "sex": data["sex"]})
    # fairlearn 0.15: MetricFrame(metrics=FAIRLEARN, y_true, y_pred, sensitive_features=DataFrame)
    mf = MetricFrame(
        metrics=FAIRLEARN, y_true=data["y_true"], y_pred=data["y_pred"], sensitive_features=sens
    )
    ours = group_metrics(data["y_true"], data["y_pred"], sens)
    assert ours["group"].to_list() == [f"{r}|{s}" for r, s in mf.by_group.index]
    for col in FAIRLEARN:
        np.testing.assert_allclose(ours[col].to_numpy(), mf.by_group[col].to_numpy(), atol=1e-9)


def test_single_column_marginals_match_fairlearn(data):
    sens = pl.DataFrame({"race": data["race"], "sex": data["sex"]})
    ours = group_metrics(data["y_true"], data["y_pred"], sens, marginal=True)
    for column in ("race", "sex"):
        # fairlearn: MetricFrame(..., sensitive_features=data[column])
        mf = MetricFrame(
            metrics=FAIRLEARN,
            y_true=data["y_true"],
            y_pred=data["y_pred"],
            sensitive_features=data[column],
        )
        rows = ours.filter(pl.col("attribute") == column)
        assert rows["group"].to_list() == [str(g) for g in mf.by_group.index]
        for col in FAIRLEARN:
            np.testing.assert_allclose(rows[col].to_numpy(), mf.by_group[col].to_numpy(), atol=1e-9)
    assert ours.filter(pl.col("attribute") == "race × sex").height == 6


def test_base_rate_npv_by_hand():
    df = group_metrics([1, 1, 0, 0, 1, 0], [1, 0, 0, 1, 0, 0], ["a", "a", "a", "a", "b", "b"])
    a = df.row(0, named=True)
    assert a["base_rate"] == 0.5
    assert a["npv"] == 0.5  # one TN, one FN
    b = df.row(1, named=True)
    assert b["npv"] == 0.5
    assert b["ppv"] is None
    assert "ppv: no rows with y_pred=1" in b["null_reasons"]


def test_zero_denominators_are_null_with_reason():
    df = group_metrics([0, 0, 1, 0], [0, 1, 1, 0], ["a", "a", "b", "b"])
    a = df.row(0, named=True)
    assert a["tpr"] is None and a["fnr"] is None
    assert "tpr: no rows with y_true=1" in a["null_reasons"]
    assert a["fpr"] == 0.5


def _ece_reference(y, p, n_bins=10):
    # Naeini et al. (2015) by explicit loops over equal-width bins, last bin closed.
    edges = np.linspace(0, 1, n_bins + 1)
    total, worst = 0.0, 0.0
    for i in range(n_bins):
        last = i == n_bins - 1
        m = (p >= edges[i]) & ((p <= edges[i + 1]) if last else (p < edges[i + 1]))
        if m.any():
            gap = abs(y[m].mean() - p[m].mean())
            total += m.sum() / len(p) * gap
            worst = max(worst, gap)
    return total, worst


def test_ece_mce_match_explicit_loop(data):
    df = group_metrics(data["y_true"], data["y_pred"], data["race"], y_prob=data["y_prob"])
    for row in df.iter_rows(named=True):
        m = data["race"] == row["group"]
        ece, mce = _ece_reference(data["y_true"][m], data["y_prob"][m])
        assert row["ece"] == pytest.approx(ece, abs=1e-12)
        assert row["mce"] == pytest.approx(mce, abs=1e-12)


def test_probability_one_counts_in_last_bin():
    df = group_metrics(
        [1, 1, 0, 0], [1, 1, 0, 0], ["a", "a", "b", "b"], y_prob=[1.0, 1.0, 0.0, 0.0]
    )
    assert df["ece"].to_list() == [0.0, 0.0]


def test_quantile_bins():
    y = np.array([0, 1, 0, 1, 1, 1, 0, 1])
    p = np.array([0.1, 0.2, 0.3, 0.4, 0.6, 0.7, 0.8, 0.9])
    df = group_metrics(y, y, ["a"] * 8, y_prob=p, n_bins=2, binning="quantile")
    # bins {0.1..0.4}: ȳ=0.5, p̄=0.25; {0.6..0.9}: ȳ=0.75, p̄=0.75
    assert df["ece"][0] == pytest.approx(0.5 * 0.25)
    assert df["mce"][0] == pytest.approx(0.25)


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"y_pred": [1, 0]}, "`y_pred` has 2 rows"),
        ({"y_true": [0, 2, 1]}, "`y_true` must be binary"),
        ({"y_true": [0.0, np.nan, 1.0]}, "`y_true` contains NaN"),
        ({"sensitive": ["a", "b"]}, "`sensitive` column"),
        ({"y_prob": [0.2, 1.5, 0.1]}, "`y_prob` must be probabilities in [0, 1]"),
        ({"y_prob": [0.2, np.nan, 0.1]}, "`y_prob` contains NaN"),
        ({"y_true": []}, "`y_true` is empty"),
        ({"y_true": ["x", "y", "z"]}, "`y_true` must hold binary labels"),
    ],
)
def test_bad_input_names_the_argument(kwargs, message):
    args = {"y_true": [0, 1, 1], "y_pred": [0, 1, 0], "sensitive": ["a", "b", "a"]}
    args.update(kwargs)
    with pytest.raises(FairnessError) as info:
        group_metrics(args.pop("y_true"), args.pop("y_pred"), args.pop("sensitive"), **args)
    assert message in str(info.value)


def test_empty_intersections_are_named_not_rows(data):
    from crucible.fairness import SmallGroupWarning, demographic_parity

    sens = {"race": ["a", "a", "b", "b"] * 5, "sex": ["F", "M", "F", "F"] * 5}
    y = [1, 0, 1, 0] * 5
    with pytest.warns(SmallGroupWarning, match="fewer than the 393 needed"):
        d = demographic_parity(y, [1, 0, 0, 1] * 5, sens, n_boot=50)
    assert d.excluded == {"b|M": "empty intersection: no rows"}
    assert "b|M" not in group_metrics(y, y, sens)["group"].to_list()


def test_series_inputs_pandas_and_polars(data):
    ref = group_metrics(data["y_true"], data["y_pred"], data["race"])
    pd_series = group_metrics(
        pd.Series(data["y_true"]), pd.Series(data["y_pred"]), pd.Series(data["race"], name="race")
    )
    pl_series = group_metrics(
        pl.Series(data["y_true"]), pl.Series(data["y_pred"]), pl.Series("race", data["race"])
    )
    assert pd_series["attribute"][0] == pl_series["attribute"][0] == "race"
    assert pd_series.drop("attribute").equals(ref.drop("attribute"))
    assert pl_series.drop("attribute").equals(ref.drop("attribute"))
