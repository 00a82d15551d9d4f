"""Shared fixed data for the crucible-bench tests (seeded, so every reference is reproducible)."""

from __future__ import annotations

import numpy as np
import pytest


@pytest.fixture
def normal_pair() -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(20240611)
    return rng.normal(10.0, 2.0, 25), rng.normal(11.2, 3.0, 31)


@pytest.fixture
def paired_pair() -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(7)
    base = rng.normal(0.0, 1.0, 30)
    return base + rng.normal(0.4, 0.6, 30), base + rng.normal(0.0, 0.6, 30)


@pytest.fixture
def three_groups() -> list[np.ndarray]:
    rng = np.random.default_rng(11)
    return [rng.normal(0.0, 1.0, 20), rng.normal(0.6, 1.5, 24), rng.normal(1.0, 1.0, 18)]


@pytest.fixture
def repeated() -> np.ndarray:
    rng = np.random.default_rng(5)
    subject = rng.normal(0, 1, (15, 1))
    return subject + rng.normal(0, 1, (15, 4)) + np.array([0.0, 0.3, 0.5, 0.9])
