"""Budgeted search over prompts, models, parameters and ensembles, confirmed on held-out items.

Optuna proposes configurations (TPE for one objective, NSGA-II for several); each trial is a
harness run of the configuration on the same search items, in chunks, so a paired pruner can
stop a trial that is clearly worse than the best so far on the items both have seen (one-sided
Wilcoxon signed-rank test, as Optuna's WilcoxonPruner). Spend is projected before starting
and checked before every trial. The best configurations are then compared with the baseline on
held-out items by a paired test, with Holm's correction over the ``confirm_top`` configurations
carried to the holdout, so having searched does not inflate the confirmation's error rate.
"""

from __future__ import annotations

import math
import os
import tempfile
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import Any

import attrs
import numpy as np
import optuna
import polars as pl

from crucible.bench import BenchError, adjust, ttest, wilcoxon
from crucible.core import Item
from crucible.datasets import Dataset
from crucible.harness import (
    Budget,
    Condition,
    Experiment,
    PromptTemplate,
    estimate_async,
    run,
)
from crucible.production_eval._errors import GateBudgetError, ProductionEvalError

__all__ = ["OptimizationResult", "default_build", "optimize"]

Space = Mapping[str, Sequence[Any] | tuple[float, float] | tuple[int, int]]
_OBJECTIVES = {"accuracy": "maximize", "cost_per_query": "minimize", "latency_mean": "minimize"}


@attrs.frozen
class OptimizationResult:
    """What :func:`optimize` found and confirmed.

    Attributes:
        best_config: the confirmed winner's configuration, or ``None`` when no searched
            configuration beat the baseline on the holdout after correction.
        trials: one row per trial: number, state, config, objective values, items, spend.
        confirmation: one row per configuration confirmed on the holdout: mean difference
            with the baseline, p-value and Holm-adjusted p-value.
        projected_usd: the spend projected before starting; ``spent_usd`` what was spent.
    """

    best_config: dict[str, Any] | None
    best_values: list[float]
    trials: pl.DataFrame
    confirmation: pl.DataFrame
    projected_usd: float
    spent_usd: float
    n_search_items: int
    n_holdout_items: int
    reason: str

    def to_dict(self) -> dict[str, Any]:
        return {
            "best_config": self.best_config,
            "best_values": self.best_values,
            "trials": self.trials.to_dicts(),
            "confirmation": self.confirmation.to_dicts(),
            "projected_usd": self.projected_usd,
            "spent_usd": self.spent_usd,
            "n_search_items": self.n_search_items,
            "n_holdout_items": self.n_holdout_items,
            "reason": self.reason,
        }

    def __str__(self) -> str:
        return (
            f"Optimisation: {self.trials.height} trials, ${self.spent_usd:.4f} spent "
            f"(projected ${self.projected_usd:.4f}); best {self.best_config} — {self.reason}"
        )


def default_build(config: Mapping[str, Any], name: str, examples: Sequence[Item] = ()) -> Condition:
    """A :class:`Condition` from a configuration.

    Keys: ``model`` (a spec), ``prompt`` (a template over item fields), ``system`` (a system
    message), ``few_shot`` (how many of ``examples`` to show first); every other key is a
    model parameter (``temperature``, ``max_tokens``, ...).
    """
    special = ("model", "prompt", "system", "few_shot")
    params = {k: v for k, v in config.items() if k not in special}
    shots = int(config.get("few_shot", 0))
    if shots > len(examples):
        raise ProductionEvalError(
            f"`few_shot` = {shots} but only {len(examples)} `examples` were given to build from"
        )
    text = str(config.get("prompt", "{input}"))
    template = PromptTemplate(
        text,
        system=config.get("system"),
        examples=list(examples[:shots]),
        example_text=text + "\n{expected}",
    )
    return Condition(name, config.get("model", "sim:model-a"), prompt=template, params=params)


def _suggest(trial: optuna.Trial, space: Space) -> dict[str, Any]:
    config: dict[str, Any] = {}
    for name, spec in space.items():
        if (
            isinstance(spec, tuple)
            and len(spec) == 2
            and all(isinstance(v, int | float) and not isinstance(v, bool) for v in spec)
        ):
            lo, hi = spec
            if isinstance(lo, int) and isinstance(hi, int):
                config[name] = trial.suggest_int(name, lo, hi)
            else:
                config[name] = trial.suggest_float(name, float(lo), float(hi))
        elif isinstance(spec, Sequence) and not isinstance(spec, str) and len(spec) > 0:
            config[name] = trial.suggest_categorical(name, list(spec))
        else:
            raise ProductionEvalError(
                f"`space[{name!r}]` must be a non-empty list of choices or a (low, high) range, "
                f"got {spec!r}"
            )
    return config


def _values(trials: pl.DataFrame, objective: str) -> np.ndarray:
    frame = trials.sort("item_id")
    if objective == "accuracy":
        col = next(c for c in frame.columns if c.startswith("score_"))
        return frame[col].fill_null(0.0).to_numpy().astype(float)
    column = {"cost_per_query": "cost_usd", "latency_mean": "latency_ms"}[objective]
    return frame[column].fill_null(0.0).to_numpy().astype(float)


async def _evaluate(
    cond: Condition,
    items: list[Item],
    root: Path,
    seed: int,
    scorers: Sequence[Any],
    chunks: int,
    on_chunk: Callable[[pl.DataFrame], bool] | None,
    limit_usd: float | None = None,
) -> tuple[pl.DataFrame, float]:
    result = None
    sizes = sorted({max(1, math.ceil(len(items) * (i + 1) / chunks)) for i in range(chunks)})
    for i, size in enumerate(sizes):
        exp = Experiment(
            "optimize",
            items[:size],
            [cond],
            scorers=list(scorers),
            seed=seed,
            budget=Budget(usd=limit_usd, confirm_above_usd=None),
        )
        result = await run(exp, root, resume=i > 0, force=i > 0, telemetry=False)
        if result.status.value == "partial":
            break
        if on_chunk is not None and on_chunk(result.trials) and size < len(items):
            break
    assert result is not None
    return result.trials, result.cost_usd


async def optimize(
    space: Space,
    objective: str | Sequence[str],
    dataset: Dataset | Sequence[Item],
    *,
    n_trials: int,
    budget_usd: float,
    sampler: str = "tpe",
    directions: Sequence[str] | None = None,
    prune: str | None = "paired",
    holdout: float = 0.3,
    seed: int = 0,
    baseline: Mapping[str, Any] | None = None,
    build: Callable[[Mapping[str, Any], str], Condition] = default_build,
    scorers: Sequence[Any] = ("exact_match",),
    chunks: int = 4,
    prune_alpha: float = 0.05,
    confirm_top: int = 3,
    alpha: float = 0.05,
    run_dir: str | os.PathLike[str] | None = None,
    cost_ceiling: float | None = None,
    projection_configs: Sequence[Mapping[str, Any]] = (),
    cost_per_item_usd: float | None = None,
    examples: Sequence[Item] = (),
) -> OptimizationResult:
    """Search ``space`` for the configuration that is best on ``objective``; confirm it.

    Args:
        space: ``{name: [choices]}`` or ``{name: (low, high)}`` (ints give integer ranges):
            models, prompts, temperature, few-shot count, ensemble settings — whatever
            ``build`` turns into a :class:`Condition`.
        objective: ``"accuracy"``, ``"cost_per_query"``, ``"latency_mean"`` or a list of them
            (multi-objective, NSGA-II; no pruning).
        budget_usd: a hard limit: the projected spend (harness estimate x trials, plus the
            holdout confirmation) must fit, and no trial starts once the spend would pass it.
        baseline: the configuration the winner must beat on the holdout (default: the first
            choice of every dimension).
        cost_ceiling: dollars per query; a trial above it scores as failing on the objective.
        projection_configs: configurations to project the cost with (default: the baseline
            and each ``model`` choice); the dearest one is assumed for every trial.
        examples: few-shot items for :func:`default_build`'s ``few_shot`` dimension (keep
            them out of ``dataset``).
        cost_per_item_usd: a known upper bound of the cost per item, used instead of the
            harness estimate (for pipelines the estimate cannot price).

    Raises:
        GateBudgetError: ``budget_usd`` <= 0, or the projection exceeds it (the message gives
            the most trials that fit).
    """
    if not (isinstance(budget_usd, int | float) and budget_usd > 0):
        raise GateBudgetError(f"`budget_usd` must be a positive number, got {budget_usd!r}")
    if isinstance(n_trials, bool) or not isinstance(n_trials, int) or n_trials < 1:
        raise ProductionEvalError(f"`n_trials` must be an int >= 1, got {n_trials!r}")
    if not 0 < holdout < 1:
        raise ProductionEvalError(f"`holdout` must be in (0, 1), got {holdout!r}")
    if not space:
        raise ProductionEvalError("`space` is empty: give at least one dimension to search")
    if build is default_build and examples:
        shots = list(examples)

        def build(config: Mapping[str, Any], name: str) -> Condition:
            return default_build(config, name, shots)

    objectives = [objective] if isinstance(objective, str) else list(objective)
    for o in objectives:
        if o not in _OBJECTIVES:
            raise ProductionEvalError(f"unknown objective {o!r}; use one of {sorted(_OBJECTIVES)}")
    dirs = list(directions) if directions is not None else [_OBJECTIVES[o] for o in objectives]
    items = list(dataset)
    order = np.random.default_rng(seed).permutation(len(items))
    n_hold = max(2, round(len(items) * holdout))
    if len(items) - n_hold < 2:
        raise ProductionEvalError(f"`dataset` has {len(items)} items: too few to split")
    hold = [items[i] for i in order[:n_hold]]
    search = [items[i] for i in order[n_hold:]]
    base_cfg = dict(baseline) if baseline is not None else {k: v[0] for k, v in space.items()}
    # Project with the dearest model choice so the projection is an upper bound.
    probes = [base_cfg, *[dict(c) for c in projection_configs]] + [
        {**base_cfg, "model": m}
        for m in (space.get("model") or [])
        if not isinstance(space.get("model"), tuple)
    ]
    per_trial = 0.0
    for i, cfg in enumerate(probes):
        probe = Experiment("projection", search, [build(cfg, f"probe{i}")], scorers=list(scorers))
        per_trial = max(per_trial, (await estimate_async(probe)).cost_usd or 0.0)
    if cost_per_item_usd is not None:
        per_trial = max(per_trial, cost_per_item_usd * len(search))
    per_hold = per_trial * len(hold) / len(search)
    projected = per_trial * n_trials + per_hold * (min(confirm_top, n_trials) + 1)
    if projected > budget_usd:
        fit = int((budget_usd - per_hold * 2) // per_trial) if per_trial > 0 else n_trials
        raise GateBudgetError(
            f"projected spend ${projected:.4f} for {n_trials} trials exceeds `budget_usd` "
            f"${budget_usd:.4f}; at most {max(fit, 0)} trials fit"
        )
    root = Path(run_dir) if run_dir is not None else Path(tempfile.mkdtemp(prefix="crucible-opt-"))
    multi = len(objectives) > 1
    algo = (
        optuna.samplers.NSGAIISampler(seed=seed)
        if multi or sampler == "nsga2"
        else (
            optuna.samplers.TPESampler(seed=seed)
            if sampler == "tpe"
            else optuna.samplers.RandomSampler(seed=seed)
        )
    )
    optuna.logging.set_verbosity(optuna.logging.WARNING)
    study = optuna.create_study(directions=dirs, sampler=algo)  # type: ignore[arg-type]
    spent = 0.0
    best_scores: dict[str, float] = {}
    rows: list[dict[str, Any]] = []
    for number in range(n_trials):
        if spent + per_trial > budget_usd:
            break
        trial = study.ask()
        config = _suggest(trial, space)
        pruned = False

        def check(trials: pl.DataFrame, best_scores: dict[str, float] = best_scores) -> bool:
            nonlocal pruned
            if multi or prune != "paired" or not best_scores:
                return False
            ids = trials.sort("item_id")["item_id"].to_list()
            mine = _values(trials, objectives[0])
            ref = np.array([best_scores[i] for i in ids if i in best_scores])
            if ref.size != mine.size or ref.size < 10 or np.all(mine == ref):
                return False
            alt = "less" if dirs[0] == "maximize" else "greater"
            try:
                p = wilcoxon(mine, ref, alternative=alt).p_value
            except BenchError:
                return False
            pruned = p < prune_alpha
            return pruned

        trials, cost = await _evaluate(
            build(config, f"t{number}"),
            search,
            root / f"trial-{number}",
            seed,
            scorers,
            chunks,
            check,
            budget_usd - spent,
        )
        spent += cost
        per_trial = max(per_trial, cost)
        vals = [float(_values(trials, o).mean()) for o in objectives]
        over = (
            cost_ceiling is not None and trials.height > 0 and cost / trials.height > cost_ceiling
        )
        if over:
            vals = [-math.inf if d == "maximize" else math.inf for d in dirs]
        if pruned:
            study.tell(trial, state=optuna.trial.TrialState.PRUNED)
        else:
            study.tell(trial, vals if multi else vals[0])
            if not multi:
                best = study.best_trial
                if best.number == trial.number:
                    t = trials.sort("item_id")
                    best_scores = dict(
                        zip(t["item_id"].to_list(), _values(t, objectives[0]), strict=True)
                    )
        state = "pruned" if pruned else ("over cost ceiling" if over else "complete")
        rows.append(
            {
                "number": number,
                "state": state,
                "config": repr(config),
                "items": trials.height,
                "cost_usd": cost,
                **{o: v for o, v in zip(objectives, vals, strict=True)},
            }
        )
    table = pl.DataFrame(rows)
    done = [
        t
        for t in study.trials
        if t.state == optuna.trial.TrialState.COMPLETE and all(math.isfinite(v) for v in t.values)
    ]
    if not done:
        return OptimizationResult(
            None,
            [],
            table,
            pl.DataFrame(),
            projected,
            spent,
            len(search),
            len(hold),
            "no trial completed within the budget",
        )
    ranked = sorted(done, key=lambda t: t.values[0], reverse=dirs[0] == "maximize")
    top = ranked[: max(1, confirm_top)]
    base_trials, base_cost = await _evaluate(
        build(base_cfg, "baseline"), hold, root / "holdout-baseline", seed, scorers, 1, None
    )
    spent += base_cost
    base_v = _values(base_trials, objectives[0])
    conf: list[dict[str, Any]] = []
    for ft in top:
        cfg = dict(ft.params)
        tr, c = await _evaluate(
            build(cfg, "candidate"), hold, root / f"holdout-{ft.number}", seed, scorers, 1, None
        )
        spent += c
        v = _values(tr, objectives[0])
        alt = "greater" if dirs[0] == "maximize" else "less"
        d = v - base_v
        p = (
            1.0
            if np.ptp(d) == 0 and d.mean() == 0
            else ttest(v, base_v, paired=True, alternative=alt).p_value
        )
        conf.append(
            {
                "trial": ft.number,
                "config": repr(cfg),
                "difference": float(d.mean()),
                "p_value": float(p),
                "cost_usd": c,
            }
        )
    adj = adjust([r["p_value"] for r in conf], method="holm", alpha=alpha).adjusted
    for r, a in zip(conf, adj, strict=True):
        r["p_adjusted"] = float(a)
    confirmed = [(r, ft) for r, ft in zip(conf, top, strict=True) if r["p_adjusted"] < alpha]
    if not confirmed:
        return OptimizationResult(
            None,
            [],
            table,
            pl.DataFrame(conf),
            projected,
            spent,
            len(search),
            len(hold),
            "no searched configuration beat the baseline on the holdout after Holm's correction",
        )
    win_row, win_trial = max(
        confirmed, key=lambda rt: rt[0]["difference"] * (1 if dirs[0] == "maximize" else -1)
    )
    return OptimizationResult(
        dict(win_trial.params),
        list(win_trial.values),
        table,
        pl.DataFrame(conf),
        projected,
        spent,
        len(search),
        len(hold),
        f"trial {win_trial.number} beats the baseline on {len(hold)} held-out items by "
        f"{win_row['difference']:+.4g} (Holm-adjusted p = {win_row['p_adjusted']:.3g})",
    )
