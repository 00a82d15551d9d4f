from __future__ import annotations

import numpy as np
import pytest
from scipy import stats
from statsmodels.stats.proportion import proportion_confint

from crucible.adversary import certify, clopper_pearson_lower, predict
from crucible.core import ValidationError


def halfplane(batch: np.ndarray) -> np.ndarray:
    return (batch[:, 0] > 0).astype(int)


@pytest.mark.parametrize(
    ("k", "n", "alpha"), [(990, 1000, 0.001), (60, 100, 0.05), (1, 10, 0.01), (10, 10, 0.001)]
)
def test_clopper_pearson_matches_statsmodels(k: int, n: int, alpha: float) -> None:
    # statsmodels 0.14: the two-sided "beta" interval at 2*alpha has the one-sided lower bound.
    low, _ = proportion_confint(k, n, alpha=2 * alpha, method="beta")
    assert clopper_pearson_lower(k, n, alpha) == pytest.approx(low, abs=1e-12)
    assert clopper_pearson_lower(0, n, alpha) == 0.0


def test_certified_radius_of_a_halfplane_is_sound_and_tight() -> None:
    # For f = 1[x0 > 0] the smoothed classifier's exact radius at x is |x0| (Cohen et al., 2019,
    # a linear classifier): sigma * Phi^-1(Phi(x0 / sigma)) = x0.
    x = np.array([1.0, 0.0])
    radii = [certify(halfplane, x, sigma=1.0, n=5_000, seed=s).radius for s in range(5)]
    assert all(0.85 < r < 1.0 for r in radii)


def test_radius_formula_uses_clopper_pearson() -> None:
    c = certify(halfplane, [0.5, 0.0], sigma=0.5, n0=50, n=2_000, alpha=0.01, seed=3)
    assert c.prediction == 1
    expected = clopper_pearson_lower(c.top_count, 2_000, 0.01)
    assert c.p_lower == pytest.approx(expected)
    assert c.radius == pytest.approx(0.5 * stats.norm.ppf(expected))
    # the fraction of noisy samples in the top class estimates Phi(x0 / sigma) = Phi(1)
    assert c.top_count / 2_000 == pytest.approx(stats.norm.cdf(1.0), abs=0.03)


def test_abstains_on_the_boundary() -> None:
    c = certify(halfplane, [0.0, 0.0], sigma=1.0, n=2_000, seed=0)
    assert c.abstained and c.prediction is None and c.radius == 0.0 and c.p_lower < 0.5


def test_negative_side_predicts_class_zero() -> None:
    c = certify(halfplane, [-2.0, 0.0], sigma=1.0, n=2_000, seed=1)
    assert c.prediction == 0 and c.radius > 1.5


def test_predict() -> None:
    p = predict(halfplane, [1.0, 0.0], sigma=1.0, n=1_000, seed=0)
    assert p.prediction == 1 and p.p_value < 0.001
    assert predict(halfplane, [0.0, 0.0], sigma=1.0, n=1_000, seed=0).abstained


def test_same_seed_same_certificate() -> None:
    a = certify(halfplane, [0.3, 0.1], sigma=0.5, n=500, seed=7)
    assert a == certify(halfplane, [0.3, 0.1], sigma=0.5, n=500, seed=7)


def test_bad_arguments() -> None:
    with pytest.raises(ValidationError, match="`sigma`"):
        certify(halfplane, [1.0, 0.0], sigma=0)
    with pytest.raises(ValidationError, match="`alpha`"):
        certify(halfplane, [1.0, 0.0], sigma=1.0, alpha=1.5)
    with pytest.raises(ValidationError, match="`n0`"):
        certify(halfplane, [1.0, 0.0], sigma=1.0, n0=0)
    with pytest.raises(ValidationError, match="one label per noisy input"):
        certify(lambda b: np.zeros(1), [1.0, 0.0], sigma=1.0, n0=5, n=5)
