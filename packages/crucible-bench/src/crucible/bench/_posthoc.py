"""Post-hoc pairwise comparisons after an omnibus test: Tukey HSD and Games–Howell."""

from __future__ import annotations

import math
from itertools import combinations

import attrs
import numpy as np
from scipy import stats

from crucible.bench._anova import Groups, group_arrays
from crucible.bench._errors import DegenerateDataError
from crucible.bench._results import ResultMixin, fmt, fmt_p
from crucible.bench._validate import check_alpha

__all__ = ["Pairwise", "PairwiseComparison", "games_howell", "tukey_hsd"]


@attrs.frozen
class PairwiseComparison(ResultMixin):
    """One pair of a post-hoc family.

    ``estimate`` is what ``estimate_name`` says: the mean difference ``a - b`` for Tukey,
    Games–Howell and t-tests, the rank-biserial correlation for rank tests, ``p_a - p_b`` for
    proportions.

    ``p_value`` is the raw p-value of the pair's own test; ``p_adjusted`` is corrected for the
    family by ``correction`` (for Tukey and Games–Howell the studentized-range p-value is the
    family-wise one and ``p_value == p_adjusted``).
    """

    group_a: str
    group_b: str
    test: str
    estimate_name: str
    estimate: float
    ci_low: float
    ci_high: float
    confidence: float
    statistic: float
    df: float
    p_value: float
    p_adjusted: float
    reject: bool
    correction: str

    def __str__(self) -> str:
        mark = "*" if self.reject else " "
        return (
            f"{mark} {self.group_a} - {self.group_b}: {fmt(self.estimate)} "
            f"[{fmt(self.ci_low)}, {fmt(self.ci_high)}], adj. {fmt_p(self.p_adjusted)}"
        )


@attrs.frozen
class Pairwise(ResultMixin):
    """A family of pairwise comparisons and how it was corrected."""

    test: str
    correction: str
    alpha: float
    comparisons: tuple[PairwiseComparison, ...]

    def __str__(self) -> str:
        head = f"{self.test}, family-wise correction: {self.correction} (alpha = {fmt(self.alpha)})"
        return "\n".join([head, *(str(c) for c in self.comparisons)])


def tukey_hsd(groups: Groups, *, alpha: float = 0.05, nan_policy: str = "raise") -> Pairwise:
    """Tukey's honestly significant difference test for all pairs of k groups.

    Notes
    -----
    q = |x̄ᵢ - x̄ⱼ| / √(MS_w/2 · (1/nᵢ + 1/nⱼ)) against the studentized range with (k, N - k)
    df (Tukey–Kramer for unequal sizes). Assumes normal groups with equal variances; use
    :func:`games_howell` when variances differ. CIs are simultaneous at 1 - alpha.

    References
    ----------
    Tukey, J. W. (1949). Comparing individual means in the analysis of variance. Biometrics
    5(2), 99–114. Kramer, C. Y. (1956). Biometrics 12(3), 307–310.

    Validated against: scipy.stats.tukey_hsd (p-values and confidence intervals).

    Examples
    --------
    >>> r = tukey_hsd([[1.0, 2.0, 3.0], [2.0, 3.0, 4.0], [5.0, 6.0, 7.0]])
    >>> [round(c.p_adjusted, 4) for c in r.comparisons]
    [0.4827, 0.0065, 0.0242]
    """
    alpha = check_alpha(alpha)
    names, arrays = group_arrays(groups, nan_policy)
    if all(np.ptp(g) == 0 for g in arrays):
        raise DegenerateDataError("every group in `groups` is constant; Tukey's q is undefined")
    res = stats.tukey_hsd(*arrays)
    ci = res.confidence_interval(1 - alpha)
    df = float(sum(g.size for g in arrays) - len(arrays))
    rows = []
    for i, j in combinations(range(len(arrays)), 2):
        p = float(res.pvalue[i, j])
        rows.append(
            PairwiseComparison(
                names[i],
                names[j],
                "Tukey HSD",
                "mean difference",
                float(arrays[i].mean() - arrays[j].mean()),
                float(ci.low[i, j]),
                float(ci.high[i, j]),
                1 - alpha,
                float(res.statistic[i, j]),
                df,
                p,
                p,
                p <= alpha,
                "tukey",
            )
        )
    return Pairwise("Tukey HSD", "tukey", alpha, tuple(rows))


def games_howell(groups: Groups, *, alpha: float = 0.05, nan_policy: str = "raise") -> Pairwise:
    """Games–Howell pairwise test: Tukey's approach with Welch's SE and df per pair.

    Notes
    -----
    t = (x̄ᵢ - x̄ⱼ)/√(sᵢ²/nᵢ + sⱼ²/nⱼ), Welch–Satterthwaite df νᵢⱼ, p = P(q_{k,νᵢⱼ} ≥ |t|√2).
    Simultaneous CI: difference ± q_{1-α; k, νᵢⱼ}/√2 · SE. Does not assume equal variances.

    References
    ----------
    Games, P. A. & Howell, J. F. (1976). Pairwise multiple comparison procedures with unequal
    n's and/or variances. J. Educational Statistics 1(2), 113–125. doi:10.3102/10769986001002113.

    Validated against: pingouin.pairwise_gameshowell (T, df, pval).

    Examples
    --------
    >>> r = games_howell([[1.0, 2.0, 3.0], [2.0, 3.0, 4.5], [5.0, 6.0, 9.0]])
    >>> round(r.comparisons[1].statistic, 4)
    -3.5
    """
    alpha = check_alpha(alpha)
    names, arrays = group_arrays(groups, nan_policy)
    if any(np.ptp(g) == 0 for g in arrays):
        raise DegenerateDataError(
            "a group in `groups` is constant; Games–Howell needs a variance per group"
        )
    k = len(arrays)
    rows = []
    for i, j in combinations(range(k), 2):
        a, b = arrays[i], arrays[j]
        va, vb = a.var(ddof=1) / a.size, b.var(ddof=1) / b.size
        se = math.sqrt(va + vb)
        diff = float(a.mean() - b.mean())
        t = diff / se
        df = float((va + vb) ** 2 / (va**2 / (a.size - 1) + vb**2 / (b.size - 1)))
        p = float(stats.studentized_range.sf(abs(t) * math.sqrt(2), k, df))
        p = min(max(p, 0.0), 1.0)
        crit = float(stats.studentized_range.ppf(1 - alpha, k, df)) / math.sqrt(2)
        rows.append(
            PairwiseComparison(
                names[i],
                names[j],
                "Games-Howell",
                "mean difference",
                diff,
                diff - crit * se,
                diff + crit * se,
                1 - alpha,
                t,
                df,
                p,
                p,
                p <= alpha,
                "games-howell",
            )
        )
    return Pairwise("Games-Howell", "games-howell", alpha, tuple(rows))
