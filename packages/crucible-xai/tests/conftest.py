from __future__ import annotations

import itertools
import math
from collections.abc import Callable

import numpy as np
import pytest


def brute_force_shapley(
    f: Callable[[np.ndarray], np.ndarray], x: np.ndarray, bg: np.ndarray
) -> np.ndarray:
    """Shapley values by the textbook permutation definition (every order, d! of them)."""
    d = x.size

    def v(present: frozenset[int]) -> float:
        X = bg.copy()
        for i in present:
            X[:, i] = x[i]
        return float(np.mean(f(X)))

    phi = np.zeros(d)
    for order in itertools.permutations(range(d)):
        present: frozenset[int] = frozenset()
        for i in order:
            phi[i] += v(present | {i}) - v(present)
            present = present | {i}
    return phi / math.factorial(d)


@pytest.fixture
def brute_force() -> Callable[..., np.ndarray]:
    return brute_force_shapley
