from __future__ import annotations

import doctest
import importlib
import warnings

import pytest

from crucible.fairness import SmallGroupWarning


@pytest.mark.parametrize(
    "name",
    [
        "_counterfactual",
        "_criteria",
        "_metrics",
        "_mitigation",
        "_report",
        "_swaps",
        "_tradeoffs",
        "_uncertainty",
    ],
)
def test_docstring_examples_run(name):
    module = importlib.import_module(f"crucible.fairness.{name}")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", SmallGroupWarning)
        result = doctest.testmod(module)
    assert result.attempted > 0
    assert result.failed == 0
