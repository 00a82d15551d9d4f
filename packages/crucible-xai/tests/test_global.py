from __future__ import annotations

import numpy as np
import pytest
from sklearn.ensemble import RandomForestRegressor
from sklearn.inspection import partial_dependence as sk_partial_dependence
from sklearn.inspection import permutation_importance as sk_permutation_importance
from sklearn.linear_model import LinearRegression

from crucible.xai import (
    XAIError,
    accumulated_local_effects,
    h_statistic,
    ice,
    partial_dependence,
    permutation_importance,
)


@pytest.fixture(scope="module")
def forest():
    rng = np.random.default_rng(0)
    X = rng.normal(size=(300, 3))
    X[:, 2] = rng.integers(0, 4, 300)
    y = X[:, 0] ** 2 + X[:, 1] * X[:, 2] + 0.1 * rng.normal(size=300)
    return X, y, RandomForestRegressor(n_estimators=10, max_depth=5, random_state=0).fit(X, y)


def test_partial_dependence_matches_sklearn_1d_and_2d(forest):
    X, _, rf = forest
    for features, resolution in (([0], 20), ([2], 20), ([0, 1], 8)):
        ours = partial_dependence(rf.predict, X, features, grid_resolution=resolution)
        # sklearn: partial_dependence(rf, X, features, grid_resolution=..., method="brute")
        ref = sk_partial_dependence(rf, X, features, grid_resolution=resolution, method="brute")
        for g, rg in zip(ours.grid, ref["grid_values"], strict=True):
            np.testing.assert_allclose(g, rg, atol=1e-12)
        np.testing.assert_allclose(ours.average, ref["average"][0], atol=1e-9)
    one = partial_dependence(rf.predict, X, 0, grid_resolution=20)
    ref = sk_partial_dependence(rf, X, [0], grid_resolution=20, method="brute", kind="individual")
    np.testing.assert_allclose(one.individual, ref["individual"][0], atol=1e-9)


def test_centred_ice_starts_at_zero(forest):
    X, _, rf = forest
    c = ice(rf.predict, X, 1, centered=True, grid_resolution=10)
    assert c.shape == (300, 10)
    np.testing.assert_array_equal(c[:, 0], 0.0)


def test_permutation_importance_dummy_feature_and_sklearn_agreement():
    rng = np.random.default_rng(1)
    X = rng.normal(size=(400, 3))
    y = 3 * X[:, 0] + X[:, 1]
    lr = LinearRegression().fit(X, y)

    def neg_mse(t, p):
        return -float(np.mean((t - p) ** 2))

    ours = permutation_importance(lr.predict, X, y, scorer=neg_mse, n_repeats=30, seed=0)
    # sklearn.inspection.permutation_importance(lr, X, y, scoring="neg_mean_squared_error", n_repeats=30)
    ref = sk_permutation_importance(
        lr, X, y, scoring="neg_mean_squared_error", n_repeats=30, random_state=0
    )
    # a permuted column j adds coef_j² · 2 var(x_j) in expectation: both estimate it
    np.testing.assert_allclose(
        ours["importance"].to_numpy(), ref.importances_mean, rtol=0.1, atol=1e-6
    )
    assert abs(ours["importance"][2]) < 1e-6
    row = ours.row(0, named=True)
    assert row["ci_low"] < row["importance"] < row["ci_high"]


def test_ale_exact_for_additive_model():
    rng = np.random.default_rng(2)
    X = rng.uniform(-1, 1, size=(500, 2))

    def f(Z):
        return Z[:, 0] ** 2 + 3 * Z[:, 1]

    ale = accumulated_local_effects(f, X, 1, n_bins=10)
    # slope exactly 3 between edges
    np.testing.assert_allclose(np.diff(ale.effect) / np.diff(ale.edges), 3.0, rtol=1e-12)
    mid = (ale.effect[:-1] + ale.effect[1:]) / 2
    assert np.sum(mid * ale.counts) == pytest.approx(0.0, abs=1e-9)
    ale0 = accumulated_local_effects(f, X, 0, n_bins=10)
    np.testing.assert_allclose(np.diff(ale0.effect), np.diff(ale0.edges**2), rtol=1e-12)
    assert ale.counts.sum() == 500


def test_ale_constant_feature_is_an_error():
    X = np.c_[np.ones(20), np.arange(20.0)]
    with pytest.raises(XAIError, match="feature 0 is constant"):
        accumulated_local_effects(lambda Z: Z.sum(axis=1), X, 0)


def test_h_statistic_zero_for_additive_one_for_pure_product():
    rng = np.random.default_rng(3)
    X = rng.normal(size=(60, 3))
    X -= X.mean(axis=0)
    assert h_statistic(lambda Z: Z[:, 0] + np.sin(Z[:, 1]), X, (0, 1)) == pytest.approx(
        0.0, abs=1e-20
    )
    assert h_statistic(lambda Z: Z[:, 0] * Z[:, 1], X, (0, 1)) == pytest.approx(1.0, abs=1e-12)
    mixed = h_statistic(lambda Z: Z[:, 0] + Z[:, 0] * Z[:, 1], X, (0, 1))
    assert 0.0 < mixed < 1.0
    with pytest.raises(XAIError, match="two different columns"):
        h_statistic(lambda Z: Z[:, 0], X, (1, 1))


@pytest.mark.parametrize(
    ("call", "message"),
    [
        (lambda X: permutation_importance(lambda Z: Z[:, 0], X, X[:5, 0], scorer=lambda y, p: 0.0),
         "`y` has 5 rows but `X` has 30"),
        (lambda X: permutation_importance(lambda Z: Z[:, 0], X, X[:, 0], scorer=lambda y, p: 0.0, n_repeats=1),
         "`n_repeats` must be an int >= 2"),
        (lambda X: partial_dependence(lambda Z: Z[:, 0], X, [0, 1, 2]), "one or two column indices"),
        (lambda X: partial_dependence(lambda Z: Z[:, 0], X, 7), "`features` must be a column index"),
        (lambda X: partial_dependence(lambda Z: Z[:, :2], X, 0), "pass `output=<class index>`"),
        (lambda X: ice(lambda Z: Z[:, 0], np.c_[X, np.full(30, np.nan)], 0), "`X` contains NaN"),
    ],
)  # fmt: skip
def test_bad_input(call, message):
    X = np.random.default_rng(0).normal(size=(30, 3))
    with pytest.raises(XAIError) as info:
        call(X)
    assert message in str(info.value)
