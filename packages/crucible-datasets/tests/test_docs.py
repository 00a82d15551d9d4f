"""The examples in docstrings and the README run as written."""

from __future__ import annotations

import doctest
import importlib
import re
from pathlib import Path

import pytest

MODULES = [
    "_catalog",
    "_checks",
    "_dataset",
    "_extract",
    "_humaneval",
    "_loading",
    "_prompts",
    "_sampling",
    "_sandbox",
    "_registry",
    "_scoring",
    "_text_metrics",
    "score",
]


@pytest.mark.parametrize("name", MODULES)
def test_docstring_examples(name: str) -> None:
    module = importlib.import_module(f"crucible.datasets.{name}")
    result = doctest.testmod(module, optionflags=doctest.ELLIPSIS)
    assert result.failed == 0


def test_readme_example_runs(capsys: pytest.CaptureFixture[str]) -> None:
    readme = (Path(__file__).resolve().parents[1] / "README.md").read_text(encoding="utf-8")
    code = re.search(r"```python\n(.*?)```", readme, re.DOTALL)
    assert code is not None
    exec(compile(code.group(1), "README.md", "exec"), {"__name__": "__readme__"})
    assert "pass@1" in capsys.readouterr().out


def test_import_is_light() -> None:
    # sacrebleu and rouge-score (which imports nltk) load only when BLEU/ROUGE are used.
    import subprocess
    import sys

    code = (
        "import sys, crucible.datasets\n"
        "heavy = [m for m in ('sacrebleu', 'rouge_score', 'nltk') if m in sys.modules]\n"
        "print(','.join(heavy))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == ""
