"""The ``crux`` command line."""

from __future__ import annotations

import asyncio
import importlib
import json
import sys
import warnings
from importlib import metadata
from typing import Any

import click
from rich.console import Console
from rich.table import Table

from crucible.core import (
    PRESETS,
    ConfigurationError,
    CrucibleError,
    ProviderError,
    UnpricedModelWarning,
    get_model,
    load_config,
)
from crucible.core._registry import default_registry

__all__ = ["main"]

EXIT_PROVIDER_ERROR = 1
EXIT_USAGE_ERROR = 2


def installed_packages() -> list[tuple[str, str]]:
    """Every installed ``crucible-*`` distribution and its version, sorted by name."""
    found: dict[str, str] = {}
    for dist in metadata.distributions():
        name = (dist.metadata["Name"] or "").lower()
        if name.startswith("crucible-") and name != "crucible-workspace":
            found[name] = dist.version
    return sorted(found.items())


def _print_version(ctx: click.Context, _param: click.Parameter, value: bool) -> None:
    if not value or ctx.resilient_parsing:
        return
    for name, version in installed_packages():
        click.echo(f"{name} {version}")
    ctx.exit()


#: Commands provided by other Crucible packages, imported only when used.
LAZY_COMMANDS = {
    "run": "crucible.harness.cli:run_command",
    "estimate": "crucible.harness.cli:estimate_command",
    "resume": "crucible.harness.cli:resume_command",
    "demo": "crucible.harness.cli:demo_command",
    "report": "crucible.harness.cli:report_command",
    "compare": "crucible.harness.cli:compare_command",
    "reproduce": "crucible.harness.cli:reproduce_command",
    "gate": "crucible.framework.cli:gate_command",
    "lora": "crucible.framework._finetune_cli:lora_group",
    "redteam": "crucible.framework.security:redteam_command",
    "monitor": "crucible.production_eval.cli:monitor_group",
    "abtest": "crucible.production_eval.cli:abtest_group",
    "optimize": "crucible.production_eval.cli:optimize_command",
}


class _LazyGroup(click.Group):
    """A group whose commands from other packages are imported on first use."""

    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted({*super().list_commands(ctx), *LAZY_COMMANDS})

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        command = super().get_command(ctx, cmd_name)
        if command is not None or cmd_name not in LAZY_COMMANDS:
            return command
        module_name, _, attr = LAZY_COMMANDS[cmd_name].partition(":")
        try:
            module = importlib.import_module(module_name)
        except ModuleNotFoundError as exc:
            distribution = "crucible-" + module_name.split(".")[1].replace("_", "-")
            raise click.UsageError(
                f"`crux {cmd_name}` needs {distribution}: pip install {distribution}"
            ) from exc
        loaded = getattr(module, attr)
        if not isinstance(loaded, click.Command):
            raise click.UsageError(f"{LAZY_COMMANDS[cmd_name]} is not a click command")
        return loaded


@click.group(cls=_LazyGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.option(
    "--version",
    is_flag=True,
    expose_value=False,
    is_eager=True,
    callback=_print_version,
    help="Show every installed Crucible package and its version.",
)
def cli() -> None:
    """Crucible: statistically sound experiments on LLM systems."""


@cli.command()
@click.option("--json", "as_json", is_flag=True, help="Print machine-readable JSON.")
def models(as_json: bool) -> None:
    """List providers, simulated presets and the price table."""
    registry = default_registry()
    pricing = load_config().pricing()
    presets = {
        name: {
            "accuracy": p.accuracy,
            "latency_p50_ms": p.latency.quantile(0.5),
            "latency_p95_ms": p.latency.quantile(0.95),
            "latency_p99_ms": p.latency.quantile(0.99),
            "error_rate": p.error_rate,
        }
        for name, p in PRESETS.items()
    }
    prices = {key: price.to_dict() for key, price in pricing.items()}
    if as_json:
        click.echo(
            json.dumps(
                {
                    "providers": registry.providers(),
                    "presets": presets,
                    "prices": prices,
                    "price_version": pricing.version,
                },
                indent=2,
            )
        )
        return
    console = Console()
    console.print(f"[bold]Providers:[/bold] {', '.join(registry.providers())}")
    table = Table(title="Simulated presets (sim:NAME)")
    for col in ("preset", "accuracy", "p50 ms", "p95 ms", "p99 ms", "errors"):
        table.add_column(col, justify="left" if col == "preset" else "right")
    for name, row in presets.items():
        table.add_row(
            name,
            f"{row['accuracy']:.0%}",
            f"{row['latency_p50_ms']:.0f}",
            f"{row['latency_p95_ms']:.0f}",
            f"{row['latency_p99_ms']:.0f}",
            f"{row['error_rate']:.0%}",
        )
    console.print(table)
    price_table = Table(
        title=f"Prices, USD per 1M tokens (table {pricing.version}, "
        f"effective {pricing.effective_date.isoformat()})"
    )
    for col in ("model", "input", "cached input", "output", "reasoning"):
        price_table.add_column(col, justify="left" if col == "model" else "right")
    for key, price in pricing.items():
        cached = price.input if price.cached_input is None else price.cached_input
        reasoning = price.output if price.reasoning is None else price.reasoning
        price_table.add_row(
            key, f"{price.input:g}", f"{cached:g}", f"{price.output:g}", f"{reasoning:g}"
        )
    console.print(price_table)


@cli.command()
@click.argument("model")
@click.argument("prompt")
@click.option("--system", default=None, help="A system message sent before the prompt.")
@click.option("--temperature", type=float, default=None)
@click.option("--max-tokens", type=int, default=None)
@click.option("--stop", multiple=True, help="Stop sequence (repeatable).")
@click.option(
    "--stream", is_flag=True, help="Stream the answer (measures the time to first token)."
)
@click.option(
    "--seed",
    type=int,
    default=None,
    help="Seed (simulated models; sent to providers that accept one).",
)
@click.option("--base-url", default=None, help="Server URL for openai-compatible models.")
@click.option(
    "--endpoint",
    type=click.Choice(["chat", "completions"]),
    default=None,
    help="openai-compatible endpoint: chat (default) or the legacy completions for base models.",
)
@click.option(
    "--timeout", "timeout_s", type=float, default=None, help="Per-attempt timeout in seconds."
)
@click.option(
    "--retries", "max_retries", type=int, default=None, help="Retries for transient errors."
)
@click.option("--json", "as_json", is_flag=True, help="Print the completion as JSON.")
def ask(
    model: str,
    prompt: str,
    system: str | None,
    temperature: float | None,
    max_tokens: int | None,
    stop: tuple[str, ...],
    stream: bool,
    seed: int | None,
    base_url: str | None,
    endpoint: str | None,
    timeout_s: float | None,
    max_retries: int | None,
    as_json: bool,
) -> None:
    """Send one PROMPT to MODEL (provider:name) and show the text, tokens, cost and latency.

    Example: crux ask sim:gpt-4 "What is 2+2?"
    """
    options: dict[str, Any] = {}
    provider = model.partition(":")[0]
    if provider == "sim":
        if seed is not None:
            options["seed"] = seed
    else:
        for key, value in (
            ("base_url", base_url),
            ("timeout_s", timeout_s),
            ("max_retries", max_retries),
        ):
            if value is not None:
                options[key] = value
        if endpoint is not None:
            options["endpoint"] = endpoint
    params: dict[str, Any] = {}
    if temperature is not None:
        params["temperature"] = temperature
    if max_tokens is not None:
        params["max_tokens"] = max_tokens
    if stop:
        params["stop"] = list(stop)
    if stream and provider != "sim":
        params["stream"] = True
    if seed is not None and provider != "sim":
        params["seed"] = seed
    messages: Any = (
        prompt
        if system is None
        else [{"role": "system", "content": system}, {"role": "user", "content": prompt}]
    )

    async def call() -> Any:
        llm = get_model(model, **options)
        try:
            return await llm.generate(messages, **params)
        finally:
            close = getattr(llm, "aclose", None)
            if close is not None:
                await close()

    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always", UnpricedModelWarning)
        completion = asyncio.run(call())
    if as_json:
        click.echo(
            json.dumps({k: v for k, v in completion.to_dict().items() if k != "raw"}, indent=2)
        )
        return
    usage = completion.usage
    cost = "unpriced" if completion.cost_usd is None else f"${completion.cost_usd:.6f}"
    click.echo(completion.text)
    click.echo("")
    parts = [
        f"model {completion.provider}:{completion.model}",
        f"tokens {usage.input_tokens} in"
        + (f" ({usage.cached_input_tokens} cached)" if usage.cached_input_tokens else "")
        + f" / {usage.output_tokens} out"
        + (f" / {usage.reasoning_tokens} reasoning" if usage.reasoning_tokens else ""),
        f"cost {cost}",
        f"latency {completion.latency_ms:.0f} ms",
    ]
    if completion.ttft_ms is not None:
        parts.append(f"ttft {completion.ttft_ms:.0f} ms")
    if completion.finish_reason:
        parts.append(f"finish {completion.finish_reason}")
    click.echo(" | ".join(parts))
    for w in caught:
        if issubclass(w.category, UnpricedModelWarning):
            click.echo(f"note: {w.message}", err=True)


@click.command(
    "gate",
    context_settings={
        "ignore_unknown_options": True,
        "allow_extra_args": True,
        "help_option_names": [],
    },
)
@click.pass_context
def gate_command(ctx: click.Context) -> None:
    """Deployment gate, exit 0 deploy / 1 reject / 2 inconclusive.

    On a finished run: crux gate RUN_DIR --require "candidate >= baseline - 0.01 on accuracy".
    From scratch: crux gate --candidate MODEL --baseline MODEL --dataset NAME [--require ...].
    """
    args = list(ctx.args)
    from_scratch = any(a == "--candidate" or a.startswith("--candidate=") for a in args)
    target = (
        "crucible.production_eval.cli:gate_command"
        if from_scratch
        else "crucible.harness.cli:gate_command"
    )
    module_name, _, attr = target.partition(":")
    try:
        command = getattr(importlib.import_module(module_name), attr)
    except ModuleNotFoundError as exc:
        package = "crucible-production-eval" if from_scratch else "crucible-harness"
        raise click.UsageError(f"`crux gate` needs {package}: pip install {package}") from exc
    if not args:
        click.echo(ctx.get_help())
        ctx.exit(2)
    code = command.main(args=args, prog_name="crux gate", standalone_mode=False)
    if isinstance(code, int) and code != 0:
        sys.exit(code)


def main(argv: list[str] | None = None) -> int:
    """Run ``crux``; returns the exit code (0 ok, 1 provider error, 2 bad usage or configuration)."""
    try:
        returned = cli.main(args=argv, prog_name="crux", standalone_mode=False)
        if isinstance(returned, int) and not isinstance(returned, bool):
            return returned
    except click.exceptions.Exit as exc:
        return int(exc.exit_code)
    except click.ClickException as exc:
        exc.show()
        return exc.exit_code
    except SystemExit as exc:
        return exc.code if isinstance(exc.code, int) else (0 if exc.code is None else 1)
    except click.exceptions.Abort:
        click.echo("aborted", err=True)
        return 130
    except ConfigurationError as exc:
        click.echo(f"error: {exc}", err=True)
        return EXIT_USAGE_ERROR
    except ProviderError as exc:
        click.echo(f"error: {type(exc).__name__}: {exc}", err=True)
        return EXIT_PROVIDER_ERROR
    except CrucibleError as exc:
        click.echo(f"error: {type(exc).__name__}: {exc}", err=True)
        return EXIT_PROVIDER_ERROR
    return 0


def entry() -> None:
    sys.exit(main())
