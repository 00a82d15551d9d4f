"""Shared fixtures: small datasets and deterministic simulated models."""

from __future__ import annotations

from typing import Any

import pytest

from crucible.core import Item, SimulatedModel
from crucible.datasets import Dataset
from crucible.harness import Condition, Experiment, Limits


def arithmetic(n: int = 30) -> Dataset:
    """``n`` addition questions with numeric answers."""
    return Dataset(
        "arith", [Item(f"q{i}", f"What is {i} + {i + 1}?", str(2 * i + 1)) for i in range(n)]
    )


def sim(name: str = "model-a", *, seed: int = 7, **overrides: Any) -> SimulatedModel:
    """A simulated model without rate-limit errors (whose 1 s Retry-After would slow tests)."""
    overrides.setdefault("error_mix", {"server": 1.0})
    return SimulatedModel(name, seed=seed, **overrides)


def experiment(n: int = 30, repeats: int = 2, **options: Any) -> Experiment:
    """Two simulated conditions with transient failures, retried quickly."""
    conditions = options.pop(
        "conditions",
        [
            Condition("a", sim("model-a", error_rate=0.1)),
            Condition("b", sim("model-b", error_rate=0.1), prompt="Q: {input}\nA:"),
        ],
    )
    options.setdefault("limits", Limits(concurrency=8, backoff_base_s=0.001, backoff_max_s=0.002))
    return Experiment(
        "toy", arithmetic(n), conditions, scorers=["numeric"], repeats=repeats, seed=11, **options
    )


@pytest.fixture
def toy() -> Experiment:
    return experiment()
