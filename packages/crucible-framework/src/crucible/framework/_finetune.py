"""Checkpoint evaluation: the implementation behind :mod:`crucible.framework.finetune`."""

from __future__ import annotations

import asyncio
import itertools
import json
import math
import os
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path
from typing import Any

import attrs
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
from crucible.framework._checkpoints import (
    BASE,
    Arm,
    CheckpointLike,
    checkpoint_files,
    resolve_checkpoints,
    split_baseline,
)
from crucible.framework._finetune_report import (
    CheckpointComparison,
    CheckpointEvaluation,
    CheckpointResult,
    GateResult,
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
    Sampler,
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
]

#: Generation parameters used unless ``params`` says otherwise: greedy, one line.
DEFAULT_PARAMS: dict[str, Any] = {"max_tokens": 32, "temperature": 0.0, "stop": "\n"}
REPORT_FILE = "checkpoints.md"
RESULT_FILE = "checkpoints.json"
_DIFFERENCE_GATE = "improvement"


# -- resolving checkpoints -----------------------------------------------------------------


class _Seeded:
    """Calls a model as the runner would, adding the trial's seed for samplers, so sampling
    with ``temperature > 0`` is reproducible; describes its checkpoint for the run fingerprint."""

    def __init__(self, arm: Arm) -> None:
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
    baseline: str | Model = BASE,
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
    arms = resolve_checkpoints(checkpoints, adapters)
    base, arms = split_baseline(baseline, arms)
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
