from __future__ import annotations

import ast
from pathlib import Path
from typing import Any

import attrs
import pytest

import crucible.adversary
from crucible.adversary import VulnerableModel, red_blue
from crucible.core import ConfigurationError, Item


@attrs.frozen
class Verdict:
    safe: bool


class MarkerGuard:
    """A guard-like keyword defence: flags prompts that mention a marker or say 'ignore'."""

    name = "marker-guard"

    def check_input(self, text: str) -> Any:
        lowered = text.lower()
        return Verdict(safe="mark-" not in lowered and "ignore" not in lowered)


def strip_after_blank_line(text: str) -> str:
    """A sanitiser: keeps only the first paragraph."""
    return text.split("\n\n", 1)[0]


async def test_defences_lower_asr_and_report_false_blocks(items: list[Item]) -> None:
    items = [*items[:20], Item("mtm", "What does mark-to-market mean?", expected="fair value")]
    model = VulnerableModel(obedience=1.0, decoding=1.0)
    report = await red_blue(
        model,
        items,
        ["inject_append", "encode_base64"],
        [MarkerGuard(), strip_after_blank_line],
        seed=1,
    )
    assert report.asr("inject_append").estimate == 1.0
    assert report.asr("inject_append", "marker-guard").estimate == 0.0
    assert report.asr("inject_append", "strip_after_blank_line").estimate == 0.0
    # base64 hides the marker from the keyword guard; the sanitiser cannot split it either
    assert report.asr("encode_base64", "marker-guard").estimate == 1.0
    assert report.asr("encode_base64", "strip_after_blank_line").estimate == 1.0
    fb = report.false_blocks["marker-guard"]
    assert (fb.successes, fb.n) == (1, 21)
    assert report.false_blocks["strip_after_blank_line"].successes == 0
    rows = report.rows()
    assert {r["defence"] for r in rows} == {"none", "marker-guard", "strip_after_blank_line"}
    assert "false-block rate" in str(report)


async def test_blocking_callable(items: list[Item]) -> None:
    report = await red_blue(
        VulnerableModel(obedience=1.0), items[:10], ["inject_append"], {"block-all": lambda t: None}
    )
    assert report.asr("inject_append", "block-all").estimate == 0.0
    assert report.false_blocks["block-all"].estimate == 1.0


async def test_bad_defences(items: list[Item]) -> None:
    with pytest.raises(ConfigurationError, match="callable or have check_input"):
        await red_blue(VulnerableModel(), items[:2], ["inject_append"], {"x": 3})  # type: ignore[dict-item]
    with pytest.raises(ConfigurationError, match="'none'"):
        await red_blue(VulnerableModel(), items[:2], ["inject_append"], {"none": lambda t: t})


def test_adversary_does_not_import_guard() -> None:
    # The layering rule: adversary accepts any guard-like object and never imports crucible.guard.
    src = Path(crucible.adversary.__file__).parent
    imported = set()
    for path in src.glob("*.py"):
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.ImportFrom) and node.module:
                imported.add(node.module)
            elif isinstance(node, ast.Import):
                imported.update(alias.name for alias in node.names)
    crucible_modules = {m for m in imported if m.startswith("crucible.")}
    assert crucible_modules
    assert all(m == "crucible.core" or m.startswith("crucible.adversary") for m in crucible_modules)
