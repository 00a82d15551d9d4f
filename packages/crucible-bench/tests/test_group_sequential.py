from __future__ import annotations

import numpy as np
import pytest
from scipy import stats

from crucible.bench import BenchInputError, group_sequential


def test_obrien_fleming_matches_published_bounds():
    d = group_sequential(5, alpha=0.05, spending="obrien-fleming")
    # R ldbounds::bounds(1:5/5, iuse=1, alpha=0.025 per side) / gsDesign sfLDOF: published
    # Lan-DeMets O'Brien-Fleming two-sided bounds for K = 5
    assert d.z_boundaries == pytest.approx([4.8769, 3.3570, 2.6803, 2.2898, 2.0310], abs=1e-4)
    assert d.alpha_spent[-1] == pytest.approx(0.05, rel=1e-12)


def test_pocock_matches_published_bounds():
    d = group_sequential(5, spending="pocock")
    # R ldbounds::bounds(1:5/5, iuse=2, alpha=0.025 per side): Lan-DeMets Pocock-type bounds
    assert d.z_boundaries == pytest.approx([2.4380, 2.4268, 2.4102, 2.3966, 2.3860], abs=1e-4)


@pytest.mark.parametrize("sides", [1, 2])
def test_crossing_probability_equals_alpha(sides):
    info = np.array([0.3, 0.65, 1.0])
    d = group_sequential(info, alpha=0.05, sides=sides)
    cov = np.sqrt(np.minimum.outer(info, info) / np.maximum.outer(info, info))
    z = np.array(d.z_boundaries)
    # scipy 1.17: multivariate_normal(cov=Brownian correlation).cdf of the continuation region
    mvn = stats.multivariate_normal(mean=np.zeros(3), cov=cov)
    stay = mvn.cdf(z, lower_limit=-z) if sides == 2 else mvn.cdf(z)
    assert 1 - stay == pytest.approx(0.05, abs=2e-5)


def test_bad_input():
    with pytest.raises(BenchInputError, match="end at 1"):
        group_sequential([0.5, 0.8])
    with pytest.raises(BenchInputError, match="`sides`"):
        group_sequential(3, sides=3)
    with pytest.raises(BenchInputError, match="`spending` must be one of"):
        group_sequential(3, spending="haybittle")
    with pytest.raises(BenchInputError, match="`looks` must be >= 1"):
        group_sequential(0)
