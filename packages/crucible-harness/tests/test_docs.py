"""The examples in docstrings run as written (the README example runs in scripts/check-isolation)."""

from __future__ import annotations

import doctest
import importlib
from pathlib import Path

import pytest

MODULES = [
    "_analysis",
    "_budget",
    "_demo",
    "_estimate",
    "_experiment",
    "_fingerprint",
    "_hypothesis",
    "_limits",
    "_ratelimit",
    "_rundir",
    "_runner",
    "_template",
]


@pytest.mark.parametrize("name", MODULES)
def test_docstring_examples(name: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    module = importlib.import_module(f"crucible.harness.{name}")
    result = doctest.testmod(module, optionflags=doctest.ELLIPSIS)
    assert result.attempted > 0, f"{name} has no examples"
    assert result.failed == 0
