"""Attack metrics: success rates with Wilson intervals, and how much an attack changed the text."""

from __future__ import annotations

import math
import re
from collections.abc import Sequence
from typing import Any

import attrs
from scipy import stats

from crucible.core import ValidationError

__all__ = ["Proportion", "edit_distance", "token_jaccard", "wilson_interval"]

_TOKEN = re.compile(r"\w+")


@attrs.frozen
class Proportion:
    """A rate with its confidence interval.

    ``estimate`` / ``ci_low`` / ``ci_high`` are NaN when ``n == 0`` (nothing was measured).
    """

    successes: int
    n: int
    estimate: float
    ci_low: float
    ci_high: float
    confidence: float
    method: str = "wilson"

    def to_dict(self) -> dict[str, Any]:
        return attrs.asdict(self)

    def __str__(self) -> str:
        pct = round(self.confidence * 100)
        return (
            f"{self.estimate:.3f} ({self.successes}/{self.n}; {pct}% CI "
            f"{self.ci_low:.3f}-{self.ci_high:.3f}, {self.method})"
        )


def wilson_interval(successes: int, n: int, *, confidence: float = 0.95) -> Proportion:
    """The Wilson score interval of a binomial proportion (Wilson, 1927).

    Notes:
        centre = (p̂ + z²/2n) / (1 + z²/n), half-width = z·sqrt(p̂(1-p̂)/n + z²/4n²) / (1 + z²/n),
        with z = Φ⁻¹(1 - (1 - confidence)/2). Unlike the Wald interval it stays inside [0, 1] and
        keeps near-nominal coverage at rates near 0 or 1, where attack success rates often are.

    References:
        Wilson, E. B. (1927). Probable inference, the law of succession, and statistical
        inference. JASA 22(158), 209-212. doi:10.1080/01621459.1927.10502953

    Validated against: statsmodels.stats.proportion.proportion_confint(method="wilson").

    Example:
        >>> p = wilson_interval(8, 20)
        >>> round(p.ci_low, 4), round(p.ci_high, 4)
        (0.2188, 0.6134)
    """
    for name, value in (("successes", successes), ("n", n)):
        if isinstance(value, bool) or not isinstance(value, int) or value < 0:
            raise ValidationError(f"`{name}` must be a non-negative int, got {value!r}")
    if successes > n:
        raise ValidationError(f"`successes` ({successes}) cannot exceed `n` ({n})")
    if (
        isinstance(confidence, bool)
        or not isinstance(confidence, float | int)
        or not 0 < confidence < 1
    ):
        raise ValidationError(f"`confidence` must be in (0, 1), got {confidence!r}")
    if n == 0:
        nan = math.nan
        return Proportion(0, 0, nan, nan, nan, float(confidence))
    z = float(stats.norm.ppf(1 - (1 - confidence) / 2))
    p = successes / n
    denom = 1 + z * z / n
    centre = (p + z * z / (2 * n)) / denom
    half = z * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / denom
    # The bounds bracket p̂ exactly; clamping removes floating-point residue at k = 0 or n.
    low = min(p, max(0.0, centre - half))
    high = max(p, min(1.0, centre + half))
    return Proportion(successes, n, p, low, high, float(confidence))


def edit_distance(a: str, b: str) -> int:
    """Levenshtein distance between two strings, in characters (insert, delete, substitute).

    Example:
        >>> edit_distance("kitten", "sitting")
        3
    """
    if len(a) < len(b):
        a, b = b, a
    previous = list(range(len(b) + 1))
    for i, ca in enumerate(a, 1):
        current = [i]
        for j, cb in enumerate(b, 1):
            current.append(min(previous[j] + 1, current[j - 1] + 1, previous[j - 1] + (ca != cb)))
        previous = current
    return previous[-1]


def token_jaccard(a: str, b: str) -> float:
    """Jaccard similarity of the lower-cased word sets (1 = same words; 1 for two empty texts).

    Example:
        >>> token_jaccard("the cat sat", "the cat ran")
        0.5
    """
    ta, tb = set(_TOKEN.findall(a.lower())), set(_TOKEN.findall(b.lower()))
    if not ta and not tb:
        return 1.0
    return len(ta & tb) / len(ta | tb)


def mean(values: Sequence[float]) -> float:
    """The mean, NaN for no values."""
    return math.fsum(values) / len(values) if values else math.nan
