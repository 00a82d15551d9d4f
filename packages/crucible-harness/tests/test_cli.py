from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner

from crucible.harness import cli as cli_module
from crucible.harness import load_run
from crucible.harness.cli import (
    EXIT_DECLINED,
    EXIT_ERROR,
    EXIT_PARTIAL,
    cli,
    demo_command,
    estimate_command,
    resume_command,
    run_command,
)

EXPERIMENT = """
from crucible.core import Item, SimulatedModel
from crucible.harness import Budget, Condition, Experiment, Limits

items = [Item(f"q{{i}}", f"What is {{i}} + 2?", str(i + 2)) for i in range(12)]
experiment = Experiment(
    "cli-toy",
    items,
    [
        Condition("a", SimulatedModel("model-a", seed=1, error_rate=0.0)),
        Condition("b", "sim:model-b", prompt="Q: {{input}}"),
    ],
    scorers=["numeric"],
    repeats=2,
    budget=Budget(usd={usd}, confirm_above_usd={confirm}),
    limits=Limits(concurrency=4),
)
"""


def write(tmp_path: Path, usd: float | None = None, confirm: float | None = None) -> Path:
    path = tmp_path / "exp.py"
    path.write_text(EXPERIMENT.format(usd=usd, confirm=confirm))
    return path


def test_run_writes_the_run_directory_and_prints_a_summary(tmp_path: Path) -> None:
    path = write(tmp_path)
    result = CliRunner().invoke(run_command, [str(path), "--run-dir", str(tmp_path / "run")])
    assert result.exit_code == 0, result.output
    assert "cli-toy [complete]" in result.output
    assert "48/48 trials committed" in result.output
    stored = load_run(tmp_path / "run")
    assert stored.trials.height == 48
    assert stored.manifest["source"] == str(path.resolve())


def test_run_over_budget_exits_non_zero_then_resume_finishes(tmp_path: Path) -> None:
    path = write(tmp_path, usd=0.02)
    run_dir = tmp_path / "run"
    first = CliRunner().invoke(run_command, [str(path), "--run-dir", str(run_dir), "--quiet"])
    assert first.exit_code == EXIT_PARTIAL
    assert "error: run partial: budget of $0.0200 reached" in first.output
    path.write_text(EXPERIMENT.format(usd=None, confirm=None))  # raise the budget, same experiment
    second = CliRunner().invoke(resume_command, [str(run_dir), "--quiet"])
    assert second.exit_code == 0, second.output
    assert load_run(run_dir).trials.height == 48


def test_budget_raise_policy_exits_as_over_budget(tmp_path: Path) -> None:
    path = tmp_path / "exp.py"
    path.write_text(
        EXPERIMENT.format(usd=0.02, confirm=None).replace("usd=0.02", 'usd=0.02, on_exceed="raise"')
    )
    result = CliRunner().invoke(run_command, [str(path), "--run-dir", str(tmp_path / "r"), "-q"])
    assert result.exit_code == EXIT_PARTIAL
    assert result.output.startswith("error: run cli-toy-")
    assert "budget of $0.0200 reached" in result.output


def test_resume_refuses_a_changed_file(tmp_path: Path) -> None:
    path = write(tmp_path, usd=0.02)
    run_dir = tmp_path / "run"
    CliRunner().invoke(run_command, [str(path), "--run-dir", str(run_dir), "--quiet"])
    path.write_text(EXPERIMENT.format(usd=None, confirm=None).replace("seed=1", "seed=2"))
    result = CliRunner().invoke(resume_command, [str(run_dir)])
    assert result.exit_code == EXIT_ERROR
    assert "conditions.a.model.seed" in result.output
    assert result.output.count("\n") == 1  # one line


def expensive(tmp_path: Path) -> Path:
    """An experiment with a priced, non-simulated condition (its server is unreachable)."""
    path = tmp_path / "exp.py"
    path.write_text(
        EXPERIMENT.format(usd=None, confirm=0.0)
        .replace(
            'Condition("b", "sim:model-b", prompt="Q: {input}")',
            'Condition("b", "openai-compatible:big", prompt="Q: {input}", '
            'options={"base_url": "http://127.0.0.1:9/v1", "pricing": __import__("crucible.core").core.Pricing({"openai-compatible:big": {"input": 5, "output": 15}})})',
        )
        .replace("Limits(concurrency=4)", "Limits(concurrency=4, max_retries=0)")
    )
    return path


@pytest.mark.parametrize(("answer", "code"), [("n\n", EXIT_DECLINED), ("y\n", 0)])
def test_interactive_runs_ask_before_an_expensive_run(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, answer: str, code: int
) -> None:
    monkeypatch.setattr(cli_module, "_interactive", lambda: True)
    run_dir = tmp_path / "run"
    result = CliRunner().invoke(
        run_command, [str(expensive(tmp_path)), "--run-dir", str(run_dir), "--quiet"], input=answer
    )
    assert "above the confirmation threshold $0.00. Run it?" in result.output
    assert result.exit_code == code, result.output
    assert run_dir.exists() == (code == 0)
    if code == 0:
        trials = load_run(run_dir).trials
        assert trials.height == 48
        assert set(trials.filter(trials["condition"] == "b")["error_type"]) == {
            "ProviderConnectionError"
        }


def test_expensive_runs_need_confirmation_and_never_block(tmp_path: Path) -> None:
    path = expensive(tmp_path)
    run_dir = tmp_path / "run"
    result = CliRunner().invoke(run_command, [str(path), "--run-dir", str(run_dir)], input="")
    assert result.exit_code == EXIT_DECLINED
    assert "above the confirmation threshold $0.00; pass --yes" in result.output
    assert not run_dir.exists()


def test_estimate_prints_calls_tokens_and_cost(tmp_path: Path) -> None:
    path = write(tmp_path)
    result = CliRunner().invoke(estimate_command, [str(path), "--json"])
    assert result.exit_code == 0, result.output
    data = json.loads(result.output)
    assert data["calls"] == 48
    assert [c["condition"] for c in data["conditions"]] == ["a", "b"]
    assert all(c["simulated"] for c in data["conditions"])
    assert data["billable_usd"] == 0.0
    text = CliRunner().invoke(estimate_command, [str(path)]).output
    assert "total: 48 calls" in text


@pytest.mark.parametrize(
    ("content", "message"),
    [
        ("x = 1\n", "must define `experiment = Experiment(...)`"),
        ("raise RuntimeError('boom')\n", "RuntimeError: boom"),
        (
            "from crucible.harness import Condition, Experiment\n"
            "experiment = Experiment('e', [], [Condition('a', 'sim:gpt-4')])\n",
            "`dataset` 'items' is empty",
        ),
    ],
)
def test_bad_experiment_files_fail_with_one_line(
    tmp_path: Path, content: str, message: str
) -> None:
    path = tmp_path / "bad.py"
    path.write_text(content)
    result = CliRunner().invoke(run_command, [str(path), "--run-dir", str(tmp_path / "r")])
    assert result.exit_code == EXIT_ERROR
    assert message in result.output
    assert result.output.startswith("error: ")


def test_missing_run_directory_fails_cleanly(tmp_path: Path) -> None:
    result = CliRunner().invoke(resume_command, [str(tmp_path / "nope")])
    assert result.exit_code == EXIT_ERROR
    assert "is not a run directory" in result.output


def test_demo_runs_offline_and_can_be_resumed(tmp_path: Path) -> None:
    run_dir = tmp_path / "demo"
    result = CliRunner().invoke(
        demo_command, ["--run-dir", str(run_dir), "--items", "20", "--repeats", "2", "--quiet"]
    )
    assert result.exit_code == 0, result.output
    assert "ensemble_3model" in result.output and "single_model" in result.output
    assert "ensemble - single accuracy:" in result.output
    stored = load_run(run_dir)
    assert stored.trials.height == 80
    assert stored.manifest["source"] == "demo:items=20,repeats=2,seed=42"
    again = CliRunner().invoke(resume_command, [str(run_dir), "--quiet"])
    assert again.exit_code == 0, again.output


def test_the_group_lists_every_command() -> None:
    result = CliRunner().invoke(cli, ["--help"])
    for name in ("run", "estimate", "resume", "demo"):
        assert f"  {name}" in result.output
