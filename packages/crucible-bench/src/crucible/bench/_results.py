"""Result values shared by every test: fixed schemas, ``to_dict`` and a readable ``__str__``."""

from __future__ import annotations

import math
from typing import Any

import attrs
import numpy as np

__all__ = ["AssumptionCheck", "EffectSize", "Interval", "TestResult", "fmt"]


def fmt(value: float, digits: int = 4) -> str:
    """Format a number for display only (computations never round)."""
    if isinstance(value, int | np.integer):
        return str(value)
    if math.isnan(value):
        return "nan"
    if math.isinf(value):
        return "inf" if value > 0 else "-inf"
    if value != 0 and (abs(value) < 1e-3 or abs(value) >= 1e6):
        return f"{value:.{digits - 1}e}"
    return f"{value:.{digits}g}" if abs(value) >= 1 else f"{value:.{digits}f}"


def fmt_p(p: float) -> str:
    """Format a p-value for display."""
    return "p < 1e-16" if p < 1e-16 else f"p = {fmt(p)}"


def _plain(value: Any) -> Any:
    if isinstance(value, np.ndarray):
        return value.tolist()
    if isinstance(value, np.generic):
        return value.item()
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_plain(v) for v in value]
    return value


class ResultMixin:
    """``to_dict`` for attrs result values: nested values become dicts, arrays become lists."""

    __slots__ = ()

    def to_dict(self) -> dict[str, Any]:
        """Return the result as plain Python data (JSON-serialisable)."""
        out: dict[str, Any] = _plain(attrs.asdict(self, recurse=True))  # type: ignore[arg-type]
        return out


@attrs.frozen
class Interval(ResultMixin):
    """A point estimate with its confidence interval.

    ``se`` is NaN when the method has no standard error (bootstrap percentile, exact
    intervals); ``note`` explains any NaN.
    """

    estimate: float
    ci_low: float
    ci_high: float
    confidence: float
    n: int
    method: str
    se: float = math.nan
    note: str = ""

    @property
    def width(self) -> float:
        """``ci_high - ci_low``."""
        return self.ci_high - self.ci_low

    def __str__(self) -> str:
        pct = f"{self.confidence * 100:g}%"
        return (
            f"{fmt(self.estimate)} [{pct} CI {fmt(self.ci_low)}, {fmt(self.ci_high)}] "
            f"(n={self.n}, {self.method})"
        )


@attrs.frozen
class EffectSize(ResultMixin):
    """An effect size with its confidence interval and its magnitude in words.

    ``interpretation`` uses ``convention`` (for example "Cohen (1988)").
    """

    name: str
    value: float
    ci_low: float
    ci_high: float
    confidence: float
    n: int
    method: str
    interpretation: str
    convention: str

    def __str__(self) -> str:
        pct = f"{self.confidence * 100:g}%"
        return (
            f"{self.name} = {fmt(self.value)} [{pct} CI {fmt(self.ci_low)}, {fmt(self.ci_high)}]"
            f" ({self.interpretation}, {self.convention})"
        )


@attrs.frozen
class TestResult(ResultMixin):
    """The outcome of a hypothesis test, with the same fields for every test.

    ``df`` and ``df_denom`` are NaN where the test has no degrees of freedom (the latter is
    the denominator df of F tests). ``estimate``/``ci_low``/``ci_high`` hold the quantity the
    test is about (a mean difference, an odds ratio, a correlation) when it has one, NaN
    otherwise; ``note`` explains NaNs and degenerate cases.
    """

    __test__ = False  # not a pytest test class

    test: str
    statistic: float
    p_value: float
    df: float
    df_denom: float
    alternative: str
    n: int
    method: str
    estimate: float = math.nan
    ci_low: float = math.nan
    ci_high: float = math.nan
    confidence: float = math.nan
    degenerate: bool = False
    note: str = ""

    def __str__(self) -> str:
        if math.isnan(self.df):
            dfs = ""
        elif math.isnan(self.df_denom):
            dfs = f"({fmt(self.df)})"
        else:
            dfs = f"({fmt(self.df)}, {fmt(self.df_denom)})"
        text = f"{self.test}: statistic{dfs} = {fmt(self.statistic)}, {fmt_p(self.p_value)}"
        if not math.isnan(self.estimate):
            text += f"; estimate {fmt(self.estimate)}"
            if not math.isnan(self.ci_low):
                pct = f"{self.confidence * 100:g}%"
                text += f" [{pct} CI {fmt(self.ci_low)}, {fmt(self.ci_high)}]"
        text += f" (n={self.n}, {self.alternative})"
        if self.note:
            text += f" — {self.note}"
        return text


@attrs.frozen
class AssumptionCheck(ResultMixin):
    """One assumption check: which test, on what, its statistic and p-value, and the verdict."""

    name: str
    test: str
    statistic: float
    p_value: float
    passed: bool
    verdict: str

    def __str__(self) -> str:
        return f"{self.name}: {self.test} {fmt(self.statistic)}, {fmt_p(self.p_value)} → {self.verdict}"
