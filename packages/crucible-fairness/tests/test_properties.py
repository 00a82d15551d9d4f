from __future__ import annotations

import warnings

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from crucible.fairness import SmallGroupWarning, demographic_parity, equalized_odds, group_metrics

rows = st.integers(8, 120).flatmap(
    lambda n: st.tuples(
        st.lists(st.integers(0, 1), min_size=n, max_size=n),
        st.lists(st.integers(0, 1), min_size=n, max_size=n),
        st.lists(st.sampled_from(["a", "b", "c"]), min_size=n, max_size=n),
    )
)


@settings(max_examples=40, deadline=None)
@given(rows)
def test_rates_are_probabilities_and_match_direct_counts(data):
    y, p, g = (np.array(v) for v in data)
    df = group_metrics(y, p, g)
    for row in df.iter_rows(named=True):
        m = g == row["group"]
        assert row["count"] == m.sum()
        assert row["selection_rate"] == p[m].mean()
        pos = m & (y == 1)
        assert row["tpr"] == (p[pos].mean() if pos.any() else None)
        for col in (
            "base_rate",
            "selection_rate",
            "tpr",
            "fpr",
            "fnr",
            "tnr",
            "ppv",
            "npv",
            "accuracy",
        ):
            assert row[col] is None or 0.0 <= row[col] <= 1.0


@settings(max_examples=30, deadline=None)
@given(rows, st.integers(0, 1000))
def test_disparities_are_bounded_and_seeded(data, seed):
    y, p, g = (np.array(v) for v in data)
    if len(set(g.tolist())) < 2:
        return
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", SmallGroupWarning)
        d = demographic_parity(y, p, g, n_boot=50, seed=seed)
        again = demographic_parity(y, p, g, n_boot=50, seed=seed)
        eo = equalized_odds(y, p, g, n_boot=50, seed=seed)
    assert 0.0 <= d.difference <= 1.0
    assert np.isnan(d.ratio) or 0.0 <= d.ratio <= 1.0
    assert d.ci == again.ci
    assert 0.0 <= d.p_value <= 1.0
    assert np.isnan(eo.difference) or 0.0 <= eo.difference <= 1.0
