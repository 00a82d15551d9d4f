from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from fairlearn.postprocessing import ThresholdOptimizer
from sklearn.base import BaseEstimator, ClassifierMixin

from crucible.fairness import FairnessError, reweighing, threshold_optimizer


class ScoreAsEstimator(ClassifierMixin, BaseEstimator):
    """A prefit 'classifier' whose decision score is the single input column."""

    def fit(self, X, y):
        self.classes_ = np.array([0, 1])
        return self

    def predict(self, X):
        return np.asarray(X)[:, 0]


@pytest.fixture(scope="module")
def scored():
    rng = np.random.default_rng(5)
    n = 3000
    group = rng.choice(np.array(["a", "b"]), n, p=[0.6, 0.4])
    y = (rng.random(n) < np.where(group == "a", 0.5, 0.3)).astype(int)
    score = np.round(np.clip(0.3 * y + rng.normal(0.35, 0.2, n) + 0.1 * (group == "a"), 0, 1), 2)
    return y, score, group


def test_reweighing_makes_label_independent_of_group(scored):
    y, _, group = scored
    w = reweighing(y, group)
    assert w.sum() == pytest.approx(y.size)
    for g in ("a", "b"):
        m = group == g
        assert np.sum(w[m] * y[m]) / np.sum(w[m]) == pytest.approx(y.mean(), abs=1e-12)
    # by hand for group a, y = 1: P(a) P(y=1) / P(a, y=1)
    m = (group == "a") & (y == 1)
    expected = (group == "a").mean() * y.mean() / m.mean()
    assert w[m][0] == pytest.approx(expected, rel=1e-12)


@pytest.mark.parametrize("constraint", ["demographic_parity", "equalized_odds"])
def test_threshold_optimizer_meets_constraint_and_matches_fairlearn_accuracy(scored, constraint):
    y, score, group = scored
    fit = threshold_optimizer(y, score, group, constraint=constraint)
    p = fit.probability(score, group)
    if constraint == "demographic_parity":
        rates = [p[group == g].mean() for g in ("a", "b")]
        assert rates[0] == pytest.approx(rates[1], abs=1e-12)
    else:
        tpr = [p[(group == g) & (y == 1)].mean() for g in ("a", "b")]
        fpr = [p[(group == g) & (y == 0)].mean() for g in ("a", "b")]
        assert tpr[0] == pytest.approx(tpr[1], abs=1e-9)
        assert fpr[0] == pytest.approx(fpr[1], abs=1e-9)
    expected_acc = np.mean(np.where(y == 1, p, 1 - p))
    assert fit.expected_accuracy == pytest.approx(expected_acc, abs=1e-9)
    # fairlearn: ThresholdOptimizer(estimator=prefit scorer, constraints=..., objective="accuracy_score",
    #            prefit=True, predict_method="predict").fit(X, y, sensitive_features=group)
    ref = ThresholdOptimizer(estimator=ScoreAsEstimator().fit(None, None), constraints=constraint,
                             objective="accuracy_score", prefit=True, predict_method="predict")  # fmt: skip
    ref.fit(pd.DataFrame({"s": score}), y, sensitive_features=group)
    ref_p = ref._pmf_predict(pd.DataFrame({"s": score}), sensitive_features=group)[:, 1]
    ref_acc = np.mean(np.where(y == 1, ref_p, 1 - ref_p))
    assert expected_acc >= ref_acc - 2e-3
    preds = fit.predict(score, group, seed=1)
    np.testing.assert_array_equal(preds, fit.predict(score, group, seed=1))
    assert abs(np.mean(preds == y) - expected_acc) < 0.03


def test_threshold_optimizer_bad_input(scored):
    y, score, group = scored
    with pytest.raises(FairnessError, match="only negatives"):
        threshold_optimizer(
            [0, 0, 1, 0], [0.1, 0.2, 0.3, 0.4], ["a", "a", "b", "b"], constraint="equalized_odds"
        )
    with pytest.raises(FairnessError, match="`constraint` must be one of"):
        threshold_optimizer(y, score, group, constraint="parity")
    fit = threshold_optimizer(y, score, group)
    with pytest.raises(FairnessError, match="group 'c'"):
        fit.probability([0.5], ["c"])
