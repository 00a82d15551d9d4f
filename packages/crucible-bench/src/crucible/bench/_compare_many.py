"""``compare_many``: an omnibus test across k groups, then corrected pairwise comparisons."""

from __future__ import annotations

import math
from collections.abc import Callable
from itertools import combinations

import attrs
import numpy as np

from crucible.bench._anova import Groups, anova, rm_anova, welch_anova
from crucible.bench._assumptions import check_equal_variance, check_normality, check_sphericity
from crucible.bench._categorical import chi2_contingency, cochran_q, fisher_exact, mcnemar
from crucible.bench._compare import Kind, detect_kind
from crucible.bench._effect_size import make_effect
from crucible.bench._errors import BenchInputError
from crucible.bench._multiple import Correction, adjust
from crucible.bench._nonparametric import friedman, kruskal, mann_whitney, wilcoxon
from crucible.bench._posthoc import Pairwise, PairwiseComparison, games_howell, tukey_hsd
from crucible.bench._results import (
    AssumptionCheck,
    EffectSize,
    ResultMixin,
    TestResult,
    fmt_p,
)
from crucible.bench._ttest import ttest
from crucible.bench._validate import as_array, as_enum, as_groups, check_alpha

__all__ = ["ManyComparison", "compare_many"]


@attrs.frozen
class ManyComparison(ResultMixin):
    """Omnibus test, its effect size, the post-hoc family and why they were chosen."""

    omnibus: TestResult
    effect_size: EffectSize
    posthoc: Pairwise
    assumptions: tuple[AssumptionCheck, ...]
    reason: str
    groups: tuple[str, ...]
    n: tuple[int, ...]
    kind: str
    paired: bool
    alpha: float
    significant: bool

    def __str__(self) -> str:
        return "\n".join(
            [
                str(self.omnibus),
                f"effect size: {self.effect_size}",
                f"why these tests: {self.reason}",
                *(f"  check: {c}" for c in self.assumptions),
                str(self.posthoc),
            ]
        )


def compare_many(
    groups: Groups,
    *,
    paired: bool | None = None,
    kind: Kind | str = Kind.AUTO,
    correction: Correction | str = Correction.HOLM,
    alpha: float = 0.05,
    nan_policy: str = "raise",
) -> ManyComparison:
    """Compare k >= 3 groups: omnibus test chosen from the design and data, then post-hoc pairs.

    Parameters
    ----------
    groups
        A sequence or a mapping name → scores. Paired designs need equal lengths (position i is
        the same item in every group).
    paired
        ``True`` for repeated measures (the same items under every condition); ``None`` and
        ``False`` mean independent groups (never guessed).
    correction
        Family-wise correction of the pairwise p-values when the post-hoc test does not control
        the family itself (Tukey and Games–Howell do; their own correction is reported).

    Notes
    -----
    Independent: continuous and normal with equal variances (Brown–Forsythe) → one-way ANOVA
    + Tukey HSD; normal with unequal variances → Welch ANOVA + Games–Howell; otherwise (or
    ordinal) → Kruskal–Wallis + pairwise Mann–Whitney; binary → χ² on the k×2 table + pairwise
    χ² or Fisher tests. Paired: continuous with normal residuals (of the additive
    subject + condition model) → repeated-measures ANOVA (Greenhouse–Geisser corrected) +
    pairwise paired t-tests; otherwise (or ordinal) → Friedman + pairwise Wilcoxon; binary →
    Cochran's Q + pairwise McNemar. Pairwise tests other than Tukey/Games–Howell are corrected
    with ``correction``.

    References
    ----------
    Field, A. (2013). Discovering Statistics, 4th ed., ch. 11–13. Serlin, R. C., Carr, J. &
    Marascuilo, L. A. (1982). A measure of association for selected nonparametric
    procedures. Psychological Bulletin 92(3), 786–790 (η²_Q).

    Validated against: each omnibus and post-hoc path returns the numbers of the named
    function it delegates to (anova, welch_anova, kruskal, rm_anova, friedman, cochran_q,
    tukey_hsd, games_howell), themselves validated against scipy/pingouin/statsmodels.

    Examples
    --------
    >>> r = compare_many([[1.0, 2.0, 3.0, 2.5], [2.0, 3.0, 4.0, 3.1], [5.0, 6.0, 7.0, 6.4]])
    >>> r.omnibus.test, r.posthoc.test
    ('one-way ANOVA', 'Tukey HSD')
    """
    alpha = check_alpha(alpha)
    corr = as_enum(correction, Correction, "correction")
    requested = as_enum(kind, Kind, "kind")
    names, raw = as_groups(groups)
    if len(raw) < 3:
        raise BenchInputError(
            f"`groups` must hold at least 3 groups, got {len(raw)}; use compare() for two"
        )
    if paired:
        lengths = {np.asarray(r).shape for r in raw}
        if len(lengths) != 1:
            raise BenchInputError(
                f"paired `groups` must have equal lengths (one value per item), got shapes {sorted(lengths)}"
            )
        m = np.column_stack([np.asarray(r, dtype=np.float64) for r in raw])
        m = as_array(m, "groups", ndim=2) if nan_policy == "raise" else m[~np.isnan(m).any(axis=1)]
        if m.shape[0] < 2:
            raise BenchInputError(
                f"paired `groups` need at least 2 complete items, got {m.shape[0]}"
            )
        arrays = [m[:, j] for j in range(m.shape[1])]
    else:
        arrays = [
            as_array(r, f"groups[{n!r}]", nan_policy=nan_policy, min_n=2)
            for n, r in zip(names, raw, strict=True)
        ]
    pooled = np.concatenate(arrays)
    k = detect_kind(pooled) if requested is Kind.AUTO else requested
    if k is Kind.BINARY and not np.isin(pooled, (0.0, 1.0)).all():
        raise BenchInputError("kind='binary' needs scores that are 0/1 (or booleans)")
    how = f"{k.value} data ({'detected' if requested is Kind.AUTO else 'as requested'})"
    named = dict(zip(names, arrays, strict=True))
    sizes = tuple(a.size for a in arrays)
    checks: list[AssumptionCheck] = []
    if paired:
        m = np.column_stack(arrays)
        if k is Kind.BINARY:
            omni = cochran_q(m)
            n_items, kk = m.shape
            effect = make_effect(
                "eta_squared_q",
                omni.statistic / (n_items * (kk - 1)),
                math.nan,
                math.nan,
                0.95,
                n_items,
                "serlin-1982",
            )
            post = _pairwise(names, arrays, _mcnemar_pair, "McNemar", corr, alpha)
            reason = f"Repeated measures, {how}: Cochran's Q, then pairwise McNemar tests ({corr.value} correction)."
        else:
            normal = False
            if k is Kind.CONTINUOUS:
                resid = m - m.mean(axis=1, keepdims=True) - m.mean(axis=0) + m.mean()
                check = check_normality(resid.ravel(), "the residuals", alpha)
                checks.append(check)
                normal = check.passed
            if normal:
                checks.append(check_sphericity(m, alpha))
                omni = rm_anova(m, sphericity_correction=True)
                effect = make_effect(
                    "partial_eta_squared",
                    omni.estimate,
                    omni.ci_low,
                    omni.ci_high,
                    0.95,
                    omni.n,
                    "noncentral-F",
                )
                post = _pairwise(
                    names,
                    arrays,
                    lambda a, b: ttest(a, b, paired=True),
                    "paired t-test",
                    corr,
                    alpha,
                )
                reason = f"Repeated measures, {how}: normal residuals ({checks[0].test} {fmt_p(checks[0].p_value)}), so the repeated-measures ANOVA with Greenhouse-Geisser correction (Mauchly's test reported), then paired t-tests ({corr.value} correction)."
            else:
                omni = friedman(m)
                effect = make_effect(
                    "kendall_w", omni.estimate, math.nan, math.nan, 0.95, omni.n, "no-ci"
                )
                post = _pairwise(
                    names, arrays, lambda a, b: wilcoxon(a, b), "Wilcoxon signed-rank", corr, alpha
                )
                why = (
                    "ordinal scores"
                    if k is Kind.ORDINAL
                    else f"residuals not normal ({checks[0].test} {fmt_p(checks[0].p_value)})"
                )
                reason = f"Repeated measures, {how}: {why}, so the Friedman test, then pairwise Wilcoxon signed-rank tests ({corr.value} correction)."
    elif k is Kind.BINARY:
        table = np.array([[a.sum(), a.size - a.sum()] for a in arrays])
        omni = chi2_contingency(table, correction=False)
        effect = make_effect(
            "cramers_v", omni.estimate, omni.ci_low, omni.ci_high, 0.95, omni.n, "noncentral-chi2"
        )
        post = _pairwise(names, arrays, _proportion_pair, "chi-squared/Fisher", corr, alpha)
        reason = f"Independent groups, {how}: Pearson's χ² on the k×2 table, then pairwise χ² (Fisher's exact test when an expected count is below 5) with {corr.value} correction."
    else:
        normal = False
        if k is Kind.CONTINUOUS:
            checks = [check_normality(a, f"{n}", alpha) for n, a in named.items()]
            normal = all(c.passed for c in checks)
        if normal:
            var_check = check_equal_variance(arrays, alpha)
            checks.append(var_check)
            if var_check.passed:
                omni, post = anova(arrays), tukey_hsd(named, alpha=alpha)
                reason = f"Independent groups, {how}: normality not rejected in any group and variances not shown to differ (Brown-Forsythe {fmt_p(var_check.p_value)}), so one-way ANOVA and Tukey HSD."
            else:
                omni, post = welch_anova(arrays), games_howell(named, alpha=alpha)
                reason = f"Independent groups, {how}: normality not rejected but variances differ (Brown-Forsythe {fmt_p(var_check.p_value)}), so Welch's ANOVA and Games-Howell."
            effect = make_effect(
                "eta_squared",
                omni.estimate,
                omni.ci_low,
                omni.ci_high,
                0.95,
                omni.n,
                "noncentral-F",
            )
        else:
            omni = kruskal(arrays)
            effect = make_effect(
                "epsilon_squared", omni.estimate, math.nan, math.nan, 0.95, omni.n, "no-ci"
            )
            post = _pairwise(
                names, arrays, lambda a, b: mann_whitney(a, b), "Mann-Whitney U", corr, alpha
            )
            failed = [c.name.removeprefix("normality of ") for c in checks if not c.passed]
            why = (
                "ordinal scores"
                if k is Kind.ORDINAL
                else f"normality rejected or untestable in {', '.join(failed)}"
            )
            reason = f"Independent groups, {how}: {why}, so Kruskal-Wallis, then pairwise Mann-Whitney U tests ({corr.value} correction)."
    return ManyComparison(
        omni,
        effect,
        post,
        tuple(checks),
        reason,
        tuple(names),
        sizes,
        k.value,
        bool(paired),
        alpha,
        omni.p_value <= alpha,
    )


def _mcnemar_pair(a: np.ndarray, b: np.ndarray) -> TestResult:
    disc = float(np.sum(a != b))
    return mcnemar(a, b, method="exact" if disc < 25 else "asymptotic", correction=False)


def _proportion_pair(a: np.ndarray, b: np.ndarray) -> TestResult:
    table = np.array([[a.sum(), a.size - a.sum()], [b.sum(), b.size - b.sum()]])
    expected = table.sum(axis=1)[:, None] * table.sum(axis=0)[None, :] / table.sum()
    if (expected < 5).any() or (table.sum(axis=0) == 0).any():
        return fisher_exact(table)
    res = chi2_contingency(table, correction=False)
    diff = float(a.mean() - b.mean())
    return attrs.evolve(
        res, estimate=diff, ci_low=math.nan, ci_high=math.nan, note="estimate is p_a - p_b"
    )


def _pairwise(
    names: list[str],
    arrays: list[np.ndarray],
    test: Callable[[np.ndarray, np.ndarray], TestResult],
    label: str,
    corr: Correction,
    alpha: float,
) -> Pairwise:
    pairs = list(combinations(range(len(arrays)), 2))
    results = [test(arrays[i], arrays[j]) for i, j in pairs]
    adj = adjust([r.p_value for r in results], corr, alpha=alpha)
    rows = []
    for (i, j), r, p_adj, rej in zip(pairs, results, adj.adjusted, adj.reject, strict=True):
        what = (
            r.note.removeprefix("estimate is ")
            if r.note.startswith("estimate is ")
            else "mean difference"
        )
        rows.append(
            PairwiseComparison(
                names[i],
                names[j],
                r.test,
                what,
                r.estimate,
                r.ci_low,
                r.ci_high,
                r.confidence,
                r.statistic,
                r.df,
                r.p_value,
                float(p_adj),
                bool(rej),
                corr.value,
            )
        )
    return Pairwise(label, corr.value, alpha, tuple(rows))
