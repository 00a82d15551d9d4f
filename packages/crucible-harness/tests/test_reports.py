"""Reports, gates, run comparison and reproduction on a demo run (simulated models)."""

from __future__ import annotations

import json
import re
import shutil
import subprocess
from pathlib import Path

import duckdb
import polars as pl
import pytest
from click.testing import CliRunner
from polars.testing import assert_frame_equal

from crucible.harness import analyze, gate, load_run, write_report
from crucible.harness.cli import (
    compare_command,
    demo_command,
    gate_command,
    report_command,
    reproduce_command,
)

PLANTED = "sk-planted-0123456789abcdef"


@pytest.fixture(scope="module")
def demo_run(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """`crux demo` with 30 items, 2 repeats, and an API key planted in the environment."""
    where = tmp_path_factory.mktemp("demo") / "run"
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("OPENAI_API_KEY", PLANTED)
        mp.setenv("ANTHROPIC_API_KEY", PLANTED)
        result = CliRunner().invoke(
            demo_command,
            ["--run-dir", str(where), "--items", "30", "--repeats", "2", "--quiet"],
        )
    assert result.exit_code == 0, result.output
    assert f"HTML report: {where / 'report' / 'report.html'}" in result.output
    assert f"Markdown report: {where / 'report' / 'report.md'}" in result.output
    return where


def test_demo_reports_are_written(demo_run: Path) -> None:
    md = (demo_run / "report" / "report.md").read_text()
    for title in (
        "1. Executive Summary",
        "2. Descriptive Statistics",
        "3. Statistical Analysis",
        "4. Visualisations",
        "5. Per-Item Detail",
        "6. Failure Analysis",
        "7. Ensemble Consensus Analysis",
        "8. Cost-Benefit Analysis",
        "9. Conclusions",
        "10. Reproducibility",
        "11. References",
    ):
        assert f"## {title}" in md
    analysis = analyze(demo_run)
    c = analysis.comparison("accuracy", "ensemble_3model", "single_model")
    # The summary quotes the computed difference and p-value, not canned text.
    assert f"{100 * c.estimate:+.1f} pp" in md
    assert "McNemar" in md or "Miller" in md
    # The demo declares the guide's hypothesis; its verdict follows from the CI.
    (verdict,) = analysis.hypotheses
    assert verdict.hypothesis == "ensemble_3model >= single_model + 0.05 on accuracy"
    assert verdict.verdict.value == (
        "supported" if c.ci_low >= 0.05 else "not supported" if c.ci_high < 0.05 else "inconclusive"
    )
    assert f"| {verdict.verdict.value.upper()} |" in md
    assert "Simulated models were used" in md
    assert "*Assumption checks on the paired differences*" in md
    assert (demo_run / "report" / "figures" / "accuracy.png").stat().st_size > 1000


def test_all_formats_and_no_secret(demo_run: Path, tmp_path: Path) -> None:
    out = tmp_path / "rep"
    written = write_report(demo_run, "md,html,tex,ipynb,json,parquet,csv", out_dir=out)
    assert sorted(written) == ["csv", "html", "ipynb", "json", "md", "parquet", "tex"]
    for path in out.rglob("*"):
        if path.is_file() and path.suffix in {".md", ".html", ".tex", ".ipynb", ".json", ".csv"}:
            assert PLANTED not in path.read_text(), path
    assert PLANTED not in (demo_run / "manifest.json").read_text()
    html = written["html"].read_text()
    assert html.count("data:image/png;base64,") == 4
    assert not re.search(r"(src|href)=\"(https?:|//|figures/)", html)
    assert "<script" not in html
    trials = load_run(demo_run).trials
    assert_frame_equal(pl.read_parquet(written["parquet"]), trials)
    assert pl.read_csv(written["csv"]).height == trials.height
    data = json.loads(written["json"].read_text())
    analysis = analyze(demo_run)
    assert [c["p_value"] for c in data["comparisons"]] == [c.p_value for c in analysis.comparisons]
    manifest = data["manifest"]
    for key in ("config", "dataset", "price_table", "seeds", "packages", "python", "platform"):
        assert key in manifest
    tex = written["tex"].read_text()
    assert "\\usepackage{booktabs}" in tex and "\\toprule" in tex and "\\midrule" in tex


def _tex_engine() -> str | None:
    return next((e for e in ("pdflatex", "lualatex", "xelatex") if shutil.which(e)), None)


@pytest.mark.skipif(_tex_engine() is None, reason="no TeX engine (pdflatex/lualatex) installed")
def test_latex_compiles(demo_run: Path, tmp_path: Path) -> None:
    written = write_report(demo_run, "tex", out_dir=tmp_path)
    engine = _tex_engine()
    assert engine is not None
    done = subprocess.run(
        [engine, "-interaction=nonstopmode", "-halt-on-error", "report.tex"],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stdout[-3000:]
    assert "Overfull \\hbox" not in done.stdout  # long manifest lines wrap
    assert (tmp_path / "report.pdf").stat().st_size > 10_000
    assert written["tex"].exists()


def test_notebook_executes_and_matches(demo_run: Path, tmp_path: Path) -> None:
    nbformat = pytest.importorskip("nbformat")
    nbclient = pytest.importorskip("nbclient")
    written = write_report(demo_run, "ipynb", out_dir=tmp_path)
    nb = nbformat.read(str(written["ipynb"]), as_version=4)
    nbclient.NotebookClient(nb, timeout=120, kernel_name="python3").execute()
    outputs = nb.cells[-1].outputs
    numbers = json.loads(
        "".join(o.get("text", "") for o in outputs if o["output_type"] == "stream")
    )
    analysis = analyze(demo_run)
    for cond in analysis.conditions:
        assert numbers["accuracy"][cond] == pytest.approx(
            analysis.descriptive("accuracy", cond).mean, rel=1e-12
        )
    for c in analysis.comparisons:
        assert numbers["p_values"][f"{c.metric}:{c.a}|{c.b}"] == pytest.approx(c.p_value, rel=1e-12)
    assert any(o["output_type"] == "display_data" for o in nb.cells[4].outputs)


def test_report_command(demo_run: Path, tmp_path: Path) -> None:
    result = CliRunner().invoke(
        report_command, [str(demo_run), "--format", "md,json", "--out", str(tmp_path)]
    )
    assert result.exit_code == 0, result.output
    assert (tmp_path / "report.md").exists() and (tmp_path / "analysis.json").exists()
    bad = CliRunner().invoke(report_command, [str(demo_run), "--format", "docx"])
    assert bad.exit_code == 1
    assert "unknown format 'docx'" in bad.output


def test_gate_exit_codes(demo_run: Path) -> None:
    c = analyze(demo_run).comparison("accuracy", "ensemble_3model", "single_model")
    runner = CliRunner()

    def code(*requirements: str) -> int:
        args = [str(demo_run)]
        for r in requirements:
            args += ["--require", r]
        return runner.invoke(gate_command, args).exit_code

    below, above = c.ci_low - 0.01, c.ci_high + 0.01
    holds = (
        f"ensemble_3model >= single_model - {abs(below):.4f}"
        if below < 0
        else (f"ensemble_3model >= single_model + {below:.4f}")
    )
    fails = f"ensemble_3model >= single_model + {above:.4f}"
    middle = (c.ci_low + c.ci_high) / 2
    unsure = f"ensemble_3model >= single_model {'+' if middle >= 0 else '-'} {abs(middle):.4f}"
    assert code(holds + " on accuracy") == 0
    assert code(fails + " on accuracy") == 1
    assert code(unsure) == 2
    assert code(holds, fails, unsure) == 1
    assert code(holds, unsure) == 2
    assert code("ensemble_3model <= single_model + 100000 on latency_ms") == 0
    assert code("nonsense") == 1
    result = gate(demo_run, [holds])
    assert result.passed and result.results[0].ci_low == pytest.approx(c.ci_low)


def test_compare_command(demo_run: Path, tmp_path: Path) -> None:
    other = tmp_path / "other"
    CliRunner().invoke(
        demo_command,
        ["--run-dir", str(other), "--items", "30", "--repeats", "2", "--seed", "7", "--quiet"],
    )
    result = CliRunner().invoke(compare_command, [str(demo_run), str(other), "--json"])
    assert result.exit_code == 0, result.output
    rows = json.loads(result.output)
    assert {r["a"] for r in rows} == {"single_model", "ensemble_3model"}
    assert all(r["design"] == "paired" for r in rows)


def test_reproduce_identical_then_tampered(demo_run: Path, tmp_path: Path) -> None:
    runner = CliRunner()
    result = runner.invoke(reproduce_command, [str(demo_run), "--out", str(tmp_path / "r1")])
    assert result.exit_code == 0, result.output
    assert "bit for bit" in result.output
    tampered = tmp_path / "tampered"
    shutil.copytree(demo_run, tampered)
    con = duckdb.connect(str(tampered / "run.duckdb"))
    con.execute(
        "UPDATE trials SET prediction = 'Z' WHERE item_id = (SELECT min(item_id) FROM trials) "
        "AND condition = 'single_model' AND \"repeat\" = 0"
    )
    con.close()
    result = runner.invoke(reproduce_command, [str(tampered), "--out", str(tmp_path / "r2")])
    assert result.exit_code == 1
    assert "1 values differ" in result.output
    assert "prediction: 'Z' ->" in result.output
