"""Command-line entry points (click); the ``crux`` facade mounts them.

``gate_command`` exits 0 (deploy), 1 (reject) or 2 (need more data).
"""

from __future__ import annotations

import asyncio
import json
import sys
from pathlib import Path
from typing import Any

import click
import polars as pl

__all__ = ["abtest_group", "gate_command", "monitor_group", "optimize_command"]


def _dataset(spec: str) -> Any:
    """A dataset from a JSONL file of items (``id``, ``input``, ``expected``) or a registry name."""
    from crucible.core import Item

    path = Path(spec)
    if path.is_file():
        items = []
        for i, line in enumerate(path.read_text().splitlines()):
            if not line.strip():
                continue
            row = json.loads(line)
            items.append(
                Item(
                    str(row.get("id", i)),
                    row["input"],
                    row.get("expected"),
                    row.get("metadata") or {},
                )
            )
        return items
    from crucible.datasets import load

    return load(spec)


@click.command("gate")
@click.option("--candidate", required=True, help="Candidate model spec (e.g. sim:model-b).")
@click.option("--baseline", required=True, help="Baseline model spec (e.g. sim:model-a).")
@click.option("--dataset", required=True, help="JSONL file of items or a dataset name.")
@click.option(
    "--require",
    "requirements",
    multiple=True,
    default=("accuracy >= baseline - 0.01",),
    show_default=True,
    help="A requirement; repeat for several.",
)
@click.option("--alpha", default=0.05, show_default=True, type=float)
@click.option("--power", default=0.8, show_default=True, type=float)
@click.option("--budget-usd", type=float, default=None)
@click.option("--fixed", is_flag=True, help="Fixed-sample design instead of sequential looks.")
@click.option("--run-dir", type=click.Path(path_type=Path), default=None)
@click.option("--prompt", default="{input}", show_default=True)
@click.option("--seed", default=0, show_default=True, type=int)
def gate_command(
    candidate: str,
    baseline: str,
    dataset: str,
    requirements: tuple[str, ...],
    alpha: float,
    power: float,
    budget_usd: float | None,
    fixed: bool,
    run_dir: Path | None,
    prompt: str,
    seed: int,
) -> None:
    """Gate a candidate against the baseline: exit 0 deploy, 1 reject, 2 need more data."""
    from crucible.core import CrucibleError
    from crucible.production_eval._gate import gate

    try:
        decision = asyncio.run(
            gate(
                candidate,
                baseline,
                _dataset(dataset),
                requirements=list(requirements),
                alpha=alpha,
                power=power,
                budget_usd=budget_usd,
                sequential=not fixed,
                run_dir=run_dir,
                prompt=prompt,
                seed=seed,
            )
        )
    except CrucibleError as exc:
        click.echo(f"error: {exc}", err=True)
        sys.exit(3)
    click.echo(str(decision))
    sys.exit(decision.exit_code)


@click.group("monitor")
def monitor_group() -> None:
    """Monitor production events against a baseline."""


def _open_monitor(
    store: Path,
    baseline: Path,
    metrics: tuple[str, ...],
    window: str,
    alpha: float,
    consecutive: int,
) -> Any:
    from crucible.production_eval._events import read_events
    from crucible.production_eval._monitor import Monitor

    return Monitor(
        read_events(baseline),
        metrics=list(metrics),
        window=window,
        alpha=alpha,
        consecutive=consecutive,
        store=store,
    )


_monitor_options = [
    click.option(
        "--store",
        type=click.Path(path_type=Path),
        default=Path("monitor.duckdb"),
        show_default=True,
    ),
    click.option(
        "--baseline",
        type=click.Path(exists=True, path_type=Path),
        required=True,
        help="Baseline events (JSONL, CSV, Parquet or OTLP JSON).",
    ),
    click.option("--metric", "metrics", multiple=True, default=("pass_rate",), show_default=True),
    click.option("--window", default="1h", show_default=True),
    click.option("--alpha", default=0.01, show_default=True, type=float),
    click.option("--consecutive", default=3, show_default=True, type=int),
]


def _with_monitor_options(fn: Any) -> Any:
    for option in reversed(_monitor_options):
        fn = option(fn)
    return fn


@monitor_group.command("ingest")
@click.argument("files", nargs=-1, type=click.Path(exists=True, path_type=Path))
@_with_monitor_options
def monitor_ingest(
    files: tuple[Path, ...],
    store: Path,
    baseline: Path,
    metrics: tuple[str, ...],
    window: str,
    alpha: float,
    consecutive: int,
) -> None:
    """Ingest event files (idempotent by event id) and evaluate closed windows."""
    with _open_monitor(store, baseline, metrics, window, alpha, consecutive) as mon:
        for f in files:
            report = mon.ingest(f)
            click.echo(
                f"{f}: {report.inserted} new, {report.duplicates} already stored, "
                f"skipped {report.skipped}"
            )
        for alert in mon.evaluate():
            click.echo(str(alert))


@monitor_group.command("status")
@_with_monitor_options
def monitor_status(
    store: Path,
    baseline: Path,
    metrics: tuple[str, ...],
    window: str,
    alpha: float,
    consecutive: int,
) -> None:
    """Print every evaluated window."""
    with _open_monitor(store, baseline, metrics, window, alpha, consecutive) as mon:
        for row in mon.status().iter_rows(named=True):
            head = f"{row['window_start']} {row['metric']:<16} n={row['n']:<6}"
            if row["skipped"] is not None:
                click.echo(f"{head} skipped: {row['skipped']}")
                continue
            flag = "VIOLATED" if row["violated"] else "ok"
            click.echo(
                f"{head} {row['estimate']:.4g} vs baseline {row['baseline']:.4g} "
                f"(p = {row['p_value']:.3g}) {flag}"
            )


@monitor_group.command("alerts")
@_with_monitor_options
def monitor_alerts(
    store: Path,
    baseline: Path,
    metrics: tuple[str, ...],
    window: str,
    alpha: float,
    consecutive: int,
) -> None:
    """Print every alert."""
    with _open_monitor(store, baseline, metrics, window, alpha, consecutive) as mon:
        for row in mon.alerts().iter_rows(named=True):
            click.echo(
                f"{row['window_start']} [{row['kind']}] {row['message']} "
                f"(false-alarm rate {row['false_alarm_rate']:.2e})"
            )


@click.group("abtest")
def abtest_group() -> None:
    """Design and analyse A/B/n tests."""


@abtest_group.command("design")
@click.option("--variants", default=2, show_default=True, type=int)
@click.option("--metric", type=click.Choice(["proportion", "mean"]), default="proportion")
@click.option("--mde", required=True, type=float)
@click.option("--baseline", type=float, default=None, help="Control rate (proportions).")
@click.option("--sd", type=float, default=None, help="Standard deviation (means).")
@click.option("--alpha", default=0.05, show_default=True, type=float)
@click.option("--power", default=0.8, show_default=True, type=float)
def abtest_design(
    variants: int,
    metric: str,
    mde: float,
    baseline: float | None,
    sd: float | None,
    alpha: float,
    power: float,
) -> None:
    """Sample size per variant."""
    from crucible.production_eval._abdesign import design_experiment

    click.echo(
        str(design_experiment(variants, metric, mde, alpha, power, baseline=baseline, sd=sd))
    )


@abtest_group.command("analyze")
@click.argument("data", type=click.Path(exists=True, path_type=Path))
@click.option("--variant-col", default="variant", show_default=True)
@click.option("--metric", "metrics", multiple=True, required=True)
@click.option("--control", default=None)
@click.option("--covariate", default=None, help="Pre-period column for CUPED.")
@click.option("--alpha", default=0.05, show_default=True, type=float)
def abtest_analyze(
    data: Path,
    variant_col: str,
    metrics: tuple[str, ...],
    control: str | None,
    covariate: str | None,
    alpha: float,
) -> None:
    """Analyse a CSV or Parquet file with one row per unit."""
    from crucible.production_eval._abtest import analyze_experiment

    df = pl.read_parquet(data) if data.suffix == ".parquet" else pl.read_csv(data)
    click.echo(
        str(
            analyze_experiment(
                df, variant_col, list(metrics), control=control, covariate=covariate, alpha=alpha
            )
        )
    )


@click.command("optimize")
@click.option("--dataset", required=True)
@click.option("--model", "models", multiple=True, required=True, help="Model choices.")
@click.option("--prompt", "prompts", multiple=True, default=("{input}",), show_default=True)
@click.option("--temperature", nargs=2, type=float, default=None)
@click.option("--n-trials", default=10, show_default=True, type=int)
@click.option("--budget-usd", required=True, type=float)
@click.option("--seed", default=0, show_default=True, type=int)
def optimize_command(
    dataset: str,
    models: tuple[str, ...],
    prompts: tuple[str, ...],
    temperature: tuple[float, float] | None,
    n_trials: int,
    budget_usd: float,
    seed: int,
) -> None:
    """Search models, prompts and temperature for accuracy within a dollar budget."""
    from crucible.core import CrucibleError
    from crucible.production_eval._optimize import optimize

    space: dict[str, Any] = {"model": list(models), "prompt": list(prompts)}
    if temperature:
        space["temperature"] = tuple(temperature)
    try:
        result = asyncio.run(
            optimize(
                space,
                "accuracy",
                _dataset(dataset),
                n_trials=n_trials,
                budget_usd=budget_usd,
                seed=seed,
            )
        )
    except CrucibleError as exc:
        click.echo(f"error: {exc}", err=True)
        sys.exit(3)
    click.echo(str(result))
