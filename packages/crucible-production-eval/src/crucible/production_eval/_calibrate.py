"""Calibrated alarms: the false-alarm rate of a detector, measured on reference data.

Textbook detector settings assume independent normal data; LLM latencies are skewed and
scores are binary, so their real false-alarm rate can be far off. :func:`calibrate` replays
bootstrap streams drawn from in-control reference data and searches the detector's threshold
for the target average run length (ARL₀, observations between false alarms).
"""

from __future__ import annotations

import math
from typing import Any

import attrs
import numpy as np
import numpy.typing as npt

from crucible.production_eval._detectors import ADWIN, KSWIN, Detector
from crucible.production_eval._errors import ProductionEvalError

__all__ = ["Calibration", "calibrate", "false_alarm_rate"]


@attrs.frozen
class Calibration:
    """A detector threshold chosen so in-control streams alarm at most once per ``arl`` values.

    Attributes:
        detector: the detector class name.
        threshold: the chosen threshold (λ, h, δ or α, depending on the detector).
        arl: estimated in-control average run length at that threshold.
        false_alarm_rate: estimated false alarms per observation (1 / ARL).
        target_arl: the requested ARL.
        n_simulated: observations simulated per threshold tried.
    """

    detector: str
    threshold: float
    arl: float
    false_alarm_rate: float
    target_arl: float
    n_simulated: int

    def build(self, template: Detector) -> Detector:
        """A fresh detector like ``template`` with the calibrated threshold."""
        return template.with_threshold(self.threshold)

    def to_dict(self) -> dict[str, Any]:
        return attrs.asdict(self)

    def __str__(self) -> str:
        return (
            f"{self.detector}: threshold {self.threshold:.6g} gives ARL0 ≈ {self.arl:.0f} "
            f"(false-alarm rate {self.false_alarm_rate:.2e}/observation; target {self.target_arl:g})"
        )


def _reference(reference: npt.ArrayLike) -> np.ndarray:
    arr = np.asarray(reference, dtype=np.float64).ravel()
    if arr.size < 10:
        raise ProductionEvalError(
            f"`reference` needs at least 10 in-control values to calibrate, got {arr.size}"
        )
    if not np.isfinite(arr).all():
        raise ProductionEvalError("`reference` holds NaN or infinite values; drop them first")
    return arr


def false_alarm_rate(
    detector: Detector,
    reference: npt.ArrayLike,
    *,
    n_streams: int = 20,
    stream_length: int = 2000,
    seed: int = 0,
) -> tuple[float, int]:
    """False alarms per observation of ``detector`` on bootstrap streams of ``reference``.

    Returns ``(rate, alarms)``: each stream is ``stream_length`` values resampled with
    replacement from ``reference``; the detector restarts after each alarm.
    """
    ref = _reference(reference)
    rng = np.random.default_rng(seed)
    alarms = 0
    for _ in range(n_streams):
        det = detector.with_threshold(detector.threshold_value)
        for v in rng.choice(ref, size=stream_length, replace=True):
            if det.update(float(v)):
                alarms += 1
    return alarms / (n_streams * stream_length), alarms


def calibrate(
    detector: Detector,
    reference: npt.ArrayLike,
    *,
    target_arl: float = 1000.0,
    n_streams: int = 10,
    stream_length: int | None = None,
    steps: int = 12,
    seed: int = 0,
) -> Calibration:
    """Choose ``detector``'s threshold so its in-control ARL is at least ``target_arl``.

    Bisects the threshold on a log scale (λ/h grow for fewer alarms; ADWIN's δ and KSWIN's α
    shrink); each candidate is scored with :func:`false_alarm_rate` on the same seeded streams,
    so the search is deterministic. ARL is estimated as observations / (alarms + 1), which is
    conservative when no alarm occurs.

    Raises:
        ProductionEvalError: a non-positive ``target_arl`` or a reference with NaN / < 10 values.
    """
    ref = _reference(reference)
    if not (isinstance(target_arl, int | float) and math.isfinite(target_arl) and target_arl > 1):
        raise ProductionEvalError(f"`target_arl` must be a number > 1, got {target_arl!r}")
    length = stream_length or int(max(2 * target_arl, 500))
    total = n_streams * length
    inverse = isinstance(detector, ADWIN | KSWIN)

    def arl_at(h: float) -> float:
        _, alarms = false_alarm_rate(
            detector.with_threshold(h), ref, n_streams=n_streams, stream_length=length, seed=seed
        )
        return total / (alarms + 1)

    start = detector.threshold_value
    if inverse:
        lo_log, hi_log = math.log(1e-12), math.log(min(start * 10, 0.5))
    else:
        lo_log, hi_log = math.log(start / 100), math.log(start * 100)
    # `good` is the log threshold known to meet the target; `bad` one known not to.
    good, bad = (lo_log, hi_log) if inverse else (hi_log, lo_log)
    good_arl = arl_at(math.exp(good))
    for _ in range(steps):
        mid = (good + bad) / 2
        value = arl_at(math.exp(mid))
        if value >= target_arl:
            good, good_arl = mid, value
        else:
            bad = mid
    threshold = math.exp(good)
    return Calibration(
        type(detector).__name__, threshold, good_arl, 1 / good_arl, float(target_arl), total
    )
