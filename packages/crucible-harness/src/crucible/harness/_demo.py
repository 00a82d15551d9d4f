"""The getting-started experiment: a 3-model majority-vote ensemble against a single model."""

from __future__ import annotations

import asyncio
from collections import Counter
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

import numpy as np
import polars as pl

from crucible.core import Completion, Item, Model, SimulatedModel, Usage
from crucible.datasets import load
from crucible.harness._experiment import Condition, Experiment, TrialContext
from crucible.harness._limits import Budget, Limits

if TYPE_CHECKING:
    from crucible.bench import EvalComparison

__all__ = ["DEMO_SOURCE", "MajorityVote", "compare_conditions", "demo_experiment"]

DEMO_SOURCE = "demo"
DEMO_PROMPT = "{input}\n{choices}\nAnswer with the letter of the correct choice."
#: The ensemble's members and the single model (stand-ins for Gemini Flash, GPT-4o mini and
#: Claude Haiku in the getting-started guide; the single model is the ensemble's GPT member).
ENSEMBLE_MEMBERS = ("gemini-pro", "gpt-4", "claude-3")
SINGLE_MODEL = "gpt-4"


class MajorityVote:
    """A custom pipeline: ask every member, answer what most of them said.

    Members are asked concurrently with the trial's item, repeat and attempt (so simulated
    members stay deterministic). Ties go to the earliest member among the tied answers. A
    member's failure is tolerated while a majority of members answered; otherwise the first
    error is raised (and retried by the runner if it is transient).

    Example:
        >>> vote = MajorityVote([SimulatedModel(m, seed=1) for m in ENSEMBLE_MEMBERS])
        >>> vote.name
        'majority(gemini-pro,gpt-4,claude-3)'
    """

    def __init__(self, members: Sequence[Model]) -> None:
        if len(members) < 2:
            raise ValueError(f"a majority vote needs at least 2 members, got {len(members)}")
        self.models = list(members)
        self.name = "majority(" + ",".join(str(getattr(m, "name", m)) for m in members) + ")"

    async def __call__(self, item: Item, context: TrialContext) -> Completion:
        results = await asyncio.gather(
            *(
                m.generate(
                    context.prompt,
                    item=item,
                    repeat=context.repeat,
                    attempt=context.attempt,
                    condition=context.condition,
                    experiment_id=context.experiment_id,
                    **context.params,
                )
                for m in self.models
            ),
            return_exceptions=True,
        )
        answers = [r for r in results if isinstance(r, Completion)]
        errors = [r for r in results if isinstance(r, BaseException)]
        if len(answers) * 2 <= len(self.models):
            raise errors[0]
        counts = Counter(a.text.strip() for a in answers)
        top = max(counts.values())
        winner = next(a for a in answers if counts[a.text.strip()] == top)
        usage = Usage()
        for a in answers:
            usage = usage + a.usage
        costs = [a.cost_usd for a in answers]
        return Completion(
            text=winner.text,
            model=self.name,
            provider=winner.provider,
            usage=usage,
            cost_usd=None if any(c is None for c in costs) else sum(c or 0.0 for c in costs),
            latency_ms=max(a.latency_ms for a in answers),
            finish_reason=winner.finish_reason,
            confidence=top / len(self.models),
            raw={"votes": dict(counts), "members": len(self.models), "failed": len(errors)},
        )

    def describe(self) -> dict[str, Any]:
        return {"voting": "majority", "members": [getattr(m, "spec", str(m)) for m in self.models]}


def demo_experiment(
    *,
    items: int = 100,
    repeats: int = 3,
    seed: int = 42,
    ensemble: Model | None = None,
) -> Experiment:
    """ "Ensemble vs single model" on the bundled MMLU STEM subset, with simulated models.

    Args:
        items: MMLU items, a seeded sample of the 8 bundled STEM subjects.
        repeats: repeats of every (condition, item).
        seed: the root seed (sample, schedule and simulated answers).
        ensemble: any :class:`~crucible.core.Model` to use as the ensemble condition; by
            default a :class:`MajorityVote` over three simulated models.

    Example:
        >>> demo_experiment(items=10, repeats=1).n_trials
        20
    """
    dataset = load("mmlu", limit=items, seed=seed)
    members = [SimulatedModel(name, seed=seed) for name in ENSEMBLE_MEMBERS]
    treatment: Any = ensemble if ensemble is not None else MajorityVote(members)
    return Experiment(
        name="ensemble-vs-single",
        dataset=dataset,
        conditions=[
            Condition(
                "single_model",
                SimulatedModel(SINGLE_MODEL, seed=seed),
                prompt=DEMO_PROMPT,
                description=f"sim:{SINGLE_MODEL} alone",
            ),
            Condition(
                "ensemble_3model",
                treatment,
                prompt=DEMO_PROMPT,
                description="3-model majority-vote ensemble",
            ),
        ],
        scorers=["multiple_choice"],
        repeats=repeats,
        seed=seed,
        limits=Limits(concurrency=50, timeout_s=10.0, backoff_base_s=0.05),
        budget=Budget(confirm_above_usd=None),
        metadata={
            "hypothesis": "a 3-model majority vote is at least 5 points more accurate than a "
            "single model on MMLU STEM",
            "hypotheses": ["ensemble_3model >= single_model + 0.05 on accuracy"],
            "design": "paired: every item asked under both conditions, repeated",
        },
    )


def compare_conditions(
    trials: pl.DataFrame,
    a: str,
    b: str,
    scorer: str,
    *,
    cluster: dict[str, str] | None = None,
) -> EvalComparison:
    """Paired comparison of two conditions' scores on the same items (``a - b``).

    Scores form an items x repeats matrix per condition (a trial that errored scores 0: a
    failed call is not a right answer) and go to :func:`crucible.bench.compare_evals`, with
    ``cluster`` (item id -> cluster, e.g. the MMLU subject) for cluster-robust errors.
    """
    # crucible.bench (scipy) takes seconds to import: only when a comparison is asked for.
    from crucible.bench import compare_evals

    column = f"score_{scorer}"
    wide = []
    for name in (a, b):
        part = trials.filter(pl.col("condition") == name).with_columns(
            pl.col(column).fill_null(0.0)
        )
        table = part.pivot(on="repeat", index="item_id", values=column).sort("item_id")
        wide.append(table)
    items = wide[0]["item_id"].to_list()
    if items != wide[1]["item_id"].to_list():
        raise ValueError(f"conditions {a!r} and {b!r} were not run on the same items")
    matrices = [np.asarray(t.drop("item_id").to_numpy(), dtype=float) for t in wide]
    clusters = None if cluster is None else [cluster[i] for i in items]
    return compare_evals(matrices[0], matrices[1], clusters=clusters, nan_policy="omit")
