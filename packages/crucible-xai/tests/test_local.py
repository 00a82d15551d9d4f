from __future__ import annotations

import numpy as np
import pytest

from crucible.xai import XAIError, integrated_gradients, kernel_shap, lime, occlusion


def test_lime_recovers_linear_model_in_standardised_space():
    rng = np.random.default_rng(0)
    train = rng.normal(size=(1000, 3)) * [1.0, 2.0, 0.5] + [0.0, 1.0, -1.0]
    w = np.array([2.0, -1.0, 0.0])
    e = lime(lambda X: X @ w, train[0], train, discretizer="none", n_samples=5000, seed=1)
    # surrogate on standardised inputs: coefficient = w_j · std_j (ridge shrinkage is tiny)
    np.testing.assert_allclose(e.values, w * train.std(axis=0), rtol=0.01, atol=0.01)
    assert e.score == pytest.approx(1.0, abs=1e-3)
    assert e.n_evaluations == 5000


def test_lime_discretised_signs_and_kernel_width():
    rng = np.random.default_rng(1)
    train = rng.normal(size=(1000, 4))
    x = np.array([1.5, -1.5, 0.0, 0.0])
    e = lime(lambda X: 3 * X[:, 0] - 3 * X[:, 1], x, train, seed=0)
    assert e.values[0] > 1 and e.values[1] > 1  # both "in x's bin" raise the output
    assert abs(e.values[2]) < 0.2 and abs(e.values[3]) < 0.2
    a = lime(lambda X: X[:, 0], x, train, seed=3, discretizer="decile")
    b = lime(lambda X: X[:, 0], x, train, seed=3, discretizer="decile")
    np.testing.assert_array_equal(a.values, b.values)


def test_lime_bad_input():
    train = np.c_[np.ones(10), np.arange(10.0)]
    with pytest.raises(XAIError, match="feature 'x0' is constant"):
        lime(lambda X: X[:, 1], train[0], train, discretizer="none")
    with pytest.raises(XAIError, match="`n_samples` must be an int >= d \\+ 2"):
        lime(lambda X: X[:, 1], train[0], train, n_samples=2)
    with pytest.raises(XAIError, match="`discretizer` must be one of"):
        lime(lambda X: X[:, 1], train[0], train, discretizer="entropy")


def test_occlusion_by_hand():
    f = lambda X: X[:, 0] * X[:, 1] + X[:, 2]  # noqa: E731
    e = occlusion(f, [2.0, 3.0, 1.0], [[0.0, 0.0, 0.0], [1.0, 1.0, 1.0]])
    # replacing x0 by 0 / 1: f = 1 / 4 -> mean 2.5; f(x) = 7
    # x1 -> 0 / 1: f = 1 / 3, mean 2; x2 -> 0 / 1: f = 6 / 7, mean 6.5
    np.testing.assert_allclose(e.values, [7 - 2.5, 7 - 2.0, 7 - 6.5])
    assert e.prediction == 7.0


def test_integrated_gradients_completeness_and_equals_shap_for_linear():
    w = np.array([1.0, -2.0, 0.5])
    x, base = np.array([1.0, 2.0, 3.0]), np.zeros(3)
    e = integrated_gradients(lambda X: X @ w, x, base, gradient=lambda X: np.tile(w, (len(X), 1)))
    np.testing.assert_allclose(e.values, w * x, atol=1e-12)
    np.testing.assert_allclose(
        e.values, kernel_shap(lambda X: X @ w, x, base[None]).values, atol=1e-12
    )

    def f(X):
        return np.exp(X[:, 0]) * X[:, 1]

    def grad(X):
        return np.c_[np.exp(X[:, 0]) * X[:, 1], np.exp(X[:, 0])]

    e = integrated_gradients(f, [1.0, 2.0], [0.0, 0.0], gradient=grad, n_steps=32)
    assert abs(e.score) < 1e-12  # completeness gap
    with pytest.raises(XAIError, match="`gradient` must return shape"):
        integrated_gradients(f, [1.0, 2.0], [0.0, 0.0], gradient=lambda X: X[:, :1])
