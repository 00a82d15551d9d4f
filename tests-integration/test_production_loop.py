"""The closed loop of examples/production_loop.py: alarms after the change only, then deploy."""

from __future__ import annotations

import importlib.util
import json
from pathlib import Path

_EXAMPLE = Path(__file__).parents[1] / "examples" / "production_loop.py"


def _load() -> object:
    spec = importlib.util.spec_from_file_location("production_loop", _EXAMPLE)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


async def test_loop_detects_after_the_change_reoptimises_and_gates(tmp_path: Path) -> None:
    loop = _load()
    story = await loop.run_loop(tmp_path, seed=0)  # type: ignore[attr-defined]
    assert story["false_alarms"] == {"degradation": 0, "data_drift": 0, "concept_drift": 0}
    delays = story["detection_delay_hours"]
    assert delays["degradation"] == 3  # three consecutive violating windows
    assert delays["data_drift"] == 1
    assert delays["concept_drift"] is not None and 1 <= delays["concept_drift"] <= 3
    assert story["best_config"]["model"] == "larger"
    assert story["decision"] == "deploy"
    saved = json.loads((tmp_path / "gate" / "gate.json").read_text())
    assert saved["decision"] == "deploy"
    report = (tmp_path / "loop.md").read_text()
    assert "| degradation | 3 | 0 |" in report
    assert "Decision recorded: **deploy**" in report
