"""Declared hypotheses ("ensemble > single + 0.02 on accuracy") and their verdicts."""

from __future__ import annotations

import re
from enum import StrEnum
from typing import Any

import attrs

from crucible.harness._errors import HarnessError

__all__ = ["Hypothesis", "HypothesisResult", "Verdict"]

_OPS = (">=", "<=", ">", "<")
_PATTERN = re.compile(
    r"^\s*(?P<a>[\w.\-:]+)\s*(?P<op>>=|<=|>|<)\s*(?P<b>[\w.\-:]+)"
    r"\s*(?:(?P<sign>[+-])\s*(?P<margin>\d+(?:\.\d*)?(?:[eE][-+]?\d+)?|\.\d+))?"
    r"\s*(?:on\s+(?P<metric>[\w.\-]+))?\s*$"
)


class Verdict(StrEnum):
    """``supported``: the whole CI is on the hypothesis' side of the threshold; ``not
    supported``: the whole CI is on the other side; ``inconclusive``: the CI straddles it."""

    SUPPORTED = "supported"
    NOT_SUPPORTED = "not supported"
    INCONCLUSIVE = "inconclusive"


def _op(instance: object, attribute: attrs.Attribute[Any], value: str) -> None:
    if value not in _OPS:
        raise HarnessError(f"Hypothesis `op` must be one of {', '.join(_OPS)}, got {value!r}")


@attrs.frozen
class Hypothesis:
    """The claim ``mean(a) op mean(b) + margin`` on ``metric``.

    ``Hypothesis("ensemble", ">", "single", metric="accuracy", margin=0.02)`` claims the
    ensemble is more than 2 points more accurate; ``Hypothesis("candidate", ">=", "baseline",
    margin=-0.01)`` claims the candidate loses at most one point (non-inferiority).

    Example:
        >>> Hypothesis.parse("candidate >= baseline - 0.01 on accuracy").margin
        -0.01
    """

    a: str
    op: str = attrs.field(validator=_op)
    b: str
    metric: str = "accuracy"
    margin: float = 0.0

    @classmethod
    def parse(cls, text: str) -> Hypothesis:
        """Parse ``"A OP B [+|- MARGIN] [on METRIC]"``.

        Raises:
            HarnessError: the text does not have that form.
        """
        match = _PATTERN.match(text)
        if match is None:
            raise HarnessError(
                f"cannot read requirement {text!r}; write it as 'A OP B [+|- MARGIN] [on "
                "METRIC]', e.g. 'candidate >= baseline - 0.01 on accuracy'"
            )
        margin = float(match["margin"]) if match["margin"] else 0.0
        if match["sign"] == "-":
            margin = -margin
        return cls(match["a"], match["op"], match["b"], match["metric"] or "accuracy", margin)

    def __str__(self) -> str:
        tail = ""
        if self.margin:
            tail = f" {'+' if self.margin > 0 else '-'} {abs(self.margin):g}"
        return f"{self.a} {self.op} {self.b}{tail} on {self.metric}"

    def judge(self, ci_low: float, ci_high: float) -> Verdict:
        """The verdict for a CI of ``mean(a) - mean(b)``."""
        t = self.margin
        if self.op in (">", ">="):
            above = ci_low > t if self.op == ">" else ci_low >= t
            if above:
                return Verdict.SUPPORTED
            return Verdict.NOT_SUPPORTED if ci_high < t else Verdict.INCONCLUSIVE
        below = ci_high < t if self.op == "<" else ci_high <= t
        if below:
            return Verdict.SUPPORTED
        return Verdict.NOT_SUPPORTED if ci_low > t else Verdict.INCONCLUSIVE


@attrs.frozen
class HypothesisResult:
    """A hypothesis, the estimate of ``mean(a) - mean(b)`` with its CI, and the verdict."""

    hypothesis: str
    metric: str
    a: str
    b: str
    threshold: float
    estimate: float
    ci_low: float
    ci_high: float
    confidence: float
    p_value: float
    test: str
    verdict: Verdict

    def to_dict(self) -> dict[str, Any]:
        out = attrs.asdict(self)
        out["verdict"] = self.verdict.value
        return out

    def __str__(self) -> str:
        return (
            f"{self.hypothesis}: {self.verdict.value.upper()} (difference {self.estimate:.4g}, "
            f"{self.confidence:.0%} CI [{self.ci_low:.4g}, {self.ci_high:.4g}], threshold "
            f"{self.threshold:.4g})"
        )
