"""Exact match over 100,000 predictions: vectorised score_batch vs the per-item scorer.

Prints one JSON line.
"""

from __future__ import annotations

import json
import time

import numpy as np

from crucible.core import Item
from crucible.datasets.score import ExactMatch

N = 100_000


def main() -> None:
    rng = np.random.default_rng(0)
    words = ["the", "Paris", "answer", "is", "B", "42", "New York", "a", "cat!", "  "]
    predictions = [" ".join(rng.choice(words, size=4)) for _ in range(N)]
    items = [Item(str(i), "q", ["paris", "new york"]) for i in range(N)]
    scorer = ExactMatch()
    start = time.perf_counter()
    batch = scorer.score_batch(predictions, items)
    batch_s = time.perf_counter() - start
    start = time.perf_counter()
    single = [scorer(p, it) for p, it in zip(predictions, items, strict=True)]
    single_s = time.perf_counter() - start
    assert batch == single
    print(
        json.dumps(
            {
                "benchmark": "exact_match_100k",
                "n": N,
                "score_batch_s": batch_s,
                "per_item_s": single_s,
                "speedup": single_s / batch_s,
            }
        )
    )


if __name__ == "__main__":
    main()
