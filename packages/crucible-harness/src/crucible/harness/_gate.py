"""Release gates: requirements on a run's analysis, each supported, failed or inconclusive."""

from __future__ import annotations

import os
from collections.abc import Sequence
from typing import Any

import attrs

from crucible.harness._analysis import analyze
from crucible.harness._errors import HarnessError
from crucible.harness._hypothesis import Hypothesis, HypothesisResult, Verdict

__all__ = ["GateResult", "gate"]


@attrs.frozen
class GateResult:
    """Every requirement's verdict; ``exit_code`` is 0 when all hold, 1 when one fails, 2 when
    none fails but one is inconclusive."""

    results: tuple[HypothesisResult, ...]
    confidence: float

    @property
    def exit_code(self) -> int:
        verdicts = {r.verdict for r in self.results}
        if Verdict.NOT_SUPPORTED in verdicts:
            return 1
        return 2 if Verdict.INCONCLUSIVE in verdicts else 0

    @property
    def passed(self) -> bool:
        return self.exit_code == 0

    def to_dict(self) -> dict[str, Any]:
        return {
            "confidence": self.confidence,
            "exit_code": self.exit_code,
            "results": [r.to_dict() for r in self.results],
        }

    def __str__(self) -> str:
        labels = {
            Verdict.SUPPORTED: "PASS",
            Verdict.NOT_SUPPORTED: "FAIL",
            Verdict.INCONCLUSIVE: "INCONCLUSIVE",
        }
        return "\n".join(f"{labels[r.verdict]}: {r}" for r in self.results)


def gate(
    run_dir: str | os.PathLike[str],
    requirements: Sequence[str | Hypothesis],
    *,
    confidence: float = 0.95,
    correction: str = "holm",
) -> GateResult:
    """Check ``requirements`` (``"candidate >= baseline - 0.01 on accuracy"``) on a run.

    A requirement holds when the ``confidence`` CI of the paired difference lies entirely on
    its side of the threshold, fails when it lies entirely on the other side, and is
    inconclusive otherwise.

    Raises:
        HarnessError: no requirement, a malformed one, or an unknown condition or metric.
    """
    if not requirements:
        raise HarnessError("`requirements` is empty; give at least one, e.g. 'b >= a - 0.01'")
    parsed = [r if isinstance(r, Hypothesis) else Hypothesis.parse(r) for r in requirements]
    analysis = analyze(
        run_dir,
        hypotheses=parsed,
        confidence=confidence,
        alpha=1 - confidence,
        correction=correction,
    )
    return GateResult(analysis.hypotheses, confidence)
