"""Experiments written as Python files exposing ``experiment``, and the built-in demo."""

from __future__ import annotations

import os
import runpy
from pathlib import Path
from typing import Any

from crucible.harness._demo import DEMO_SOURCE, demo_experiment
from crucible.harness._errors import ExperimentError
from crucible.harness._experiment import Experiment

__all__ = ["demo_source", "load_experiment"]


def demo_source(items: int, repeats: int, seed: int) -> str:
    """The source string recorded for a demo run, so it can be resumed."""
    return f"{DEMO_SOURCE}:items={items},repeats={repeats},seed={seed}"


def _demo(source: str) -> Experiment:
    options: dict[str, int] = {}
    _, _, args = source.partition(":")
    for part in filter(None, args.split(",")):
        key, _, value = part.partition("=")
        if key not in ("items", "repeats", "seed") or not value.isdigit():
            raise ExperimentError(f"malformed demo source {source!r}")
        options[key] = int(value)
    return demo_experiment(
        items=options.get("items", 100),
        repeats=options.get("repeats", 3),
        seed=options.get("seed", 42),
    )


def load_experiment(source: str | os.PathLike[str]) -> Experiment:
    """Load the ``experiment`` defined by a Python file (or ``"demo"``).

    The file is executed as a script (``__name__`` is not ``"__main__"``) and must define
    ``experiment``: an :class:`Experiment`, or a function without arguments returning one.

    Raises:
        ExperimentError: the file is missing, fails, or defines no ``experiment``.
    """
    text = os.fspath(source)
    if text == DEMO_SOURCE or text.startswith(DEMO_SOURCE + ":"):
        return _demo(text)
    path = Path(text)
    if not path.is_file():
        raise ExperimentError(f"experiment file {text!r} does not exist")
    if path.suffix != ".py":
        raise ExperimentError(f"experiment file {text!r} must be a Python file (.py)")
    try:
        namespace: dict[str, Any] = runpy.run_path(str(path), run_name="__crucible_experiment__")
    except ExperimentError:
        raise
    except Exception as exc:
        raise ExperimentError(f"{text}: {type(exc).__name__}: {exc}") from exc
    found = namespace.get("experiment")
    if callable(found) and not isinstance(found, Experiment):
        found = found()
    if not isinstance(found, Experiment):
        raise ExperimentError(
            f"{text} must define `experiment = Experiment(...)` (or a function returning one); "
            f"found {type(found).__name__ if found is not None else 'nothing'}"
        )
    return found
