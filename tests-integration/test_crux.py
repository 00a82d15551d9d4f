"""The harness commands through the `crux` entry point of crucible-framework."""

from __future__ import annotations

from pathlib import Path

from click.testing import CliRunner

from crucible.framework.cli import cli as main


def test_demo_report_gate_reproduce_through_crux(tmp_path: Path) -> None:
    runner = CliRunner()
    run_dir = tmp_path / "demo"
    demo = runner.invoke(
        main, ["demo", "--run-dir", str(run_dir), "--items", "20", "--repeats", "1", "--quiet"]
    )
    assert demo.exit_code == 0, demo.output
    assert (run_dir / "report" / "report.html").exists()
    report = runner.invoke(main, ["report", str(run_dir), "--format", "json,csv"])
    assert report.exit_code == 0, report.output
    assert (run_dir / "report" / "trials.csv").exists()
    holds = runner.invoke(
        main, ["gate", str(run_dir), "--require", "ensemble_3model >= single_model - 0.9"]
    )
    assert holds.exit_code == 0, holds.output
    fails = runner.invoke(
        main, ["gate", str(run_dir), "--require", "ensemble_3model >= single_model + 0.9"]
    )
    assert fails.exit_code == 1
    same = runner.invoke(main, ["reproduce", str(run_dir), "--out", str(tmp_path / "again")])
    assert same.exit_code == 0, same.output
    compared = runner.invoke(main, ["compare", str(run_dir), str(tmp_path / "again"), "--json"])
    assert compared.exit_code == 0
    assert '"design": "paired"' in compared.output
