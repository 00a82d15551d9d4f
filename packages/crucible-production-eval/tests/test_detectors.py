"""Streaming detectors: identical alarms to River 0.26 on the same streams and parameters."""

from __future__ import annotations

import math

import numpy as np
import pytest
from river import drift

from crucible.production_eval import ADWIN, CUSUM, KSWIN, PageHinkley, ProductionEvalError


def _streams() -> list[np.ndarray]:
    rng = np.random.default_rng(7)
    return [
        np.concatenate([rng.normal(0, 1, 800), rng.normal(1.0, 1, 800), rng.normal(-1, 2, 800)]),
        np.concatenate([rng.random(1200) < 0.1, rng.random(1200) < 0.3]).astype(float),
        rng.lognormal(6, 0.5, 1500),
    ]


def _alarms(det: object, stream: np.ndarray, river: bool) -> list[int]:
    out = []
    for i, v in enumerate(stream):
        if river:
            det.update(float(v))  # type: ignore[attr-defined]
            hit = det.drift_detected  # type: ignore[attr-defined]
        else:
            hit = det.update(float(v))  # type: ignore[attr-defined]
        if hit:
            out.append(i)
    return out


@pytest.mark.parametrize(
    ("ours", "theirs"),
    [
        (lambda: ADWIN(), lambda: drift.ADWIN()),
        (lambda: ADWIN(delta=0.05, clock=1), lambda: drift.ADWIN(delta=0.05, clock=1)),
        (
            lambda: ADWIN(delta=0.01, clock=8, max_buckets=3, min_window_length=10),
            lambda: drift.ADWIN(delta=0.01, clock=8, max_buckets=3, min_window_length=10),
        ),
        (lambda: PageHinkley(), lambda: drift.PageHinkley()),
        (
            lambda: PageHinkley(threshold=8, delta=0.01),
            lambda: drift.PageHinkley(threshold=8, delta=0.01),
        ),
        (
            lambda: PageHinkley(mode="up", threshold=5),
            lambda: drift.PageHinkley(mode="up", threshold=5),
        ),
        (lambda: KSWIN(seed=3), lambda: drift.KSWIN(seed=3)),
        (
            lambda: KSWIN(alpha=0.01, window_size=60, stat_size=20, seed=11),
            lambda: drift.KSWIN(alpha=0.01, window_size=60, stat_size=20, seed=11),
        ),
    ],
)
def test_alarms_match_river(ours: object, theirs: object) -> None:
    total = 0
    # KSWIN runs a KS test per update: a shorter stretch around each change keeps it quick.
    cut = slice(500, 1100) if isinstance(ours(), KSWIN) else slice(None)  # type: ignore[operator]
    for full in _streams():
        stream = full[cut]
        mine = _alarms(ours(), stream, river=False)  # type: ignore[operator]
        ref = _alarms(theirs(), stream, river=True)  # type: ignore[operator]
        assert mine == ref
        total += len(ref)
    assert total > 0  # the streams do exercise the detectors


def test_adwin_window_statistics_match_river() -> None:
    ours, theirs = ADWIN(), drift.ADWIN()
    for v in _streams()[0][:700]:
        ours.update(float(v))
        theirs.update(float(v))
    assert ours.width == theirs.width
    assert ours.estimation == pytest.approx(theirs.estimation, rel=1e-12)


@pytest.mark.parametrize("det", [ADWIN(), PageHinkley(), KSWIN(), CUSUM()])
@pytest.mark.parametrize("bad", [math.nan, math.inf, "x", None])
def test_detectors_reject_nan_and_non_numbers(det: object, bad: object) -> None:
    with pytest.raises(ProductionEvalError, match="update"):
        det.update(bad)  # type: ignore[attr-defined]


def test_cusum_tabular_recursion_by_hand() -> None:
    # mean 0, sd 1 given; k = 0.5, h = 2: S+ = 0.5, 1.5, 3.0 -> alarm at the third value.
    det = CUSUM(threshold=2.0, k=0.5, mean=0.0, std=1.0)
    assert [det.update(x) for x in (1.0, 1.5, 2.0)] == [False, False, True]
    assert det.s_pos == pytest.approx(3.0)


def test_cusum_warm_up_estimates_mean_and_sd() -> None:
    det = CUSUM(threshold=4.0, min_instances=4)
    assert not any(det.update(x) for x in (1.0, 2.0, 3.0, 4.0))
    assert det._mu == pytest.approx(2.5)
    assert det._sd == pytest.approx(np.std([1, 2, 3, 4], ddof=1))


def test_bad_parameters_name_the_argument() -> None:
    with pytest.raises(ProductionEvalError, match="`mode`"):
        PageHinkley(mode="sideways")
    with pytest.raises(ProductionEvalError, match="`delta`"):
        ADWIN(delta=0)
    with pytest.raises(ProductionEvalError, match="`stat_size`"):
        KSWIN(window_size=10, stat_size=30)
    with pytest.raises(ProductionEvalError, match="`threshold`"):
        CUSUM(threshold=-1)
