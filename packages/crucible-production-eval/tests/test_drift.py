"""Batch drift tests per column type, checked against scipy."""

from __future__ import annotations

import numpy as np
import polars as pl
import pytest
from scipy import stats

from crucible.production_eval import ProductionEvalError, detect_drift, psi


def test_numeric_categorical_boolean_columns() -> None:
    rng = np.random.default_rng(0)
    ref = pl.DataFrame(
        {
            "x": rng.normal(0, 1, 500),
            "c": rng.choice(["a", "b", "c"], 500),
            "b": rng.random(500) < 0.3,
        }
    )
    cur = pl.DataFrame(
        {
            "x": rng.normal(0.5, 1, 300),
            "c": rng.choice(["a", "b", "c"], 300, p=[0.6, 0.2, 0.2]),
            "b": rng.random(300) < 0.5,
        }
    )
    x, c, b = detect_drift(ref, cur)
    ks = stats.ks_2samp(cur["x"].to_numpy(), ref["x"].to_numpy())
    assert x.kind == "numeric" and x.p_value == pytest.approx(ks.pvalue, rel=1e-6)
    assert x.wasserstein == pytest.approx(stats.wasserstein_distance(ref["x"], cur["x"]))
    table = [
        [int((ref["c"] == v).sum()) for v in "abc"],
        [int((cur["c"] == v).sum()) for v in "abc"],
    ]
    assert c.kind == "categorical" and c.p_value == pytest.approx(
        stats.chi2_contingency(table).pvalue
    )
    assert b.kind == "boolean" and b.drift
    assert all(r.drift for r in (x, c, b))
    stable = detect_drift(ref, ref.sample(300, seed=1))
    assert not any(r.drift for r in stable)


def test_psi_formula_and_threshold_for_large_references() -> None:
    assert psi([0.5, 0.5], [0.6, 0.4]) == pytest.approx(0.1 * np.log(1.2) - 0.1 * np.log(0.8))
    rng = np.random.default_rng(2)
    ref = pl.DataFrame({"x": rng.normal(0, 1, 200_000)})
    cur = pl.DataFrame({"x": rng.normal(0.03, 1, 200_000)})
    tiny = detect_drift(ref, cur)[0]
    assert tiny.p_value < 0.01  # significant with this much data...
    assert not detect_drift(ref, cur, psi_threshold=0.1)[0].drift  # ...but not a practical shift


def test_missing_or_empty_columns() -> None:
    ref = pl.DataFrame({"x": [1.0, 2.0, 3.0]})
    with pytest.raises(ProductionEvalError, match="column 'y' is missing from `reference`"):
        detect_drift(ref, pl.DataFrame({"y": [1.0, 2.0]}), columns=["y"])
    with pytest.raises(ProductionEvalError, match="1 usable values in `current`"):
        detect_drift(ref, pl.DataFrame({"x": [1.0, None, float("nan")]}))
