"""``crux lora eval``: the command line over :func:`crucible.framework.finetune.evaluate_checkpoints`."""

from __future__ import annotations

import datetime as _dt
import json
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any, NoReturn

import click

from crucible.core import CrucibleError
from crucible.datasets import get_scorer, load
from crucible.framework._checkpoints import named_files
from crucible.framework._finetune import CheckpointEvaluation, evaluate_checkpoints_sync
from crucible.framework._finetune_report import fmt_ci, fmt_num, fmt_p
from crucible.lora import AdapterRegistry

__all__ = ["lora_group"]


def _fail(reason: str) -> NoReturn:
    click.echo(f"error: {reason}", err=True)
    sys.exit(1)


def _targets(values: Sequence[str]) -> dict[str, float]:
    out = {}
    for v in values:
        metric, sep, number = v.partition("=")
        try:
            out[metric.strip()] = float(number)
        except ValueError:
            sep = ""
        if not sep:
            _fail(f"--target must be METRIC=NUMBER (e.g. accuracy=0.8), got {v!r}")
    return out


@click.group("lora", context_settings={"help_option_names": ["-h", "--help"]})
def lora_group() -> None:
    """Fine-tuned LoRA adapters: evaluate checkpoints against their base model."""


@lora_group.command("eval")
@click.argument("source", metavar="RUN_OR_REGISTRY", type=click.Path(path_type=Path))
@click.option(
    "--dataset", required=True, help="A built-in dataset name or a .jsonl/.csv/.parquet file."
)
@click.option(
    "--adapters",
    multiple=True,
    help="Adapter ids (registry) or checkpoint names (directory) to evaluate; repeat or use commas.",
)
@click.option("--limit", type=click.IntRange(min=2), default=None, help="Use the first N items.")
@click.option(
    "--out",
    type=click.Path(file_okay=False, path_type=Path),
    default=None,
    help="Run directory (default: runs/lora-eval-<UTC time>).",
)
@click.option("--scorer", default="exact_match", show_default=True, help="Scorer name.")
@click.option("--pattern", default=None, help="Regular expression, for --scorer regex.")
@click.option(
    "--target", "targets", multiple=True, help="A gate METRIC=VALUE (accuracy, improvement)."
)
@click.option("--prompt", default="{input}", show_default=True, help="Prompt template.")
@click.option("--max-tokens", type=click.IntRange(min=1), default=32, show_default=True)
@click.option("--repeats", type=click.IntRange(min=1), default=1, show_default=True)
@click.option("--alpha", type=float, default=0.05, show_default=True)
@click.option("--correction", default="holm", show_default=True)
@click.option("--seed", type=int, default=0, show_default=True)
@click.option("--json", "as_json", is_flag=True, help="Print the evaluation as JSON.")
def eval_command(
    source: Path,
    dataset: str,
    adapters: tuple[str, ...],
    limit: int | None,
    out: Path | None,
    scorer: str,
    pattern: str | None,
    targets: tuple[str, ...],
    prompt: str,
    max_tokens: int,
    repeats: int,
    alpha: float,
    correction: str,
    seed: int,
    as_json: bool,
) -> None:
    """Evaluate the checkpoints in RUN_OR_REGISTRY (an adapters.duckdb registry or a directory
    of a training run's checkpoints) against the base model, with paired statistics."""
    wanted = [a.strip() for v in adapters for a in v.split(",") if a.strip()] or None
    gate_targets = _targets(targets)
    stamp = _dt.datetime.now(_dt.UTC).strftime("%Y%m%dT%H%M%SZ")
    run_dir = out or Path("runs") / f"lora-eval-{stamp}"
    registry: AdapterRegistry | None = None
    try:
        if not source.exists():
            _fail(f"RUN_OR_REGISTRY {str(source)!r} does not exist")
        chosen: Any
        if source.is_file() and source.suffix == ".duckdb":
            registry = AdapterRegistry(source)
            chosen = registry
        elif source.is_dir():
            chosen = named_files(source)
            if wanted is not None:
                missing = [w for w in wanted if w not in chosen]
                if missing:
                    _fail(
                        f"no checkpoint named {missing[0]!r} in {str(source)!r}; found "
                        + ", ".join(chosen)
                    )
                chosen = {w: chosen[w] for w in wanted}
                wanted = None
        else:
            _fail(
                f"RUN_OR_REGISTRY {str(source)!r} is neither an adapters .duckdb registry nor a "
                "directory of checkpoints"
            )
        scorer_obj = get_scorer(scorer, pattern=pattern) if pattern else get_scorer(scorer)
        data = load(dataset, limit=limit)
        evaluation = evaluate_checkpoints_sync(
            chosen,
            data,
            scorer=scorer_obj,
            run_dir=run_dir,
            adapters=wanted,
            repeats=repeats,
            alpha=alpha,
            correction=correction,
            targets=gate_targets or None,
            seed=seed,
            prompt=prompt,
            params={"max_tokens": max_tokens},
        )
    except CrucibleError as exc:
        _fail(str(exc).splitlines()[0] if str(exc) else type(exc).__name__)
    finally:
        if registry is not None:
            registry.close()
    if as_json:
        click.echo(json.dumps(evaluation.to_dict(), indent=2, default=str))
        return
    _print_table(evaluation)


def _print_table(ev: CheckpointEvaluation) -> None:
    from rich.console import Console
    from rich.markup import escape
    from rich.table import Table

    console = Console() if sys.stdout.isatty() else Console(width=160)
    pct = f"{ev.confidence * 100:g}%"
    table = Table(title=escape(f"{ev.scorer}: checkpoints vs {ev.baseline} ({ev.n_items} items)"))
    for col in (
        "condition",
        "mean",
        pct + " CI",
        "diff",
        "diff CI",
        "p",
        f"p {ev.correction}",
        "verdict",
    ):
        table.add_column(col, justify="left" if col in ("condition", "verdict") else "right")
    b = ev.baseline_score
    table.add_row(
        escape(ev.baseline),
        fmt_num(b.estimate),
        fmt_ci(b.ci_low, b.ci_high),
        "",
        "",
        "",
        "",
        "baseline",
    )
    for c in ev.checkpoints:
        v = c.versus_baseline
        verdict = "beats baseline" if c.beats_baseline else "not better"
        if c.gates:
            verdict += ", gates " + ("pass" if all(g.passed for g in c.gates) else "fail")
        table.add_row(
            escape(c.name),
            fmt_num(c.score.estimate),
            fmt_ci(c.score.ci_low, c.score.ci_high),
            f"{v.estimate:+.3f}",
            fmt_ci(v.ci_low, v.ci_high),
            fmt_p(v.p_value),
            fmt_p(v.p_adjusted),
            verdict,
        )
    console.print(table)
    click.echo(
        f"best: {ev.best or 'none beats the baseline'}; improvement stops at "
        f"{ev.improvement_stops_at}; report {ev.report_path}"
    )
