"""Fine-tuning checkpoints evaluated with statistics: which beat the base model, by how much,
where improvement stops, and whether the quality gates pass — and ``crux lora eval``.

A harness experiment runs the base model and every checkpoint's sampler on the same items, so
each checkpoint is compared with the baseline item by item (paired): the difference in mean
score with its confidence interval (:func:`crucible.bench.compare_evals`), McNemar's exact test
when scores are binary (one repeat) and the paired t-test otherwise, and p-values adjusted
across checkpoints (Holm by default). Consecutive checkpoints are compared too, to find where
training stops paying. Gates (``targets={"accuracy": 0.8}``) compare the lower
confidence bound, never the point estimate, with the target. The result can be recorded as
evidence in an :class:`~crucible.lora.AdapterRegistry`, whose promotion to production needs a
passing evaluation.

Example:
    >>> import asyncio, tempfile
    >>> from crucible.core import Item
    >>> from crucible.lora import LoraConfig, create_backend
    >>> backend = create_backend("local", config=LoraConfig(rank=4, seed=0))
    >>> sampler = asyncio.run(backend.save_weights_for_sampler("untrained"))
    >>> items = [Item(str(i), f"Q: {w}?\\n", f"A: {w} is good.") for i, w in enumerate("ab")]
    >>> ev = evaluate_checkpoints_sync(
    ...     [sampler], items, scorer="exact_match", run_dir=tempfile.mkdtemp() + "/ev")
    >>> ev.best is None  # an untrained adapter (B = 0) is the base model
    True
"""

from __future__ import annotations

import asyncio
import datetime as _dt
import itertools
import json
import math
import os
import re
import sys
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path
from typing import Any, NoReturn

import attrs
import click
import numpy as np
import polars as pl

from crucible.bench import (
    DegenerateDataError,
    Interval,
    adjust,
    compare_evals,
    mcnemar,
    mean_ci,
    proportion_ci,
)
from crucible.core import CrucibleError, Item, Model, ValidationError
from crucible.datasets import Dataset, get_scorer, load
from crucible.framework._finetune_report import (
    CheckpointComparison,
    CheckpointEvaluation,
    CheckpointResult,
    GateResult,
    fmt_ci,
    fmt_num,
    fmt_p,
    render_markdown,
)
from crucible.harness import (
    Condition,
    Experiment,
    Limits,
    PromptTemplate,
    RunStatus,
    TrialContext,
    run,
)
from crucible.lora import (
    AdapterRegistry,
    CheckpointError,
    LocalSampler,
    Sampler,
    load_base,
    load_sampler,
)

__all__ = [
    "DEFAULT_PARAMS",
    "CheckpointComparison",
    "CheckpointEvaluation",
    "CheckpointResult",
    "GateResult",
    "checkpoint_files",
    "evaluate_checkpoints",
    "evaluate_checkpoints_sync",
    "lora_group",
]

#: Generation parameters used unless ``params`` says otherwise: greedy, one line.
DEFAULT_PARAMS: dict[str, Any] = {"max_tokens": 32, "temperature": 0.0, "stop": "\n"}
REPORT_FILE = "checkpoints.md"
RESULT_FILE = "checkpoints.json"
_BASE = "base"
_DIFFERENCE_GATE = "improvement"

CheckpointLike = Model | str | os.PathLike[str]


# -- resolving checkpoints -----------------------------------------------------------------


def _natural_key(path: Path) -> list[Any]:
    return [int(part) if part.isdigit() else part for part in re.split(r"(\d+)", path.name)]


def checkpoint_files(directory: str | os.PathLike[str]) -> list[Path]:
    """The checkpoint files of a training run, in training order.

    ``directory`` may hold ``.safetensors`` files itself, be a backend's ``checkpoint_dir``
    (``states/``, ``sampler_weights/``), or be a :class:`~crucible.lora.Trainer`'s
    ``checkpoint_dir`` whose ``trainer_state.json`` names where the states were saved. Files are
    ordered by the numbers in their names (``step-000025`` before ``step-000100``).

    Raises:
        CheckpointError: ``directory`` does not exist or holds no checkpoint.
    """
    root = Path(directory)
    if not root.is_dir():
        raise CheckpointError(
            f"`checkpoints` directory {str(root)!r} does not exist; give a Trainer run directory "
            "or a directory of .safetensors checkpoints"
        )
    folders = [root, root / "states", root / "sampler_weights"]
    state_file = root / "trainer_state.json"
    if state_file.is_file():
        try:
            state_path = json.loads(state_file.read_text()).get("state_path")
        except (json.JSONDecodeError, AttributeError) as exc:
            raise CheckpointError(f"{str(state_file)!r} is not a trainer state file") from exc
        if isinstance(state_path, str) and state_path:
            folders.append(Path(state_path).parent)
    found: dict[Path, Path] = {}
    for folder in folders:
        if folder.is_dir():
            for f in folder.glob("*.safetensors"):
                if not f.name.startswith("."):  # half-written temporary files
                    found.setdefault(f.resolve(), f)
    if not found:
        raise CheckpointError(
            f"`checkpoints` directory {str(root)!r} holds no .safetensors checkpoint (looked in "
            "it, its states/ and sampler_weights/, and the trainer state's directory)"
        )
    return sorted(found.values(), key=lambda p: (_natural_key(p), str(p)))


@attrs.frozen
class _Arm:
    name: str
    model: Model
    source: str


def _named_files(directory: Path) -> dict[str, Path]:
    files = checkpoint_files(directory)
    stems = [f.stem for f in files]
    return {(f.stem if stems.count(f.stem) == 1 else f"{f.parent.name}/{f.stem}"): f for f in files}


def _from_path(path: Path, name: str | None = None) -> list[_Arm]:
    if path.is_dir():
        return [_Arm(n, load_sampler(f), str(f)) for n, f in _named_files(path).items()]
    if not path.exists():
        raise CheckpointError(
            f"`checkpoints` path {str(path)!r} does not exist; give a saved checkpoint file, a "
            "directory of checkpoints, a Sampler or an AdapterRegistry"
        )
    return [_Arm(name or path.stem, load_sampler(path), str(path))]


def _from_object(value: object, name: str | None, index: str) -> list[_Arm]:
    if isinstance(value, str | os.PathLike):
        return _from_path(Path(value), name)
    if hasattr(value, "generate"):
        label = name or getattr(value, "name", None)
        if not isinstance(label, str) or not label:
            raise ValidationError(f"`checkpoints{index}` has no name; pass a mapping name -> model")
        source = getattr(value, "path", "") or getattr(value, "spec", "") or type(value).__name__
        return [_Arm(label, value, str(source))]
    raise ValidationError(
        f"`checkpoints{index}` must be a Sampler/Model, a checkpoint path or a directory, got "
        f"{type(value).__name__}"
    )


def _resolve(
    checkpoints: AdapterRegistry | Mapping[str, CheckpointLike] | Iterable[CheckpointLike],
    adapters: Sequence[str] | None,
) -> list[_Arm]:
    if isinstance(checkpoints, AdapterRegistry):
        records = (
            [checkpoints.get(a) for a in adapters] if adapters is not None else checkpoints.all()
        )
        arms = []
        for rec in records:
            path = Path(rec.checkpoint_path)
            if not path.is_file():
                raise CheckpointError(
                    f"adapter {rec.id!r}: checkpoint_path {rec.checkpoint_path!r} is not a file "
                    "on this machine"
                )
            arms.append(_Arm(rec.id, load_sampler(path), rec.checkpoint_path))
    else:
        if adapters is not None:
            raise ValidationError("`adapters` selects adapter ids and needs an AdapterRegistry")
        if isinstance(checkpoints, str | os.PathLike):
            arms = _from_path(Path(checkpoints))
        elif isinstance(checkpoints, Mapping):
            arms = [a for k, v in checkpoints.items() for a in _from_object(v, str(k), f"[{k!r}]")]
        elif isinstance(checkpoints, Iterable):
            arms = [a for i, v in enumerate(checkpoints) for a in _from_object(v, None, f"[{i}]")]
        else:
            raise ValidationError(
                "`checkpoints` must be Samplers/Models, checkpoint paths, a directory, a mapping "
                f"name -> checkpoint or an AdapterRegistry; got {type(checkpoints).__name__}"
            )
    if not arms:
        raise ValidationError(
            "`checkpoints` is empty: give at least one checkpoint to compare with the baseline"
        )
    names = [a.name for a in arms]
    dupes = sorted({n for n in names if names.count(n) > 1})
    if dupes:
        raise ValidationError(
            f"`checkpoints` has two checkpoints named {dupes[0]!r}; pass a mapping name -> "
            "checkpoint to name them apart"
        )
    return arms


def _baseline(baseline: str | Model, arms: list[_Arm]) -> tuple[_Arm, list[_Arm]]:
    if not isinstance(baseline, str):
        if not hasattr(baseline, "generate"):
            raise ValidationError(
                f"`baseline` must be 'base', a checkpoint name or a Model, got {baseline!r:.80}"
            )
        name = str(getattr(baseline, "name", "baseline"))
        if name in {a.name for a in arms}:
            name = "baseline"
        return _Arm(name, baseline, str(getattr(baseline, "spec", name))), arms
    if baseline == _BASE and _BASE in {a.name for a in arms}:
        raise ValidationError(
            "a checkpoint is named 'base', which is the baseline's name; rename it or pass "
            "`baseline`"
        )
    for arm in arms:
        if arm.name == baseline:
            rest = [a for a in arms if a is not arm]
            if not rest:
                raise ValidationError(
                    f"`baseline` {baseline!r} is the only checkpoint: nothing left to compare"
                )
            return arm, rest
    if baseline != _BASE:
        known = ", ".join(repr(a.name) for a in arms)
        raise ValidationError(
            f"`baseline` {baseline!r} is neither 'base' nor a checkpoint name ({known})"
        )
    weights = load_base()
    for arm in arms:
        trained_on = getattr(arm.model, "base_model", weights.name)
        if trained_on != weights.name:
            raise ValidationError(
                f"checkpoint {arm.name!r} was trained on {trained_on!r}, not the shipped "
                f"{weights.name!r}; pass that base model as `baseline`"
            )
    base = LocalSampler(
        weights.name,
        shape=weights.shape,
        base=weights.params,
        adapters={},
        scale=1.0,
        path="",
        base_model=weights.name,
    )
    return _Arm(_BASE, base, weights.name), arms


class _Seeded:
    """Calls a model as the runner would, adding the trial's seed for samplers, so sampling
    with ``temperature > 0`` is reproducible; describes its checkpoint for the run fingerprint."""

    def __init__(self, arm: _Arm) -> None:
        self.arm = arm
        self.name = arm.name

    async def __call__(self, item: Item, context: TrialContext) -> Any:
        params = dict(context.params)
        if isinstance(self.arm.model, Sampler):
            params.setdefault("seed", context.seed)
        return await self.arm.model.generate(
            context.prompt,
            item=item,
            repeat=context.repeat,
            attempt=context.attempt,
            condition=context.condition,
            experiment_id=context.experiment_id,
            **params,
        )

    def describe(self) -> dict[str, Any]:
        return {"checkpoint": self.arm.source, "model": type(self.arm.model).__name__}


# -- statistics ----------------------------------------------------------------------------


def _matrices(trials: pl.DataFrame, names: Sequence[str], column: str) -> dict[str, np.ndarray]:
    """Items × repeats score matrices (rows in the same item order); an errored trial scores 0:
    a failed call is not a right answer."""
    out: dict[str, np.ndarray] = {}
    items: list[str] | None = None
    for name in names:
        part = trials.filter(pl.col("condition") == name).with_columns(
            pl.col(column).fill_null(0.0).cast(pl.Float64)
        )
        wide = part.pivot(on="repeat", index="item_id", values=column).sort("item_id")
        ids = wide["item_id"].to_list()
        if items is None:
            items = ids
        elif ids != items:
            raise ValidationError(f"condition {name!r} was not run on the same items")
        out[name] = np.asarray(wide.drop("item_id").to_numpy(), dtype=float)
    return out


def _binary(matrices: Mapping[str, np.ndarray], repeats: int) -> bool:
    return repeats == 1 and all(np.isin(m, (0.0, 1.0)).all() for m in matrices.values())


def _score(m: np.ndarray, binary: bool, confidence: float) -> Interval:
    if binary:
        return proportion_ci(int(m.sum()), int(m.size), confidence=confidence)
    return mean_ci(m.mean(axis=1), confidence=confidence)


def _compare(
    a: np.ndarray, b: np.ndarray, names: tuple[str, str], binary: bool, confidence: float
) -> CheckpointComparison:
    note = ""
    diff = a.mean(axis=1) - b.mean(axis=1)
    try:
        ev = compare_evals(a, b, confidence=confidence)
        estimate, low, high, p_t = ev.estimate, ev.ci_low, ev.ci_high, ev.p_value
    except DegenerateDataError:
        estimate, low, high = float(diff.mean()), math.nan, math.nan
        note = f"every item's difference is {estimate:+g}: no variance, so no confidence interval"
        # Every sign agrees: the exact sign test (its only possible outcome) or no evidence.
        p_t = 1.0 if estimate == 0 else min(1.0, 2.0 * 0.5**diff.size)
    if binary:
        test, p = "mcnemar-exact", mcnemar(a[:, 0], b[:, 0]).p_value
    elif note:
        test, p = ("sign-exact" if estimate != 0 else "paired-t"), p_t
    else:
        test, p = "paired-t", p_t
    return CheckpointComparison(
        checkpoint=names[0],
        against=names[1],
        mean=float(a.mean()),
        mean_against=float(b.mean()),
        estimate=estimate,
        ci_low=low,
        ci_high=high,
        test=test,
        p_value=float(p),
        p_adjusted=float(p),
        significant=False,
        n_items=int(diff.size),
        note=note,
    )


def _check_targets(targets: Mapping[str, float] | None, scorer: str) -> dict[str, float]:
    out: dict[str, float] = {}
    valid = ("accuracy", scorer, _DIFFERENCE_GATE)
    for metric, target in (targets or {}).items():
        if metric not in valid:
            raise ValidationError(
                f"unknown `targets` metric {metric!r}; valid: 'accuracy' (= {scorer!r}, the mean "
                f"score), {_DIFFERENCE_GATE!r} (the difference from the baseline)"
            )
        if isinstance(target, bool) or not isinstance(target, int | float) or math.isnan(target):
            raise ValidationError(f"`targets[{metric!r}]` must be a number, got {target!r}")
        out[metric] = float(target)
    return out


def _gate(metric: str, target: float, estimate: float, low: float, high: float) -> GateResult:
    if math.isnan(low):
        return GateResult(
            metric, target, estimate, low, high, False, "no confidence interval: cannot decide"
        )
    passed = low >= target
    relation = ">=" if passed else "<"
    return GateResult(
        metric,
        target,
        estimate,
        low,
        high,
        passed,
        f"CI lower bound {low:.4f} {relation} target {target:g}",
    )


# -- the evaluation ------------------------------------------------------------------------


def _dataset(dataset: Dataset | Sequence[Item] | str | os.PathLike[str]) -> Dataset | list[Item]:
    if isinstance(dataset, str | os.PathLike):
        return load(dataset)
    if isinstance(dataset, Dataset):
        return dataset
    return list(dataset)


async def evaluate_checkpoints(
    checkpoints: AdapterRegistry | Mapping[str, CheckpointLike] | Iterable[CheckpointLike],
    dataset: Dataset | Sequence[Item] | str | os.PathLike[str],
    *,
    scorer: Any,
    run_dir: str | os.PathLike[str],
    baseline: str | Model = _BASE,
    adapters: Sequence[str] | None = None,
    repeats: int = 1,
    alpha: float = 0.05,
    correction: str = "holm",
    targets: Mapping[str, float] | None = None,
    seed: int = 0,
    prompt: str | PromptTemplate = "{input}",
    params: Mapping[str, Any] | None = None,
    limits: Limits | None = None,
    resume: bool = False,
    progress: bool | str = False,
) -> CheckpointEvaluation:
    """Evaluate fine-tuning checkpoints against the base model on the same items.

    Args:
        checkpoints: Samplers or other Models, checkpoint files, a directory of a training
            run's checkpoints (see :func:`checkpoint_files`), a mapping name -> any of these,
            or an :class:`~crucible.lora.AdapterRegistry` (with ``adapters``, the ids to
            evaluate; default every registered adapter). Their order is training order.
        dataset: a Dataset, a list of Item, or a name/file for :func:`crucible.datasets.load`.
        scorer: a scorer name (``"exact_match"``), a scorer object or a named callable.
        run_dir: the harness run directory; the report goes there too.
        baseline: ``"base"`` (the shipped base model, without adapters), the name of one of
            the checkpoints, or a Model.
        repeats: samples per (checkpoint, item); averaged within items before comparing.
        alpha: significance level; intervals are at ``1 - alpha``.
        correction: a :class:`crucible.bench.Correction` across the checkpoints.
        targets: quality gates, ``{"accuracy": 0.8}`` (the mean score) and/or
            ``{"improvement": 0.1}`` (the difference from the baseline); a gate passes when
            the CI lower bound reaches the target.
        prompt, params: how items are asked (default ``"{input}"`` and
            :data:`DEFAULT_PARAMS`: greedy, at most 32 tokens, one line).
        limits: runner limits (default 4 concurrent trials, no timeout).

    Returns:
        A :class:`CheckpointEvaluation`; the run directory gets ``checkpoints.md`` and
        ``checkpoints.json``.

    Raises:
        ValidationError: no checkpoints, an unknown adapter id or baseline, an unknown gate,
            fewer than 2 items.
        CheckpointError: a checkpoint path that does not exist or is not a checkpoint.
        CrucibleError: the run did not complete (budget, failures); resume with
            ``resume=True``.

    Notes:
        Differences and CIs are Miller's (2024) paired analysis (``compare_evals``); with
        binary scores and one repeat the p-value is McNemar's exact test (McNemar 1947), else
        the paired t-test. P-values against the baseline are adjusted with ``correction``
        (Holm 1979 by default) across the checkpoints. The consecutive steps (baseline → first
        checkpoint → second → ...) are tested as a fixed sequence (Maurer, Hothorn & Lehmacher
        1995): each at level ``alpha`` while every earlier step was a significant improvement,
        which keeps the family-wise error at ``alpha``; a step's adjusted p-value is the
        largest raw p-value up to it. Improvement stops before the first step that is not a
        significant improvement.
    """
    arms = _resolve(checkpoints, adapters)
    base, arms = _baseline(baseline, arms)
    scorer_obj = get_scorer(scorer) if isinstance(scorer, str) else scorer
    scorer_name = str(getattr(scorer_obj, "name", getattr(scorer_obj, "__name__", "")))
    if not scorer_name:
        raise ValidationError("`scorer` has no name; give a scorer name or a named callable")
    gates = _check_targets(targets, scorer_name)
    if not 0.0 < alpha < 1.0:
        raise ValidationError(f"`alpha` must be in (0, 1), got {alpha!r}")
    adjust([0.5], correction, alpha=alpha)  # an unknown correction fails before the run
    items = _dataset(dataset)
    if len(items) < 2:
        raise ValidationError(
            f"`dataset` has {len(items)} item(s); a paired comparison needs at least 2"
        )
    conditions = [
        Condition(
            a.name,
            _Seeded(a),
            prompt=prompt,
            params={**DEFAULT_PARAMS, **dict(params or {})},
            description=a.source,
        )
        for a in [base, *arms]
    ]
    experiment = Experiment(
        name="lora-checkpoints",
        dataset=items,
        conditions=conditions,
        scorers=[scorer_obj],
        repeats=repeats,
        seed=seed,
        limits=limits or Limits(concurrency=4, timeout_s=None),
        metadata={"baseline": base.name, "checkpoints": [a.name for a in arms]},
    )
    result = await run(experiment, run_dir, resume=resume, progress=progress)
    if result.status is not RunStatus.COMPLETE:
        raise CrucibleError(
            f"the evaluation run ended {result.status.value}: {result.reason}; finish it with "
            "resume=True"
        )
    trials = result.trials
    names = [base.name, *(a.name for a in arms)]
    matrices = _matrices(trials, names, f"score_{scorer_name}")
    binary = _binary(matrices, repeats)
    confidence = 1.0 - alpha
    versus = [
        _compare(matrices[a.name], matrices[base.name], (a.name, base.name), binary, confidence)
        for a in arms
    ]
    adjusted = adjust([c.p_value for c in versus], correction, alpha=alpha)
    versus = [
        attrs.evolve(
            c,
            p_adjusted=float(adjusted.adjusted[i]),
            significant=bool(adjusted.reject[i]) and c.estimate > 0,
        )
        for i, c in enumerate(versus)
    ]
    order = [base.name, *(a.name for a in arms)]
    steps = [
        _compare(matrices[cur], matrices[prev], (cur, prev), binary, confidence)
        for prev, cur in itertools.pairwise(order)
    ]
    # Fixed-sequence testing: each step at level alpha while every earlier step was a
    # significant improvement; the adjusted p-value is the running maximum of the raw ones.
    running, chain = 0.0, True
    for i, step in enumerate(steps):
        running = max(running, step.p_value)
        chain = chain and step.estimate > 0 and running <= alpha
        steps[i] = attrs.evolve(step, p_adjusted=running, significant=chain)
    stops = next((s.against for s in steps if not s.significant), steps[-1].checkpoint)
    counts = {
        row["condition"]: (int(row["trials"]), int(row["errors"]))
        for row in trials.group_by("condition")
        .agg(pl.len().alias("trials"), pl.col("error_type").is_not_null().sum().alias("errors"))
        .iter_rows(named=True)
    }
    results = []
    for arm, cmp in zip(arms, versus, strict=True):
        score = _score(matrices[arm.name], binary, confidence)
        gate_results = tuple(
            _gate(m, t, cmp.estimate, cmp.ci_low, cmp.ci_high)
            if m == _DIFFERENCE_GATE
            else _gate(m, t, score.estimate, score.ci_low, score.ci_high)
            for m, t in gates.items()
        )
        results.append(
            CheckpointResult(arm.name, arm.source, score, cmp, gate_results, *counts[arm.name])
        )
    winners = [r for r in results if r.beats_baseline]
    best = max(winners, key=lambda r: r.score.estimate).name if winners else None
    run_path = Path(run_dir)
    evaluation = CheckpointEvaluation(
        run_dir=run_path,
        baseline=base.name,
        baseline_source=base.source,
        baseline_score=_score(matrices[base.name], binary, confidence),
        baseline_trials=counts[base.name][0],
        baseline_errors=counts[base.name][1],
        scorer=scorer_name,
        n_items=len(items),
        repeats=repeats,
        seed=seed,
        alpha=alpha,
        correction=adjusted.method,
        test_description=(
            "McNemar's exact test on binary scores" if binary else "paired t-test on item means"
        )
        + ", paired differences with CIs (Miller 2024)",
        checkpoints=tuple(results),
        steps=tuple(steps),
        best=best,
        improvement_stops_at=stops,
        trials=trials,
        report_path=run_path / REPORT_FILE,
    )
    evaluation.report_path.write_text(render_markdown(evaluation))
    (run_path / RESULT_FILE).write_text(json.dumps(evaluation.to_dict(), indent=2, default=str))
    return evaluation


def evaluate_checkpoints_sync(
    checkpoints: AdapterRegistry | Mapping[str, CheckpointLike] | Iterable[CheckpointLike],
    dataset: Dataset | Sequence[Item] | str | os.PathLike[str],
    **options: Any,
) -> CheckpointEvaluation:
    """:func:`evaluate_checkpoints` for code without an event loop."""
    return asyncio.run(evaluate_checkpoints(checkpoints, dataset, **options))


# -- crux lora eval ------------------------------------------------------------------------


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
            chosen = _named_files(source)
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
