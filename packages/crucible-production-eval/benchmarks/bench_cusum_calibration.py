"""Textbook CUSUM (k = 0.5, h = 5) against a calibrated one on a stable, skewed latency stream."""

from __future__ import annotations

import json

import numpy as np

from crucible.production_eval import CUSUM, calibrate, false_alarm_rate


def main() -> None:
    rng = np.random.default_rng(0)
    reference = rng.lognormal(6.0, 0.8, 5000)  # stable LLM latencies, heavy right tail
    stable = rng.lognormal(6.0, 0.8, 5000)  # fresh in-control data, not used to calibrate
    textbook = CUSUM(threshold=5.0, k=0.5)
    cal = calibrate(
        textbook, reference, target_arl=1000, n_streams=30, stream_length=5000, steps=10
    )
    rate_textbook, alarms_textbook = false_alarm_rate(
        textbook, stable, n_streams=20, stream_length=5000, seed=7
    )
    rate_cal, alarms_cal = false_alarm_rate(
        cal.build(textbook), stable, n_streams=20, stream_length=5000, seed=7
    )
    print(
        json.dumps(
            {
                "benchmark": "cusum_calibration",
                "observations": 100_000,
                "textbook_h": 5.0,
                "textbook_nominal_arl": 465,
                "textbook_false_alarms": alarms_textbook,
                "textbook_arl": round(1 / rate_textbook) if rate_textbook else None,
                "calibrated_h": round(cal.threshold, 3),
                "target_arl": 1000,
                "calibrated_false_alarms": alarms_cal,
                "calibrated_arl": round(1 / rate_cal) if rate_cal else None,
            }
        )
    )


if __name__ == "__main__":
    main()
