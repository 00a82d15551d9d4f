from __future__ import annotations

import numpy as np
import pytest


@pytest.fixture
def data() -> dict[str, np.ndarray]:
    """2 000 rows, two sensitive columns (3 × 2 groups), every rate defined in every group."""
    rng = np.random.default_rng(7)
    n = 2000
    race = rng.choice(np.array(["a", "b", "c"]), n, p=[0.5, 0.3, 0.2])
    sex = rng.choice(np.array(["F", "M"]), n)
    base = np.where(race == "a", 0.5, np.where(race == "b", 0.3, 0.4))
    y_true = (rng.random(n) < base).astype(int)
    score = np.clip(0.35 * y_true + 0.5 * rng.random(n) + 0.1 * (sex == "M"), 0, 1)
    y_pred = (score > 0.5).astype(int)
    return {"y_true": y_true, "y_pred": y_pred, "y_prob": score, "race": race, "sex": sex}
