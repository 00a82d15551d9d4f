from __future__ import annotations

import doctest
import importlib

import pytest


@pytest.mark.parametrize("name", ["_attribution", "_checks", "_global", "_lime", "_shap"])
def test_docstring_examples_run(name):
    result = doctest.testmod(importlib.import_module(f"crucible.xai.{name}"))
    assert result.attempted > 0
    assert result.failed == 0
