"""Detector updates per second, side by side with River 0.26 on the same stream."""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from typing import Any

import numpy as np

from crucible.production_eval import ADWIN, CUSUM, KSWIN, PageHinkley


def _rate(make: Callable[[], Any], stream: list[float], river: bool) -> float:
    det = make()
    t = time.perf_counter()
    for x in stream:
        det.update(x)
        if river:
            _ = det.drift_detected
    return len(stream) / (time.perf_counter() - t)


def main(n: int = 50_000) -> None:
    from river import drift

    rng = np.random.default_rng(0)
    stream = np.concatenate([rng.normal(0, 1, n // 2), rng.normal(0.5, 1, n // 2)]).tolist()
    short = stream[: n // 10]
    out: dict[str, Any] = {"benchmark": "detectors", "updates": n}
    pairs = {
        "page_hinkley": (PageHinkley, drift.PageHinkley, stream),
        "adwin": (ADWIN, drift.ADWIN, stream),
        "kswin": (lambda: KSWIN(seed=1), lambda: drift.KSWIN(seed=1), short),
    }
    for name, (ours, theirs, data) in pairs.items():
        out[f"{name}_per_s"] = round(_rate(ours, data, river=False))
        out[f"{name}_river_per_s"] = round(_rate(theirs, data, river=True))
    out["cusum_per_s"] = round(_rate(CUSUM, stream, river=False))
    print(json.dumps(out))


if __name__ == "__main__":
    main()
