"""Calibrated alarms: a threshold meeting a target ARL on in-control reference data."""

from __future__ import annotations

import numpy as np
import pytest

from crucible.production_eval import CUSUM, PageHinkley, ProductionEvalError, calibrate
from crucible.production_eval import false_alarm_rate as far


def _latencies(n: int, seed: int) -> np.ndarray:
    return np.random.default_rng(seed).lognormal(6.0, 0.8, n)


def test_textbook_cusum_alarms_far_more_than_its_nominal_rate_on_skewed_data() -> None:
    ref = _latencies(2000, 1)
    # k = 0.5, h = 5: nominal in-control ARL about 465 for normal data (Montgomery, Table 9.6).
    rate, alarms = far(CUSUM(threshold=5.0, k=0.5), ref, n_streams=5, stream_length=2000)
    assert alarms > 0
    assert rate > 3 / 465


def test_calibrated_threshold_meets_the_target_on_fresh_streams() -> None:
    ref = _latencies(2000, 1)
    cal = calibrate(CUSUM(threshold=5.0, k=0.5), ref, target_arl=1000, n_streams=4, steps=8)
    assert cal.arl >= 1000
    assert cal.false_alarm_rate == pytest.approx(1 / cal.arl)
    assert cal.threshold > 5.0
    fresh_rate, _ = far(cal.build(CUSUM(k=0.5)), ref, n_streams=4, stream_length=2000, seed=99)
    textbook_rate, _ = far(
        CUSUM(threshold=5.0, k=0.5), ref, n_streams=4, stream_length=2000, seed=99
    )
    assert fresh_rate < textbook_rate
    assert fresh_rate <= 3 / 1000


def test_calibrate_page_hinkley_on_error_stream() -> None:
    ref = (np.random.default_rng(3).random(1000) < 0.1).astype(float)
    cal = calibrate(
        PageHinkley(threshold=2.0, delta=0.005), ref, target_arl=500, n_streams=3, steps=6
    )
    assert cal.arl >= 500
    assert "PageHinkley" in str(cal)


@pytest.mark.parametrize(
    ("reference", "target", "match"),
    [
        ([1.0] * 5, 100, "at least 10"),
        ([1.0, np.nan] * 10, 100, "NaN"),
        (list(range(20)), 0.5, "target_arl"),
    ],
)
def test_bad_calibration_input(reference: list[float], target: float, match: str) -> None:
    with pytest.raises(ProductionEvalError, match=match):
        calibrate(CUSUM(), reference, target_arl=target)
