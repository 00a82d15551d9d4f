"""The deployment gate on simulated models: decisions, evidence, sequential stopping, CLI."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import polars as pl
import pytest
from click.testing import CliRunner

from crucible.bench import sample_size, ttest
from crucible.core import Item
from crucible.harness import load_run
from crucible.production_eval import (
    Decision,
    GateBudgetError,
    ProductionEvalError,
    RequirementError,
    gate,
    paired_values,
)
from crucible.production_eval.cli import gate_command


def _items(n: int) -> list[Item]:
    return [Item(str(i), f"What is {i} + {i}?", str(2 * i)) for i in range(n)]


async def test_better_candidate_is_deployed_early(tmp_path: Path) -> None:
    # sim:model-b (91 %, 600 ms) against sim:model-a (87 %, 800 ms).
    d = await gate(
        "sim:model-b",
        "sim:model-a",
        _items(1500),
        run_dir=tmp_path,
        requirements=[
            "accuracy >= baseline - 0.05",
            "latency_p95 <= 1.1 * baseline",
            "error_rate <= 0.05",
        ],
    )
    assert d.decision is Decision.DEPLOY and d.exit_code == 0
    assert d.looks < 5  # stopped before the planned items were used
    assert d.items_used < d.n_planned
    assert d.trials_used == 2 * d.items_used
    acc = d.requirements[0]
    assert acc.status == "pass" and acc.ci_low > -0.05
    assert "anytime-valid" in acc.method
    run = load_run(tmp_path)
    cand, base, _ = paired_values(run.trials, "accuracy")
    assert acc.estimate == pytest.approx(float((cand - base).mean()))
    assert acc.p_value == pytest.approx(ttest(cand - base, mu=-0.05, alternative="greater").p_value)
    assert d.cost_usd == pytest.approx(float(run.trials["cost_usd"].sum()))
    saved = json.loads((tmp_path / "gate.json").read_text())
    assert saved["decision"] == "deploy"
    assert "| accuracy >= baseline - 0.05 | pass |" in (tmp_path / "gate.md").read_text()
    assert "<table>" in (tmp_path / "gate.html").read_text()


async def test_slower_candidate_is_rejected_on_latency(tmp_path: Path) -> None:
    d = await gate(
        "sim:model-a",
        "sim:model-b",
        _items(800),
        run_dir=tmp_path,
        requirements=["latency_p95 <= 1.1 * baseline"],
    )
    assert d.decision is Decision.REJECT and d.exit_code == 1
    lat = d.requirements[0]
    assert lat.status == "fail" and lat.ci_low > 1.1
    cand, base, _ = paired_values(load_run(tmp_path).trials, "latency_p95")
    assert lat.estimate == pytest.approx(float(np.quantile(cand, 0.95) / np.quantile(base, 0.95)))


async def test_fixed_design_uses_every_planned_item_and_holm(tmp_path: Path) -> None:
    d = await gate(
        "sim:model-b",
        "sim:model-a",
        _items(300),
        run_dir=tmp_path,
        sequential=False,
        requirements=["accuracy >= baseline - 0.1", "cost_per_query <= 1.2 * baseline"],
    )
    # Power analysis: paired t, d_z = 0.1 / 0.5, one-sided alpha 0.05 / 2, power 0.8.
    n = sample_size("paired-t", effect=0.2, alpha=0.025, power=0.8, alternative="greater").n
    assert d.n_required == n and d.n_planned == n
    assert d.looks == 1 and d.items_used == n
    ps = np.array([r.p_value for r in d.requirements])
    # Holm with two p-values: min(1, 2 * p_min) then max with the larger one.
    order = np.argsort(ps)
    expected = np.empty(2)
    expected[order[0]] = min(1.0, 2 * ps[order[0]])
    expected[order[1]] = max(expected[order[0]], ps[order[1]])
    assert [r.adjusted_p_value for r in d.requirements] == pytest.approx(expected.tolist())
    assert d.decision is Decision.REJECT  # model-b costs more than 1.2x model-a


async def test_budget_stops_the_gate_with_need_more_data(tmp_path: Path) -> None:
    d = await gate(
        "sim:model-b",
        "sim:model-a",
        _items(1000),
        run_dir=tmp_path,
        budget_usd=0.2,
        requirements=["accuracy >= baseline + 0.05"],
    )
    assert d.decision is Decision.NEED_MORE_DATA and d.exit_code == 2
    assert d.cost_usd <= 0.2 + 0.01
    assert "budget" in d.reason


async def test_bad_gate_input(tmp_path: Path) -> None:
    with pytest.raises(GateBudgetError, match="`budget_usd`"):
        await gate(
            "sim:model-b",
            "sim:model-a",
            _items(10),
            requirements=["accuracy >= baseline"],
            budget_usd=0,
        )
    with pytest.raises(RequirementError, match=r"requirements\[1\]"):
        await gate(
            "sim:model-b",
            "sim:model-a",
            _items(10),
            requirements=["accuracy >= baseline", "latency <= baseline"],
        )
    with pytest.raises(ProductionEvalError, match="`dataset` is empty"):
        await gate("sim:model-b", "sim:model-a", [], requirements=["accuracy >= baseline"])
    with pytest.raises(ProductionEvalError, match="`alpha`"):
        await gate(
            "sim:model-b",
            "sim:model-a",
            _items(10),
            requirements=["accuracy >= baseline"],
            alpha=0.7,
        )


def test_gate_command_exit_codes(tmp_path: Path) -> None:
    data = tmp_path / "items.jsonl"
    data.write_text(
        "\n".join(
            json.dumps({"id": str(i), "input": f"What is {i} + {i}?", "expected": str(2 * i)})
            for i in range(400)
        )
    )
    runner = CliRunner()
    ok = runner.invoke(
        gate_command,
        [
            "--candidate",
            "sim:model-b",
            "--baseline",
            "sim:model-a",
            "--dataset",
            str(data),
            "--require",
            "latency_p95 <= 1.1 * baseline",
            "--run-dir",
            str(tmp_path / "a"),
        ],
    )
    assert ok.exit_code == 0, ok.output
    assert "DEPLOY" in ok.output
    bad = runner.invoke(
        gate_command,
        [
            "--candidate",
            "sim:model-a",
            "--baseline",
            "sim:model-b",
            "--dataset",
            str(data),
            "--require",
            "latency_p95 <= 1.1 * baseline",
            "--run-dir",
            str(tmp_path / "b"),
        ],
    )
    assert bad.exit_code == 1, bad.output
    unsure = runner.invoke(
        gate_command,
        [
            "--candidate",
            "sim:model-b",
            "--baseline",
            "sim:model-a",
            "--dataset",
            str(data),
            "--require",
            "accuracy >= baseline + 0.04",
            "--run-dir",
            str(tmp_path / "c"),
        ],
    )
    assert unsure.exit_code == 2, unsure.output


class _FlagSevens:
    """A guard stand-in: flags every prediction containing a 7."""

    def check_output(self, text: str) -> object:
        class Result:
            safe = "7" not in text

        return Result()


async def test_guard_checks_feed_a_detection_rate_requirement(tmp_path: Path) -> None:
    d = await gate(
        "sim:model-b",
        "sim:model-a",
        _items(200),
        run_dir=tmp_path,
        sequential=False,
        requirements=["guard_detection_rate <= 0.05"],
        guard=_FlagSevens(),
    )
    flagged = [
        float("7" in str(p))
        for p in load_run(tmp_path).trials.filter(pl.col("condition") == "candidate")["prediction"]
    ]
    assert d.requirements[0].estimate == pytest.approx(float(np.mean(flagged)))
    assert d.decision is Decision.REJECT  # about a third of the answers contain a 7
    with pytest.raises(RequirementError, match="needs guard checks"):
        await gate(
            "sim:model-b", "sim:model-a", _items(20), requirements=["guard_detection_rate <= 0.05"]
        )


async def test_default_guard_is_imported_lazily(tmp_path: Path) -> None:
    d = await gate(
        "sim:model-b",
        "sim:model-a",
        _items(60),
        run_dir=tmp_path,
        sequential=False,
        requirements=["guard_detection_rate <= 0.5"],
        guard=True,
    )
    assert d.requirements[0].estimate == 0.0  # numeric answers carry no PII or secrets
    assert d.decision is Decision.DEPLOY
