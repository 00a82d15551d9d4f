"""Command-line entry points, mounted by crucible-framework as ``crux run``, ``crux estimate``,
``crux resume``, ``crux demo``, ``crux report``, ``crux compare``, ``crux reproduce`` and
``crux gate`` (and usable alone as the :data:`cli` group).

Exit codes: 0 success; 1 bad input or a failed run; 3 stopped by the budget (partial); 4
stopped by ``fail_on_error``; 5 confirmation needed or declined; 130 interrupted. ``crux gate``
exits 0 when every requirement holds, 1 when one fails, 2 when one is inconclusive;
``crux reproduce`` exits 1 when any trial differs. Failures print one line,
``error: <reason>``, on standard error.
"""

from __future__ import annotations

import asyncio
import datetime as _dt
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any, NoReturn

import click
from rich.console import Console
from rich.markup import escape
from rich.table import Table

from crucible.core import BudgetExceededError, CrucibleError
from crucible.harness._demo import compare_conditions
from crucible.harness._estimate import estimate
from crucible.harness._experiment import Experiment
from crucible.harness._loader import demo_source, load_experiment
from crucible.harness._result import RunResult, RunStatus
from crucible.harness._rundir import load_run
from crucible.harness._runner import run

__all__ = [
    "EXIT_DECLINED",
    "EXIT_ERROR",
    "EXIT_FAILED",
    "EXIT_INTERRUPTED",
    "EXIT_OK",
    "EXIT_PARTIAL",
    "cli",
    "compare_command",
    "demo_command",
    "estimate_command",
    "gate_command",
    "report_command",
    "reproduce_command",
    "resume_command",
    "run_command",
]

EXIT_OK = 0
EXIT_ERROR = 1
EXIT_PARTIAL = 3
EXIT_FAILED = 4
EXIT_DECLINED = 5
EXIT_INTERRUPTED = 130

_STATUS_EXIT = {
    RunStatus.COMPLETE: EXIT_OK,
    RunStatus.PARTIAL: EXIT_PARTIAL,
    RunStatus.FAILED: EXIT_FAILED,
    RunStatus.INTERRUPTED: EXIT_INTERRUPTED,
    RunStatus.CRASHED: EXIT_ERROR,
}


def _fail(reason: str, code: int = EXIT_ERROR) -> NoReturn:
    click.echo(f"error: {reason}", err=True)
    sys.exit(code)


def _guarded(action: Callable[[], Any]) -> Any:
    try:
        return action()
    except KeyboardInterrupt:
        _fail(
            "interrupted; committed trials are kept: `crux resume RUN_DIR` finishes the run",
            EXIT_INTERRUPTED,
        )
    except BudgetExceededError as exc:
        _fail(f"{exc}; resume with a larger budget: `crux resume RUN_DIR`", EXIT_PARTIAL)
    except CrucibleError as exc:
        _fail(str(exc).splitlines()[0] if str(exc) else type(exc).__name__)


def _console() -> Console:
    # Not a terminal (a pipe, a log, a test): wide enough that tables never truncate names.
    return Console() if sys.stdout.isatty() else Console(width=140)


def _default_run_dir(experiment: Experiment) -> Path:
    stamp = _dt.datetime.now(_dt.UTC).strftime("%Y%m%dT%H%M%SZ")
    return Path("runs") / f"{experiment.name}-{stamp}"


def _print_summary(result: RunResult, console: Console) -> None:
    table = Table(title=escape(f"{result.experiment} [{result.status.value}]"))
    for col in (
        "condition",
        "trials",
        "errors",
        *result.scorers,
        "p50 ms",
        "p95 ms",
        "tokens",
        "cost",
    ):
        table.add_column(col, justify="left" if col == "condition" else "right")
    for row in result.summary().iter_rows(named=True):
        scores = ["n/a" if row.get(s) is None else f"{row[s]:.3f}" for s in result.scorers]
        table.add_row(
            str(row["condition"]),
            str(row["trials"]),
            str(row["errors"]),
            *scores,
            "n/a" if row["latency_p50_ms"] is None else f"{row['latency_p50_ms']:.0f}",
            "n/a" if row["latency_p95_ms"] is None else f"{row['latency_p95_ms']:.0f}",
            str(row["tokens"]),
            f"${row['cost_usd'] or 0:.4f}",
        )
    console.print(table)
    click.echo(
        f"{result.trials.height}/{result.expected} trials committed "
        f"({result.new_trials} this session) in {result.elapsed_s:.1f} s; run directory "
        f"{result.run_dir}"
    )
    if result.reason:
        click.echo(f"stopped: {result.reason}")


def _execute(
    experiment: Experiment,
    run_dir: Path,
    *,
    resume: bool,
    force: bool,
    quiet: bool,
    source: str | None,
) -> None:
    console = _console()
    result: RunResult = _guarded(
        lambda: asyncio.run(
            run(
                experiment,
                run_dir,
                resume=resume,
                force=force,
                progress=not quiet,
                source=source,
            )
        )
    )
    if not quiet:
        _print_summary(result, console)
    code = _STATUS_EXIT[result.status]
    if code != EXIT_OK:
        _fail(
            f"run {result.status.value}: {result.reason}; resume with `crux resume {run_dir}`", code
        )


def _interactive() -> bool:
    """Whether a person can answer a prompt (standard input is a terminal)."""
    return sys.stdin.isatty()


def _confirm(experiment: Experiment, yes: bool) -> None:
    threshold = experiment.budget.confirm_above_usd
    if yes or threshold is None:
        return
    est = _guarded(lambda: estimate(experiment))
    if est.unknown_cost:
        click.echo(
            f"note: the cost of {', '.join(est.unknown_cost)} cannot be estimated from the price "
            "table; `crux estimate FILE --pilot 5` measures it",
            err=True,
        )
    if est.billable_usd <= threshold:
        return
    message = (
        f"estimated cost ${est.billable_usd:.2f} is above the confirmation threshold "
        f"${threshold:.2f}"
    )
    if not _interactive():
        _fail(message + "; pass --yes to run without asking", EXIT_DECLINED)
    click.echo(str(est), err=True)
    if not click.confirm(message + ". Run it?", default=False, err=True):
        _fail("declined", EXIT_DECLINED)


@click.command("run")
@click.argument("file", type=click.Path(dir_okay=False, path_type=Path))
@click.option(
    "--run-dir",
    type=click.Path(file_okay=False, path_type=Path),
    default=None,
    help="Where to write the run (default: runs/<name>-<UTC time>).",
)
@click.option("--yes", "-y", is_flag=True, help="Do not ask before an expensive run.")
@click.option("--quiet", "-q", is_flag=True, help="No progress bar or summary.")
def run_command(file: Path, run_dir: Path | None, yes: bool, quiet: bool) -> None:
    """Run the experiment defined in FILE (a Python file exposing `experiment`)."""
    experiment = _guarded(lambda: load_experiment(file))
    _confirm(experiment, yes)
    target = run_dir or _default_run_dir(experiment)
    _execute(experiment, target, resume=False, force=False, quiet=quiet, source=str(file.resolve()))


@click.command("estimate")
@click.argument("file", type=click.Path(dir_okay=False, path_type=Path))
@click.option(
    "--pilot",
    type=click.IntRange(min=0),
    default=0,
    help="Call every condition on this many items first (real calls) to refine it.",
)
@click.option("--json", "as_json", is_flag=True, help="Print machine-readable JSON.")
def estimate_command(file: Path, pilot: int, as_json: bool) -> None:
    """Estimate calls, tokens, cost and wall time of the experiment in FILE."""
    import json

    experiment = _guarded(lambda: load_experiment(file))
    est = _guarded(lambda: estimate(experiment, pilot=pilot))
    click.echo(json.dumps(est.to_dict(), indent=2) if as_json else str(est))


@click.command("resume")
@click.argument("run_dir", type=click.Path(file_okay=False, path_type=Path))
@click.option("--force", is_flag=True, help="Resume even if the experiment file changed.")
@click.option("--quiet", "-q", is_flag=True, help="No progress bar or summary.")
def resume_command(run_dir: Path, force: bool, quiet: bool) -> None:
    """Finish the run in RUN_DIR: run only the trials not committed yet."""
    manifest = _guarded(lambda: load_run(run_dir)).manifest
    source = manifest.get("source")
    if not source:
        _fail(
            f"{run_dir} was not started from a file; resume it from Python with "
            "run(experiment, run_dir, resume=True)"
        )
    experiment = _guarded(lambda: load_experiment(source))
    _execute(experiment, run_dir, resume=True, force=force, quiet=quiet, source=source)


@click.command("demo")
@click.option(
    "--run-dir",
    type=click.Path(file_okay=False, path_type=Path),
    default=None,
    help="Where to write the run (default: runs/ensemble-vs-single-<UTC time>).",
)
@click.option("--items", type=click.IntRange(min=1), default=100, help="MMLU items.")
@click.option("--repeats", type=click.IntRange(min=1), default=3, help="Repeats per item.")
@click.option("--seed", type=click.IntRange(min=0), default=42, help="Root seed.")
@click.option("--quiet", "-q", is_flag=True, help="No progress bar.")
def demo_command(run_dir: Path | None, items: int, repeats: int, seed: int, quiet: bool) -> None:
    """Ensemble vs single model on MMLU STEM, offline with simulated models."""
    source = demo_source(items, repeats, seed)
    experiment = _guarded(lambda: load_experiment(source))
    target = run_dir or _default_run_dir(experiment)
    console = _console()
    result: RunResult = _guarded(
        lambda: asyncio.run(run(experiment, target, progress=not quiet, source=source))
    )
    _print_summary(result, console)
    if {"single_model", "ensemble_3model"} <= set(result.trials["condition"].unique()):
        subjects = {it.id: str(it.metadata.get("subject")) for it in experiment.dataset}
        try:
            diff = compare_conditions(
                result.trials,
                "ensemble_3model",
                "single_model",
                "multiple_choice",
                cluster=subjects,
            )
        except CrucibleError as exc:
            click.echo(f"ensemble - single accuracy: not computable ({exc})")
        else:
            click.echo(f"ensemble - single accuracy: {diff}")
    if result.trials.height:
        from crucible.harness._publish import write_report

        formats = ("md", "html", "tex", "ipynb", "json", "parquet", "csv")
        written = _guarded(lambda: write_report(target, formats))
        click.echo(f"HTML report: {written['html']}")
        click.echo(f"Markdown report: {written['md']}")
        others = ", ".join(
            str(written[f]) for f in formats if f not in ("md", "html") and f in written
        )
        click.echo(f"Also written: {others}")
    code = _STATUS_EXIT[result.status]
    if code != EXIT_OK:
        _fail(f"run {result.status.value}: {result.reason}", code)


@click.command("report")
@click.argument("run_dir", type=click.Path(file_okay=False, exists=True, path_type=Path))
@click.option(
    "--format",
    "formats",
    default="md,html,json",
    show_default=True,
    help="Comma-separated: md, html, tex, ipynb, json, parquet, csv.",
)
@click.option(
    "--out",
    type=click.Path(file_okay=False, path_type=Path),
    default=None,
    help="Output directory (default: RUN_DIR/report).",
)
@click.option(
    "--hypothesis",
    "hypotheses",
    multiple=True,
    help="A hypothesis to judge, e.g. 'b > a + 0.02 on accuracy' (repeatable).",
)
@click.option(
    "--correction",
    default="holm",
    show_default=True,
    help="Multiple-comparison correction (holm, bonferroni, fdr_bh, ...).",
)
@click.option(
    "--alpha",
    type=click.FloatRange(0, 1, min_open=True, max_open=True),
    default=0.05,
    show_default=True,
)
def report_command(
    run_dir: Path,
    formats: str,
    out: Path | None,
    hypotheses: tuple[str, ...],
    correction: str,
    alpha: float,
) -> None:
    """Analyse the run in RUN_DIR and write its reports."""
    from crucible.harness._publish import write_report

    written = _guarded(
        lambda: write_report(
            run_dir,
            formats,
            out_dir=out,
            hypotheses=hypotheses,
            correction=correction,
            alpha=alpha,
            confidence=1 - alpha,
        )
    )
    for fmt, path in written.items():
        click.echo(f"{fmt}: {path}")


@click.command("compare")
@click.argument("run_a", type=click.Path(file_okay=False, exists=True, path_type=Path))
@click.argument("run_b", type=click.Path(file_okay=False, exists=True, path_type=Path))
@click.option(
    "--pair",
    "pairs",
    multiple=True,
    help="CONDITION_A:CONDITION_B to compare (default: conditions with equal names).",
)
@click.option("--json", "as_json", is_flag=True, help="Print machine-readable JSON.")
def compare_command(run_a: Path, run_b: Path, pairs: tuple[str, ...], as_json: bool) -> None:
    """Compare RUN_A with RUN_B, paired on the items both runs share (estimate A - B)."""
    import json

    from crucible.harness._compare_runs import compare_runs

    parsed = []
    for p in pairs:
        x, sep, y = p.partition(":")
        if not sep or not x or not y:
            _fail(f"--pair must be CONDITION_A:CONDITION_B, got {p!r}")
        parsed.append((x, y))
    result = _guarded(lambda: compare_runs(run_a, run_b, pairs=parsed or None))
    if as_json:
        click.echo(json.dumps([c.to_dict() for c in result], indent=2, default=str))
        return
    table = Table(title=escape(f"{run_a} vs {run_b}"))
    for col in ("metric", "A - B", "design", "test", "n", "difference", "95% CI", "p"):
        table.add_column(col)
    for c in result:
        table.add_row(
            c.metric,
            escape(f"{c.a} - {c.b}"),
            c.design,
            c.test,
            str(c.n),
            f"{c.estimate:.4g}",
            f"[{c.ci_low:.4g}, {c.ci_high:.4g}]",
            f"{c.p_value:.3g}",
        )
    _console().print(table)


@click.command("reproduce")
@click.argument("run_dir", type=click.Path(file_okay=False, exists=True, path_type=Path))
@click.option(
    "--out",
    type=click.Path(file_okay=False, path_type=Path),
    default=None,
    help="Directory of the new run (default: RUN_DIR-reproduced-<UTC time>).",
)
def reproduce_command(run_dir: Path, out: Path | None) -> None:
    """Re-run RUN_DIR from its manifest into a new directory and compare every trial."""
    from crucible.harness._reproduce import reproduce

    result = _guarded(lambda: reproduce(run_dir, out))
    click.echo(str(result))
    if not result.identical:
        for row in result.differences.head(50).iter_rows(named=True):
            click.echo(
                f"  {row['condition']} {row['item_id']} repeat {row['repeat']} {row['column']}: "
                f"{row['original']!r} -> {row['reproduced']!r}"
            )
        sys.exit(EXIT_ERROR)


@click.command("gate")
@click.argument("run_dir", type=click.Path(file_okay=False, exists=True, path_type=Path))
@click.option(
    "--require",
    "requirements",
    multiple=True,
    required=True,
    help="'A OP B [+|- MARGIN] [on METRIC]', e.g. 'candidate >= baseline - 0.01 on "
    "accuracy' (repeatable).",
)
@click.option(
    "--confidence",
    type=click.FloatRange(0, 1, min_open=True, max_open=True),
    default=0.95,
    show_default=True,
)
@click.option("--json", "as_json", is_flag=True, help="Print machine-readable JSON.")
def gate_command(
    run_dir: Path, requirements: tuple[str, ...], confidence: float, as_json: bool
) -> None:
    """Exit 0 when every requirement holds, 1 when one fails, 2 when one is inconclusive."""
    import json

    from crucible.harness._gate import gate

    result = _guarded(lambda: gate(run_dir, list(requirements), confidence=confidence))
    click.echo(json.dumps(result.to_dict(), indent=2) if as_json else str(result))
    sys.exit(result.exit_code)


@click.group("harness")
def cli() -> None:
    """Run, estimate and resume experiments."""


cli.add_command(run_command)
cli.add_command(estimate_command)
cli.add_command(resume_command)
cli.add_command(demo_command)
cli.add_command(report_command)
cli.add_command(compare_command)
cli.add_command(reproduce_command)
cli.add_command(gate_command)
