"""The ten getting-started examples in fast mode: each runs offline and its analysis holds
the numbers the example is about, with paired tests wherever the conditions share items."""

from __future__ import annotations

import math
import os
import runpy
import subprocess
import sys
from pathlib import Path
from typing import Any

import polars as pl
import pytest

from crucible.harness import Analysis, analyze, gate

EXAMPLES = Path(__file__).resolve().parent.parent / "examples"


def example(name: str) -> dict[str, Any]:
    if str(EXAMPLES) not in sys.path:
        sys.path.insert(0, str(EXAMPLES))
    return runpy.run_path(str(EXAMPLES / f"{name}.py"), run_name="example")


def run(name: str, tmp_path: Path, report: bool = False) -> Any:
    return example(name)["main"](fast=True, run_dir=str(tmp_path / name), report=report)


def assert_all_paired(analysis: Analysis) -> None:
    assert analysis.comparisons
    for c in analysis.comparisons:
        assert c.design == "paired", c
        assert "same" in c.reason


def test_prompt_ab_test(tmp_path: Path) -> None:
    analysis = run("prompt_ab_test", tmp_path, report=True)
    assert_all_paired(analysis)
    c = analysis.comparison("accuracy", "prompt_b", "prompt_a")
    assert c.test.startswith("paired difference of item means")  # 3 repeats averaged
    assert c.estimate > 0
    assert [h.hypothesis for h in analysis.hypotheses] == ["prompt_b > prompt_a on accuracy"]
    html = (tmp_path / "prompt_ab_test" / "report" / "report.html").read_text()
    assert "data:image/png;base64," in html


def test_model_comparison_bonferroni(tmp_path: Path) -> None:
    analysis = run("model_comparison", tmp_path)
    assert_all_paired(analysis)
    assert analysis.correction == "bonferroni"
    assert {o.metric for o in analysis.omnibus} >= {"accuracy", "latency_ms", "cost_usd"}
    for c in analysis.comparisons:
        assert c.p_adjusted == pytest.approx(min(1.0, 3 * c.p_value))
    assert analysis.cluster_field == "subject"


def test_ensemble_size(tmp_path: Path) -> None:
    analysis = run("ensemble_size", tmp_path)
    assert_all_paired(analysis)
    assert set(analysis.consensus["condition"].to_list()) == {
        "ensemble_3",
        "ensemble_5",
        "ensemble_7",
    }
    costs = [analysis.descriptive("cost_usd", c).mean for c in analysis.conditions]
    assert costs == sorted(costs)
    assert analysis.omnibus[0].k == 4


def test_hedging_latency(tmp_path: Path) -> None:
    analysis = run("hedging_latency", tmp_path)
    assert_all_paired(analysis)
    base = analysis.descriptive("latency_ms", "baseline")
    hedged = analysis.descriptive("latency_ms", "hedged_p95")
    assert hedged.p99 < base.p99
    c = analysis.comparison("latency_ms", "hedged_p95", "baseline")
    assert c.test in {"paired t", "Wilcoxon signed-rank"}
    assert c.estimate < 0


def test_voting_strategies(tmp_path: Path) -> None:
    analysis = run("voting_strategies", tmp_path)
    assert_all_paired(analysis)
    assert set(analysis.consensus["condition"].to_list()) == {
        "majority",
        "weighted",
        "best_confidence",
    }
    shares = analysis.consensus.group_by("condition").agg(pl.col("share").sum())
    assert shares["share"].to_list() == pytest.approx([1.0, 1.0, 1.0])


def test_cost_accuracy(tmp_path: Path) -> None:
    analysis = run("cost_accuracy", tmp_path)
    assert_all_paired(analysis)
    table = analysis.cost_benefit
    for row in table.iter_rows(named=True):
        assert row["cost_per_correct"] == pytest.approx(row["total_cost"] / row["correct"])
    cheapest = table.sort("cost_per_query").row(0, named=True)
    assert cheapest["pareto"]  # nothing is cheaper, so nothing dominates it


def test_execution_strategies(tmp_path: Path) -> None:
    analysis = run("execution_strategies", tmp_path)
    assert_all_paired(analysis)
    c = analysis.comparison("cost_usd", "cascade", "parallel")
    assert c.estimate < 0 and c.p_adjusted < 0.05


def test_dataset_comparison(tmp_path: Path) -> None:
    analyses, across = run("dataset_comparison", tmp_path)
    assert set(analyses) == {"mmlu", "gsm8k", "truthfulqa"}
    for analysis in analyses.values():
        assert_all_paired(analysis)
    # Different datasets share no items: the only unpaired comparison, and it says why.
    assert across and all(c.design == "unpaired" for c in across)
    assert all("share no items" in c.reason for c in across)


def test_temperature_sensitivity(tmp_path: Path) -> None:
    analysis = run("temperature_sensitivity", tmp_path)
    assert_all_paired(analysis)
    acc = [analysis.descriptive("accuracy", c).mean for c in analysis.conditions]
    assert acc[0] > acc[-1]
    omni = next(o for o in analysis.omnibus if o.metric == "accuracy")
    assert omni.test == "Friedman" and omni.p_value < 0.05


def test_customer_support(tmp_path: Path) -> None:
    module = example("customer_support")
    analysis = module["main"](fast=True, run_dir=str(tmp_path / "cs"), report=False)
    assert_all_paired(analysis)
    assert analysis.comparison("accuracy", "proposed_ensemble", "production_single").test == (
        "McNemar exact"
    )
    verdict = gate(analysis.run_dir, module["REQUIREMENTS"])
    c = analysis.comparison("accuracy", "proposed_ensemble", "production_single")
    expected = 0 if c.ci_low >= -0.02 else (1 if c.ci_high < -0.02 else 2)
    assert verdict.exit_code == expected
    numbers = module["roi"](analysis)
    gain = c.mean_a - c.mean_b
    assert numbers["error_cost_saved"] == pytest.approx(gain * 1000 * 5.0)
    assert not math.isnan(numbers["net_benefit"])


def test_example_runs_as_a_script(tmp_path: Path) -> None:
    env = {**os.environ, "CRUCIBLE_EXAMPLES_FAST": "1"}
    done = subprocess.run(
        [sys.executable, str(EXAMPLES / "voting_strategies.py")],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr[-2000:]
    assert "reports:" in done.stdout
    run_dirs = list((tmp_path / "runs").iterdir())
    assert len(run_dirs) == 1
    assert analyze(run_dirs[0]).conditions == ("majority", "weighted", "best_confidence")
