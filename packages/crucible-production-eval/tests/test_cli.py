"""The click commands the facade mounts."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np
import polars as pl
from click.testing import CliRunner

from crucible.production_eval.cli import abtest_group, monitor_group, optimize_command


def _jsonl(frame: pl.DataFrame, path: Path) -> Path:
    with path.open("w") as fh:
        for row in frame.iter_rows(named=True):
            row["time"] = row["time"].isoformat()
            fh.write(json.dumps(row) + "\n")
    return path


def test_monitor_ingest_status_alerts(tmp_path: Path, make_events: Any) -> None:
    base = _jsonl(make_events(1000, seed=9, start=100_000), tmp_path / "base.jsonl")
    acc = np.where(np.arange(800) < 300, 0.9, 0.6)
    prod = _jsonl(make_events(800, accuracy=acc), tmp_path / "prod.jsonl")
    common = [
        "--store",
        str(tmp_path / "m.duckdb"),
        "--baseline",
        str(base),
        "--metric",
        "pass_rate",
    ]
    runner = CliRunner()
    first = runner.invoke(monitor_group, ["ingest", str(prod), *common])
    assert first.exit_code == 0, first.output
    assert "800 new, 0 already stored" in first.output
    assert "pass_rate degraded for 3 consecutive windows" in first.output
    again = runner.invoke(monitor_group, ["ingest", str(prod), *common])
    assert "0 new, 800 already stored" in again.output
    status = runner.invoke(monitor_group, ["status", *common])
    assert status.exit_code == 0, status.output
    assert status.output.count("pass_rate") == 7
    assert status.output.count("VIOLATED") >= 3
    alerts = runner.invoke(monitor_group, ["alerts", *common])
    assert alerts.output.count("[degradation]") == 1
    assert "false-alarm rate 1.00e-06" in alerts.output


def test_abtest_commands(tmp_path: Path) -> None:
    runner = CliRunner()
    design = runner.invoke(abtest_group, ["design", "--mde", "0.02", "--baseline", "0.1"])
    assert design.exit_code == 0 and "3835 per variant" in design.output
    rng = np.random.default_rng(0)
    v = rng.choice(["A", "B"], 4000)
    pl.DataFrame(
        {"variant": v, "y": (rng.random(4000) < np.where(v == "B", 0.2, 0.1)).astype(float)}
    ).write_csv(tmp_path / "ab.csv")
    out = runner.invoke(abtest_group, ["analyze", str(tmp_path / "ab.csv"), "--metric", "y"])
    assert out.exit_code == 0, out.output
    assert "winner: B" in out.output


def test_optimize_command_refuses_an_over_budget_projection(tmp_path: Path) -> None:
    data = tmp_path / "items.jsonl"
    data.write_text(
        "\n".join(
            json.dumps({"id": str(i), "input": f"What is {i} + {i}?", "expected": str(2 * i)})
            for i in range(100)
        )
    )
    out = CliRunner().invoke(
        optimize_command,
        [
            "--dataset",
            str(data),
            "--model",
            "sim:gpt-4",
            "--n-trials",
            "40",
            "--budget-usd",
            "0.05",
        ],
    )
    assert out.exit_code == 3
    assert "exceeds `budget_usd`" in out.output
