"""False-positive rate under continuous peeking: mSPRT against a naive repeated t-test."""

from __future__ import annotations

import json

from crucible.production_eval import peeking_simulation


def main() -> None:
    sim = peeking_simulation(n_sims=1000, n=2000, p=0.2, peek_every=20, alpha=0.05, seed=0)
    print(json.dumps({"benchmark": "peeking", **sim.to_dict()}))


if __name__ == "__main__":
    main()
