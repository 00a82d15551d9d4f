"""The deployment gate: should the candidate replace the baseline, at stated error rates?"""

from __future__ import annotations

import json
import math
import os
import tempfile
from collections.abc import Mapping, Sequence
from enum import StrEnum
from pathlib import Path
from typing import Any

import attrs
import numpy as np
import polars as pl

from crucible.bench import adjust, sample_size
from crucible.core import Item, Model
from crucible.datasets import Dataset
from crucible.harness import Budget, Condition, Experiment, RunResult, run
from crucible.production_eval._errors import (
    GateBudgetError,
    ProductionEvalError,
    RequirementError,
)
from crucible.production_eval._gate_report import render_html, render_markdown
from crucible.production_eval._gate_stats import RequirementResult, Status, test_requirement
from crucible.production_eval._requirements import (
    GATE_METRICS,
    BoundKind,
    Requirement,
    parse_requirement,
)

__all__ = ["Decision", "GateDecision", "gate", "paired_values"]


class Decision(StrEnum):
    DEPLOY = "deploy"
    REJECT = "reject"
    NEED_MORE_DATA = "need_more_data"


@attrs.frozen
class GateDecision:
    """What :func:`gate` decided and why.

    Attributes:
        decision: :class:`Decision`.
        reason: one sentence.
        requirements: the evidence per requirement.
        n_required: items the power analysis asked for (per arm, paired).
        n_planned: items planned (``n_required`` capped by the dataset).
        items_used: items evaluated when the gate stopped.
        trials_used: trials run (both arms, errors included).
        looks: looks taken at the data.
        cost_usd: dollars spent.
        run_dir: the harness run directory.
        alpha, power, correction, sequential: the settings.
    """

    decision: Decision
    reason: str
    requirements: list[RequirementResult]
    n_required: int
    n_planned: int
    items_used: int
    trials_used: int
    looks: int
    cost_usd: float
    run_dir: str
    alpha: float
    power: float
    correction: str
    sequential: bool

    @property
    def exit_code(self) -> int:
        return {Decision.DEPLOY: 0, Decision.REJECT: 1, Decision.NEED_MORE_DATA: 2}[self.decision]

    def to_dict(self) -> dict[str, Any]:
        data = attrs.asdict(self, recurse=False)
        data["decision"] = self.decision.value
        data["requirements"] = [r.to_dict() for r in self.requirements]
        return data

    def to_markdown(self) -> str:
        return render_markdown(self.to_dict())

    def to_html(self) -> str:
        return render_html(self.to_dict())

    def __str__(self) -> str:
        lines = [
            f"Gate: {self.decision.value.upper()} — {self.reason}",
            f"  {self.items_used} items ({self.trials_used} trials, {self.looks} looks), "
            f"${self.cost_usd:.4f}",
        ]
        lines += [f"  [{r.status}] {r.requirement}: {r.reason}" for r in self.requirements]
        return "\n".join(lines)


def paired_values(trials: pl.DataFrame, metric: str) -> tuple[np.ndarray, np.ndarray, list[str]]:
    """Per-item candidate and baseline values of ``metric`` (items both arms ran), by item id.

    Scores of failed trials count as 0 (an error is a wrong answer); latency, cost and tokens
    of failed trials are left out.
    """
    column, _ = GATE_METRICS[metric]
    if column == "score":
        score_cols = [c for c in trials.columns if c.startswith("score_")]
        value = pl.col(score_cols[0]).fill_null(0.0)
    elif column == "error":
        value = pl.col("error_type").is_not_null().cast(pl.Float64)
    elif column == "guard" and "guard" not in trials.columns:
        raise RequirementError(
            f"requirement on {metric!r} needs guard checks: pass `guard=True` (crucible-guard) "
            "or a crucible.guard.Guard"
        )
    else:
        value = pl.when(pl.col("error_type").is_null()).then(pl.col(column).cast(pl.Float64))
    frame = (
        trials.select("condition", "item_id", value.alias("v"))
        .drop_nulls("v")
        .group_by("condition", "item_id")
        .agg(pl.col("v").mean())
    )
    cand = frame.filter(pl.col("condition") == "candidate").drop("condition")
    base = frame.filter(pl.col("condition") == "baseline").drop("condition")
    joined = cand.join(base, on="item_id", suffix="_b").sort("item_id")
    return joined["v"].to_numpy(), joined["v_b"].to_numpy(), joined["item_id"].to_list()


def _condition(name: str, value: Condition | Model | str, prompt: str) -> Condition:
    if isinstance(value, Condition):
        return attrs.evolve(value, name=name)
    return Condition(name, value, prompt=prompt)


def _items(dataset: Dataset | Sequence[Item], seed: int) -> list[Item]:
    items = list(dataset)
    if not items:
        raise ProductionEvalError("`dataset` is empty: the gate needs items to evaluate")
    order = np.random.default_rng(seed).permutation(len(items))
    return [items[i] for i in order]


def _plan(
    reqs: list[Requirement], alpha: float, power_target: float, mde: float, assumed_sd: float
) -> int:
    sizes = [1]
    for r in reqs:
        if r.kind is BoundKind.DIFFERENCE and GATE_METRICS[r.metric][1] == "mean":
            effect = max(abs(r.value), mde) / assumed_sd
            alt = "greater" if r.higher_is_better else "less"
            res = sample_size(
                "paired-t",
                effect=effect if alt == "greater" else -effect,
                power=power_target,
                alpha=alpha,
                alternative=alt,
            )
            sizes.append(int(res.n))
    return max(sizes)


async def gate(
    candidate: Condition | Model | str,
    baseline: Condition | Model | str,
    dataset: Dataset | Sequence[Item],
    *,
    requirements: Sequence[str | Mapping[str, Any] | Requirement],
    alpha: float = 0.05,
    power: float = 0.8,
    correction: str = "holm",
    budget_usd: float | None = None,
    sequential: bool = True,
    looks: int = 5,
    mde: float = 0.02,
    assumed_sd: float = 0.5,
    prompt: str = "{input}",
    scorers: Sequence[Any] = ("exact_match",),
    run_dir: str | os.PathLike[str] | None = None,
    seed: int = 0,
    guard: Any = None,
) -> GateDecision:
    """Decide whether ``candidate`` may replace ``baseline``: deploy, reject or need more data.

    Before running, a power analysis (paired t on the per-item difference; Cohen 1988) sizes the
    evaluation for each difference requirement's margin (at least ``mde``) at level
    ``alpha / len(requirements)`` and ``power``, assuming a paired standard deviation
    ``assumed_sd`` (0.5 bounds it for 0/1 scores); the dataset caps it. Both arms run on the
    same items as one harness run in ``run_dir``.

    With ``sequential=True`` the items are run in ``looks`` growing batches (resuming the same
    run) and every requirement is re-tested after each: difference and error-rate requirements
    with anytime-valid confidence sequences (Howard et al. 2021; Waudby-Smith & Ramdas 2024),
    bootstrap requirements with ``alpha`` split over the looks. Each requirement gets level
    ``alpha / k`` (Bonferroni over ``k`` requirements), so the gate's error rate holds however
    early it stops. It stops once every requirement is decided or one fails, or when the
    budget is spent. With ``sequential=False`` all planned items run, fixed-sample tests
    decide, and ``correction`` (``holm`` by default) adjusts the p-values.

    Args:
        requirements: strings such as ``"accuracy >= baseline - 0.01"``,
            ``"latency_p95 <= 1.1 * baseline"``, ``"error_rate <= 0.01"``, or mappings.
        budget_usd: the most the gate may spend; the run stops when the next batch would
            exceed it (the decision is then usually ``need_more_data``).
        guard: ``True`` (a default ``crucible.guard.Guard``) or a Guard: every prediction is
            checked with ``check_output``, and ``guard_detection_rate`` requirements test the
            share flagged. crucible-guard is imported only then.

    Raises:
        RequirementError: a requirement does not parse (the message says which and where).
        GateBudgetError: ``budget_usd`` is not positive.
        ProductionEvalError: a bad ``alpha``, ``power``, ``looks`` or an empty dataset.
    """
    if not 0 < alpha < 0.5:
        raise ProductionEvalError(f"`alpha` must be in (0, 0.5), got {alpha!r}")
    if not 0 < power < 1:
        raise ProductionEvalError(f"`power` must be in (0, 1), got {power!r}")
    if budget_usd is not None and not (isinstance(budget_usd, int | float) and budget_usd > 0):
        raise GateBudgetError(f"`budget_usd` must be a positive number or None, got {budget_usd!r}")
    if isinstance(looks, bool) or not isinstance(looks, int) or looks < 1:
        raise ProductionEvalError(f"`looks` must be an int >= 1, got {looks!r}")
    if isinstance(requirements, str):
        requirements = [requirements]
    reqs = [parse_requirement(r, i) for i, r in enumerate(requirements)]
    if not reqs:
        raise ProductionEvalError("`requirements` is empty: state what the candidate must meet")
    k = len(reqs)
    checker = _guard(guard)
    if checker is None and any(r.metric == "guard_detection_rate" for r in reqs):
        raise RequirementError(
            "a guard_detection_rate requirement needs guard checks: pass `guard=True` or a "
            "crucible.guard.Guard"
        )
    items = _items(dataset, seed)
    n_required = _plan(reqs, alpha / k, power, mde, assumed_sd)
    n_planned = min(n_required, len(items)) if n_required > 1 else len(items)
    n_looks = looks if sequential else 1
    sizes = sorted({max(2, math.ceil(n_planned * (i + 1) / n_looks)) for i in range(n_looks)})
    root = Path(run_dir) if run_dir is not None else Path(tempfile.mkdtemp(prefix="crucible-gate-"))
    cand_c, base_c = (
        _condition("candidate", candidate, prompt),
        _condition("baseline", baseline, prompt),
    )
    spent, results, result = 0.0, [], None
    taken, budget_hit = 0, False
    for look, size in enumerate(sizes):
        remaining = None if budget_usd is None else budget_usd - spent
        if remaining is not None and remaining <= 0:
            budget_hit = True
            break
        exp = Experiment(
            "gate",
            items[:size],
            [base_c, cand_c],
            scorers=list(scorers),
            seed=seed,
            budget=Budget(usd=budget_usd, confirm_above_usd=None),
        )
        result = await run(exp, root, resume=look > 0, force=look > 0)
        spent = result.cost_usd
        taken += 1
        if checker is not None:
            result = attrs.evolve(result, trials=_flag(result.trials, checker))
        results = _evaluate(result, reqs, alpha / k, len(sizes), sequential, mde, seed, correction)
        if result.status.value == "partial":
            budget_hit = True
            break
        statuses = {r.status for r in results}
        if Status.FAIL in statuses or statuses == {Status.PASS}:
            break
    assert result is not None  # at least one look runs: budget_usd > 0
    decision, reason = _verdict(results, budget_hit)
    items_used = len(paired_values(result.trials, reqs[0].metric)[2]) if result.trials.height else 0
    out = GateDecision(
        decision,
        reason,
        results,
        n_required,
        n_planned,
        items_used,
        result.trials.height,
        taken,
        spent,
        str(root),
        alpha,
        power,
        correction,
        sequential,
    )
    (root / "gate.json").write_text(json.dumps(out.to_dict(), indent=2, default=str))
    (root / "gate.md").write_text(out.to_markdown())
    (root / "gate.html").write_text(out.to_html())
    return out


def _guard(guard: Any) -> Any:
    if guard is None or guard is False:
        return None
    if guard is True:
        try:
            from crucible.guard import Guard
        except ImportError:
            raise ProductionEvalError(
                "`guard=True` needs crucible-guard: pip install crucible-guard"
            ) from None
        return Guard()
    if not hasattr(guard, "check_output"):
        raise ProductionEvalError(
            f"`guard` must be True or an object with check_output(text), got {type(guard).__name__}"
        )
    return guard


def _flag(trials: pl.DataFrame, checker: Any) -> pl.DataFrame:
    flags = [
        None if text is None else float(not checker.check_output(str(text)).safe)
        for text in trials["prediction"].to_list()
    ]
    return trials.with_columns(pl.Series("guard", flags, dtype=pl.Float64))


def _evaluate(
    result: RunResult,
    reqs: list[Requirement],
    alpha: float,
    looks: int,
    sequential: bool,
    mde: float,
    seed: int,
    correction: str,
) -> list[RequirementResult]:
    out = []
    for req in reqs:
        cand, base, _ = paired_values(result.trials, req.metric)
        if cand.size < 2:
            out.append(
                RequirementResult(
                    req.text,
                    req.metric,
                    Status.UNDECIDED,
                    f"{cand.size} paired values: too few to test",
                    math.nan,
                    math.nan,
                    math.nan,
                    math.nan,
                    math.nan,
                    math.nan,
                    int(cand.size),
                    "none",
                )
            )
            continue
        out.append(
            test_requirement(
                req, cand, base, alpha=alpha, looks=looks, sequential=sequential, mde=mde, seed=seed
            )
        )
    ps = [r.p_value for r in out]
    if all(math.isfinite(p) for p in ps) and len(ps) > 1:
        adj = adjust(ps, method=correction).adjusted
        out = [attrs.evolve(r, adjusted_p_value=float(a)) for r, a in zip(out, adj, strict=True)]
    return out


def _verdict(results: list[RequirementResult], budget_hit: bool) -> tuple[Decision, str]:
    failed = [r.requirement for r in results if r.status == Status.FAIL]
    open_ = [r.requirement for r in results if r.status == Status.UNDECIDED]
    if failed:
        return Decision.REJECT, f"the candidate fails {'; '.join(failed)}"
    if not open_:
        return Decision.DEPLOY, "the candidate meets every requirement"
    why = "the budget was spent" if budget_hit else "the planned items ran out"
    return Decision.NEED_MORE_DATA, f"{why} before {'; '.join(open_)} could be decided"
