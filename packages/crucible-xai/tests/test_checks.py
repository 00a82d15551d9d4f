from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from crucible.xai import (
    deletion_curve,
    dummy_gap,
    efficiency_gap,
    infidelity,
    insertion_curve,
    integrated_gradients,
    kernel_shap,
    linearity_gap,
    max_sensitivity,
    occlusion,
    sampling_shap,
    symmetry_gap,
)


def exact(f, x, bg):
    return kernel_shap(f, x, bg)


def test_deletion_and_insertion_curves_by_hand():
    w = np.array([3.0, 1.0, 2.0])

    def f(X):
        return X @ w

    e = kernel_shap(f, np.ones(3), np.zeros((1, 3)))
    dele = deletion_curve(f, e, np.zeros(3))
    assert dele.order == (0, 2, 1)
    np.testing.assert_allclose(dele.output, [6, 3, 1, 0])
    # trapezoid over fractions 0, 1/3, 2/3, 1
    assert dele.auc == pytest.approx((4.5 + 2 + 0.5) / 3)
    ins = insertion_curve(f, e, np.zeros(3))
    np.testing.assert_allclose(ins.output, [0, 3, 5, 6])
    assert ins.auc == pytest.approx((1.5 + 4 + 5.5) / 3)


def test_infidelity_zero_for_linear_gradient_and_positive_otherwise():
    w = np.array([1.0, -2.0, 0.5])
    x = np.array([0.3, 0.1, -0.2])
    e = integrated_gradients(
        lambda X: X @ w, x, np.zeros(3), gradient=lambda X: np.tile(w, (len(X), 1))
    )
    grad_like = e.__class__(w, 0.0, e.feature_names, "gradient", 0, x, float(x @ w))
    assert infidelity(lambda X: X @ w, grad_like) == pytest.approx(0.0, abs=1e-24)
    wrong = grad_like.__class__(-w, 0.0, e.feature_names, "gradient", 0, x, float(x @ w))
    # E[(I·(-w) - I·w)^2] = 4 σ² |w|² = 4 * 0.01 * 5.25
    assert infidelity(lambda X: X @ w, wrong, n_perturbations=20000) == pytest.approx(
        0.21, rel=0.05
    )


def test_max_sensitivity_linear_shap_is_lipschitz():
    w = np.array([1.0, 2.0])
    bg = np.zeros((1, 2))
    s = max_sensitivity(lambda z: kernel_shap(lambda X: X @ w, z, bg), [1.0, 1.0], radius=0.1)
    # φ = w ⊙ x, so ||Δφ|| <= ||w|| · 0.1 · sqrt(2)... bounded by sqrt(sum (w_i 0.1)^2)
    assert 0 < s <= np.sqrt(np.sum((w * 0.1) ** 2)) + 1e-12


def test_axiom_helpers_detect_a_non_shapley_method():
    def f(X):
        return X[:, 0] * X[:, 1]

    x, bg = np.array([1.0, 1.0, 5.0]), np.zeros((1, 3))
    # occlusion double-counts the interaction: 1 + 1 != f(x) - base = 1
    assert efficiency_gap(occlusion(f, x, bg)) == pytest.approx(1.0)
    assert efficiency_gap(kernel_shap(f, x, bg)) < 1e-12


# --- property tests: the Shapley axioms hold for exact Kernel SHAP on random models -------------


def random_model(coefs: list[float], pairs: list[tuple[int, int]], d: int):
    def f(X: np.ndarray) -> np.ndarray:
        out = X[:, : len(coefs)] @ np.asarray(coefs[:d])
        for k, (i, j) in enumerate(pairs):
            out = out + (k + 1) * 0.5 * np.tanh(X[:, i % d] * X[:, j % d])
        return out

    return f


models = st.builds(
    lambda d, coefs, pairs: (d, coefs[:d], pairs),
    st.integers(2, 6),
    st.lists(st.floats(-3, 3), min_size=6, max_size=6),
    st.lists(st.tuples(st.integers(0, 5), st.integers(0, 5)), max_size=3),
)


@settings(max_examples=25, deadline=None)
@given(models, st.integers(0, 2**16))
def test_efficiency_and_linearity_on_random_models(model, seed):
    d, coefs, pairs = model
    f = random_model(coefs, pairs, d)
    g = random_model(coefs[::-1], pairs[::-1], d)
    rng = np.random.default_rng(seed)
    x, bg = rng.normal(size=d), rng.normal(size=(4, d))
    assert efficiency_gap(kernel_shap(f, x, bg)) < 1e-9
    assert efficiency_gap(sampling_shap(f, x, bg, n_permutations=3, seed=seed)) < 1e-9
    assert linearity_gap(exact, f, g, x, bg, a=2.0, b=-0.5) < 1e-9


@settings(max_examples=25, deadline=None)
@given(models, st.integers(0, 2**16))
def test_dummy_and_symmetry_on_random_models(model, seed):
    d, coefs, pairs = model
    base = random_model(coefs, pairs, d)
    rng = np.random.default_rng(seed)
    x, bg = rng.normal(size=d + 1), rng.normal(size=(4, d + 1))

    def with_dummy(X: np.ndarray) -> np.ndarray:
        return base(X[:, :d])  # the last column is ignored

    assert dummy_gap(exact, with_dummy, x, bg, d) < 1e-9

    def symmetric(X: np.ndarray) -> np.ndarray:
        return base(X[:, :d]) * 0 + np.tanh(X[:, 0] + X[:, 1]) + coefs[0] * X[:, 0] * X[:, 1]

    xs = x.copy()
    xs[1] = xs[0]
    bgs = np.concatenate([bg, bg[:, [1, 0, *range(2, d + 1)]]])  # symmetric under swapping 0, 1
    assert symmetry_gap(exact, symmetric, xs, bgs, 0, 1) < 1e-9
