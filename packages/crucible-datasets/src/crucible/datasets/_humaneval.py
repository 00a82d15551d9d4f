"""HumanEval: pass@k and functional correctness of generated code, run in the sandbox."""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import attrs
import numpy as np
import polars as pl

from crucible.core import Item, ValidationError
from crucible.datasets._dataset import Dataset
from crucible.datasets._sandbox import (
    ExecutionResult,
    SandboxBackend,
    SandboxLimits,
    run_code,
)
from crucible.datasets._scoring import BaseScorer, Score

__all__ = [
    "CodeEvaluation",
    "CodeExecution",
    "SampleResult",
    "evaluate_code",
    "pass_at_k",
    "program",
]


def _count(name: str, value: Any) -> int:
    if isinstance(value, bool) or not isinstance(value, int | np.integer):
        raise ValidationError(f"`{name}` must be an int, got {value!r}")
    return int(value)


def pass_at_k(n: int, c: int, k: int) -> float:
    """Unbiased estimate of pass@k from ``n`` samples of which ``c`` are correct.

    Notes:
        pass@k = 1 - C(n - c, k) / C(n, k), the probability that at least one of ``k``
        samples drawn without replacement from the ``n`` is correct. It is computed as
        ``1 - prod_{i = n-c+1}^{n} (1 - k / i)``, which avoids the huge binomial
        coefficients (numerically stable for any ``n``); it is 1 when ``n - c < k``.

    References:
        Chen, M. et al. (2021). Evaluating Large Language Models Trained on Code.
        arXiv:2107.03374, section 2.1 and figure 3.

    Validated against: the exact binomial formula with :func:`math.comb`.

    Example:
        >>> round(pass_at_k(10, 3, 1), 12)
        0.3
        >>> round(pass_at_k(200, 10, 100), 6)
        0.999229
    """
    n, c, k = _count("n", n), _count("c", c), _count("k", k)
    if n < 1:
        raise ValidationError(f"`n` (samples) must be >= 1, got {n}")
    if not 0 <= c <= n:
        raise ValidationError(f"`c` (correct samples) must be in [0, n={n}], got {c}")
    if not 1 <= k <= n:
        raise ValidationError(f"`k` must be in [1, n={n}], got {k}: draw at least k samples")
    if n - c < k:
        return 1.0
    return float(1.0 - np.prod(1.0 - k / np.arange(n - c + 1, n + 1, dtype=np.float64)))


def program(item: Item, completion: str) -> str:
    """The program that checks ``completion`` for a HumanEval item:
    ``prompt + completion + "\\n" + test + "\\n" + "check(entry_point)"``."""
    meta = item.metadata
    missing = [k for k in ("test", "entry_point") if k not in meta]
    if missing:
        raise ValidationError(
            f"item {item.id!r} lacks metadata {', '.join(missing)}: code execution needs "
            "HumanEval-style items (prompt, test, entry_point)"
        )
    prompt = str(meta.get("prompt", item.input))
    return f"{prompt}{completion}\n{meta['test']}\ncheck({meta['entry_point']})\n"


@attrs.frozen(slots=True)
class SampleResult:
    """One completion of one problem, executed."""

    task_id: str
    sample: int
    completion: str
    result: ExecutionResult

    @property
    def passed(self) -> bool:
        return self.result.passed

    def to_dict(self) -> dict[str, Any]:
        return {
            "task_id": self.task_id,
            "sample": self.sample,
            "completion": self.completion,
            **self.result.to_dict(),
        }


@attrs.frozen(slots=True)
class CodeEvaluation:
    """Functional correctness of a set of completions.

    Attributes:
        samples: every executed sample.
        pass_at_k: mean pass@k over problems, for each requested ``k`` ≤ the smallest number of
            samples per problem.
        n_problems: problems evaluated.
        backend: the sandbox backend that ran.
    """

    samples: tuple[SampleResult, ...]
    pass_at_k: dict[int, float]
    n_problems: int
    backend: str

    def per_problem(self) -> pl.DataFrame:
        """One row per problem: ``task_id``, ``n``, ``correct`` and ``pass@k`` columns."""
        counts = (
            self.to_polars()
            .group_by("task_id", maintain_order=True)
            .agg(pl.len().alias("n"), pl.col("passed").sum().alias("correct"))
        )
        columns = {
            f"pass@{k}": [
                pass_at_k(n, c, k) for n, c in zip(counts["n"], counts["correct"], strict=True)
            ]
            for k in self.pass_at_k
        }
        return counts.with_columns(pl.Series(name, values) for name, values in columns.items())

    def to_polars(self) -> pl.DataFrame:
        rows = [
            {
                "task_id": s.task_id,
                "sample": s.sample,
                "passed": s.passed,
                "status": s.result.status.value,
                "reason": s.result.reason,
                "backend": s.result.backend,
                "duration_s": s.result.duration_s,
            }
            for s in self.samples
        ]
        return pl.DataFrame(rows)

    def to_dict(self) -> dict[str, Any]:
        return {
            "pass_at_k": {str(k): v for k, v in self.pass_at_k.items()},
            "n_problems": self.n_problems,
            "backend": self.backend,
            "samples": [s.to_dict() for s in self.samples],
        }

    def __str__(self) -> str:
        scores = ", ".join(f"pass@{k} = {v:.4f}" for k, v in self.pass_at_k.items())
        return f"{self.n_problems} problems, {len(self.samples)} samples [{self.backend}]: {scores}"


def evaluate_code(
    problems: Dataset | Sequence[Item],
    completions: Mapping[str, Sequence[str]],
    *,
    k: Sequence[int] = (1,),
    limits: SandboxLimits | None = None,
    backend: SandboxBackend | str = SandboxBackend.AUTO,
    concurrency: int = 2,
) -> CodeEvaluation:
    """Execute every completion against its problem's tests and estimate pass@k.

    Args:
        problems: HumanEval items (``load("humaneval")``).
        completions: task id → the completions sampled for it (what follows the prompt).
        k: the pass@k values to report (each must be ≤ the samples of every problem).
        concurrency: sandboxed processes run at once.

    Example:
        >>> from crucible.datasets import load
        >>> he = load("humaneval", limit=2)
        >>> print(evaluate_code(he, {it.id: [it.expected] for it in he}).pass_at_k)
        {1: 1.0}
    """
    if isinstance(concurrency, bool) or not isinstance(concurrency, int) or concurrency < 1:
        raise ValidationError(f"`concurrency` must be a positive int, got {concurrency!r}")
    by_id = {item.id: item for item in problems}
    unknown = [task for task in completions if task not in by_id]
    if unknown:
        raise ValidationError(f"`completions` has unknown task ids: {', '.join(unknown[:5])}")
    if not completions:
        raise ValidationError("`completions` is empty: give at least one completion per task")
    smallest = min(len(v) for v in completions.values())
    bad_k = [kk for kk in k if not 1 <= kk <= smallest]
    if smallest == 0 or bad_k:
        raise ValidationError(
            f"`k` values {bad_k or list(k)} need at least that many samples per task; the "
            f"smallest task has {smallest}"
        )
    jobs = [
        (task, index, completion)
        for task, samples in completions.items()
        for index, completion in enumerate(samples)
    ]

    def execute(job: tuple[str, int, str]) -> ExecutionResult:
        return run_code(program(by_id[job[0]], job[2]), limits=limits, backend=backend)

    with ThreadPoolExecutor(max_workers=concurrency) as pool:
        results = list(pool.map(execute, jobs))
    samples = tuple(
        SampleResult(task, index, completion, result)
        for (task, index, completion), result in zip(jobs, results, strict=True)
    )
    scores: dict[int, float] = {}
    for kk in k:
        per_task = [
            pass_at_k(len(v), sum(s.passed for s in samples if s.task_id == task), kk)
            for task, v in completions.items()
        ]
        scores[int(kk)] = math.fsum(per_task) / len(per_task)
    backends = sorted({s.result.backend for s in samples})
    return CodeEvaluation(samples, scores, len(completions), ",".join(backends))


class CodeExecution(BaseScorer):
    """1 when the completion passes the item's tests in the sandbox (HumanEval style).

    ``details`` carry the execution ``status``, ``reason`` and the ``backend`` that ran.
    """

    name = "code_execution"

    def __init__(
        self,
        *,
        limits: SandboxLimits | None = None,
        backend: SandboxBackend | str = SandboxBackend.AUTO,
        concurrency: int = 2,
    ) -> None:
        self.limits = limits
        self.backend = backend
        self.concurrency = concurrency

    def __call__(self, prediction: Any, item: Item) -> Score:
        result = run_code(program(item, str(prediction)), limits=self.limits, backend=self.backend)
        return Score(
            float(result.passed),
            {"status": result.status.value, "reason": result.reason, "backend": result.backend},
        )

    def score_batch(self, predictions: Sequence[Any], items: Sequence[Item]) -> list[Score]:
        if len(predictions) != len(items):
            raise ValidationError(
                f"`predictions` has {len(predictions)} entries but `items` has {len(items)}"
            )
        with ThreadPoolExecutor(max_workers=self.concurrency) as pool:
            return list(pool.map(self, predictions, items))
