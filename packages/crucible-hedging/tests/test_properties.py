"""Laws that hold for any data (hypothesis)."""

from __future__ import annotations

import math

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from crucible.hedging import LatencyWindow, SurvivalWindow, hedged_quantile

latencies = st.lists(
    st.floats(min_value=0.0, max_value=1e5, allow_nan=False, allow_infinity=False),
    min_size=1,
    max_size=200,
)


@settings(max_examples=100, deadline=None)
@given(latencies, st.floats(min_value=0.01, max_value=0.99))
def test_window_quantile_is_numpy_inverted_cdf(values: list[float], p: float) -> None:
    w = LatencyWindow(len(values))
    for v in values:
        w.add(v)
    assert w.quantile(p) == float(np.quantile(values, p, method="inverted_cdf"))


@settings(max_examples=100, deadline=None)
@given(latencies, st.floats(min_value=0.0, max_value=1e5))
def test_kaplan_meier_without_censoring_is_the_empirical_survival(
    values: list[float], t: float
) -> None:
    km = SurvivalWindow(len(values))
    plain = LatencyWindow(len(values))
    for v in values:
        km.add(v, completed=True)
        plain.add(v)
    assert math.isclose(km.sf(t), plain.sf(t), abs_tol=1e-9)


@settings(max_examples=50, deadline=None)
@given(
    st.floats(min_value=1.0, max_value=1000.0),
    st.floats(min_value=0.0, max_value=5000.0),
    st.floats(min_value=0.5, max_value=0.999),
)
def test_hedging_never_lengthens_a_quantile(scale: float, delay: float, q: float) -> None:
    def sf(t: float) -> float:
        return math.exp(-t / scale)

    upper = scale * 20 + delay
    hedged = hedged_quantile(sf, q, delay, upper_ms=upper)
    unhedged = hedged_quantile(sf, q, math.inf, upper_ms=upper)
    assert hedged <= unhedged * (1 + 1e-9)
