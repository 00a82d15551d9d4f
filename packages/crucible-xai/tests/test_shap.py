from __future__ import annotations

import numpy as np
import pytest

from crucible.xai import XAIError, efficiency_gap, kernel_shap, linear_shap, sampling_shap


def model(X: np.ndarray) -> np.ndarray:
    return 1.5 * X[:, 0] - X[:, 1] * X[:, 2] + np.sin(X[:, 3]) + 0.3 * X[:, 0] * X[:, 4] ** 2


@pytest.fixture
def case():
    rng = np.random.default_rng(0)
    return rng.normal(size=5), rng.normal(size=(12, 5))


def test_exact_enumeration_equals_permutation_definition(case, brute_force):
    x, bg = case
    e = kernel_shap(model, x, bg)
    assert e.method == "kernel_shap (exact enumeration)"
    np.testing.assert_allclose(e.values, brute_force(model, x, bg), atol=1e-12)
    assert e.n_evaluations == 2**5 * 12


def test_efficiency_is_exact(case):
    x, bg = case
    for e in (kernel_shap(model, x, bg), kernel_shap(model, x, bg, n_samples=12, seed=1),
              sampling_shap(model, x, bg, n_permutations=3)):  # fmt: skip
        assert e.values.sum() == pytest.approx(
            float(model(x[None])[0] - model(bg).mean()), abs=1e-12
        )
        assert efficiency_gap(e) < 1e-12


def test_sampled_kernel_shap_converges_to_exact():
    rng = np.random.default_rng(1)
    d = 14
    W = rng.normal(size=(d, 3))

    def f(X: np.ndarray) -> np.ndarray:
        return np.tanh(X @ W).sum(axis=1)

    x, bg = rng.normal(size=d), rng.normal(size=(5, d))
    exact = kernel_shap(f, x, bg, n_samples=2**d)
    assert exact.method == "kernel_shap (exact enumeration)"
    small = kernel_shap(f, x, bg, n_samples=300, seed=0)
    large = kernel_shap(f, x, bg, n_samples=6000, seed=0)
    err_small = np.abs(small.values - exact.values).max()
    err_large = np.abs(large.values - exact.values).max()
    assert err_large < err_small
    assert err_large < 0.02


def test_sampling_shap_converges(case):
    x, bg = case
    exact = kernel_shap(model, x, bg)
    approx = sampling_shap(model, x, bg, n_permutations=400, seed=2)
    np.testing.assert_allclose(approx.values, exact.values, atol=0.03)


def test_kernel_shap_seeded(case):
    rng = np.random.default_rng(3)
    x, bg = rng.normal(size=16), rng.normal(size=(3, 16))

    def f(X):
        return X[:, :8].prod(axis=1) + X.sum(axis=1)

    a = kernel_shap(f, x, bg, n_samples=200, seed=5)
    b = kernel_shap(f, x, bg, n_samples=200, seed=5)
    np.testing.assert_array_equal(a.values, b.values)


def test_linear_shap_matches_exact_and_sklearn():
    from sklearn.linear_model import LinearRegression

    rng = np.random.default_rng(4)
    X = rng.normal(size=(200, 4))
    y = X @ [1.0, -2.0, 0.5, 0.0] + 0.1 * rng.normal(size=200)
    lr = LinearRegression().fit(X, y)
    e = linear_shap(lr, X[0], X[:50])
    exact = kernel_shap(lr.predict, X[0], X[:50])
    np.testing.assert_allclose(e.values, exact.values, atol=1e-10)
    assert e.base_value == pytest.approx(exact.base_value, abs=1e-10)


def test_classifier_output_selection():
    def proba(X):
        p = 1 / (1 + np.exp(-X.sum(axis=1)))
        return np.stack([1 - p, p], axis=1)

    x, bg = np.array([1.0, 0.5]), np.zeros((2, 2))
    with pytest.raises(XAIError, match="pass `output=<class index>`"):
        kernel_shap(proba, x, bg)
    e1 = kernel_shap(proba, x, bg, output=1)
    e0 = kernel_shap(proba, x, bg, output=0)
    np.testing.assert_allclose(e1.values, -e0.values, atol=1e-12)


@pytest.mark.parametrize(
    ("call", "message"),
    [
        (lambda: kernel_shap(model, np.zeros(5), np.zeros((3, 4))), "`background` has 4 features"),
        (lambda: kernel_shap(model, [np.nan, 0, 0, 0, 0], np.zeros((3, 5))), "`x` contains NaN"),
        (lambda: kernel_shap(lambda X: X, np.zeros(5), np.zeros((3, 5))), "returned shape (96, 5)"),
        (
            lambda: kernel_shap(lambda X: X[:2, 0], np.zeros(5), np.zeros((3, 5))),
            "must return 96 outputs",
        ),
        (
            lambda: kernel_shap(model, np.zeros(20), np.zeros((1, 20)), n_samples=10),
            "`n_samples` must be",
        ),
        (
            lambda: kernel_shap(model, np.zeros(5), np.zeros((0, 5))),
            "`background` must be a non-empty",
        ),
        (
            lambda: kernel_shap(lambda X: X[:, 0] * np.inf, np.ones(5), np.ones((3, 5))),
            "NaN or infinite",
        ),
        (
            lambda: sampling_shap(model, np.zeros(5), np.zeros((3, 5)), n_permutations=0),
            "`n_permutations`",
        ),
    ],
)
def test_bad_input(call, message):
    with pytest.raises(XAIError) as info:
        call()
    assert message in str(info.value)


def test_constant_feature_gets_zero():
    x, bg = np.array([1.0, 2.0, 3.0]), np.array([[0.0, 2.0, 1.0], [1.0, 2.0, 0.0]])
    e = kernel_shap(model_3 := (lambda X: X[:, 0] * X[:, 1] + X[:, 2]), x, bg)
    assert e.values[1] == pytest.approx(0.0, abs=1e-12)
    assert e.values.sum() == pytest.approx(float(model_3(x[None])[0] - model_3(bg).mean()))
