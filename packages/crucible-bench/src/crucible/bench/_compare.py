"""``compare``: choose the right two-sample (or one-sample) test from the data and report it all."""

from __future__ import annotations

import math
from enum import StrEnum

import attrs
import numpy as np
import numpy.typing as npt
from scipy import stats

from crucible.bench._assumptions import check_equal_variance, check_normality
from crucible.bench._bootstrap import Seed, bootstrap_ci
from crucible.bench._categorical import chi2_contingency, fisher_exact, mcnemar, paired_table
from crucible.bench._effect_size import cohen_d, hedges_g, make_effect
from crucible.bench._errors import BenchInputError
from crucible.bench._nonparametric import mann_whitney, wilcoxon
from crucible.bench._power import _z_power, power
from crucible.bench._rank_effect_size import rank_biserial
from crucible.bench._results import (
    AssumptionCheck,
    EffectSize,
    Interval,
    ResultMixin,
    TestResult,
    fmt,
    fmt_p,
)
from crucible.bench._table_effect_size import cohen_h
from crucible.bench._ttest import ttest
from crucible.bench._validate import Alternative, as_array, as_enum, as_pair, check_alpha

__all__ = ["Comparison", "Kind", "compare", "detect_kind"]

# Integer-valued data with at most this many distinct values is treated as ordinal (Likert
# ratings, 1–10 grades); more levels behave like a continuous score.
MAX_ORDINAL_LEVELS = 10


class Kind(StrEnum):
    """Measurement scale of the scores."""

    AUTO = "auto"
    CONTINUOUS = "continuous"
    BINARY = "binary"
    ORDINAL = "ordinal"


@attrs.frozen
class Comparison(ResultMixin):
    """Everything ``compare`` decided and computed, with the same fields for every path.

    ``ci`` is the bootstrap (BCa) interval of the mean difference ``mean(a) - mean(b)``
    (paired: ``mean(a - b)``; one sample: ``mean(a) - mu``). ``power`` is the power the chosen
    test (or, for rank tests, its t-test analogue) has at the observed effect: descriptive
    only, it adds nothing to the p-value.
    """

    test: str
    statistic: float
    df: float
    p_value: float
    alternative: str
    alpha: float
    significant: bool
    effect_size: EffectSize
    ci: Interval
    assumptions: tuple[AssumptionCheck, ...]
    reason: str
    n: tuple[int, ...]
    kind: str
    paired: bool
    interpretation: str
    power: float
    degenerate: bool
    note: str

    def __str__(self) -> str:
        df = "" if math.isnan(self.df) else f"({fmt(self.df)})"
        lines = [
            f"{self.test}: statistic{df} = {fmt(self.statistic)}, {fmt_p(self.p_value)} "
            f"({self.alternative}, n = {', '.join(map(str, self.n))})",
            f"difference: {self.ci}",
            f"effect size: {self.effect_size}",
            f"interpretation: {self.interpretation}; achieved power {fmt(self.power)}",
            f"why this test: {self.reason}",
            *(f"  check: {c}" for c in self.assumptions),
        ]
        if self.note:
            lines.append(f"note: {self.note}")
        return "\n".join(lines)


def detect_kind(x: np.ndarray) -> Kind:
    """Binary if every value is 0 or 1; ordinal if integer-valued with few levels; else continuous."""
    if np.isin(x, (0.0, 1.0)).all():
        return Kind.BINARY
    if np.array_equal(x, np.round(x)) and np.unique(x).size <= MAX_ORDINAL_LEVELS:
        return Kind.ORDINAL
    return Kind.CONTINUOUS


def compare(
    a: npt.ArrayLike,
    b: npt.ArrayLike | None = None,
    *,
    paired: bool | None = None,
    kind: Kind | str = Kind.AUTO,
    alpha: float = 0.05,
    alternative: Alternative | str = Alternative.TWO_SIDED,
    mu: float | None = None,
    n_boot: int = 10_000,
    seed: Seed = None,
    nan_policy: str = "raise",
) -> Comparison:
    """Compare two samples (or one sample with ``mu``), choosing the test from the data.

    Parameters
    ----------
    a, b
        Scores. Omit ``b`` for a one-sample comparison against ``mu``.
    paired
        ``True``: ``a[i]`` and ``b[i]`` are the same item (equal lengths required). ``None``
        (default) and ``False`` mean independent samples: pairing is a property of the design,
        never guessed from equal lengths, and the method never switches silently.
    kind
        ``auto`` detects binary (all 0/1), ordinal (integers with at most 10 levels) or
        continuous data; pass it explicitly to override.
    mu
        One-sample null value: 0 for continuous/ordinal data, 0.5 for binary data by default.
    n_boot, seed
        Resamples and seed of the BCa interval of the difference.

    Returns
    -------
    Comparison

    Raises
    ------
    BenchInputError
        Bad arguments, NaN (unless ``nan_policy="omit"``), n < 2, unequal paired lengths.
    DegenerateDataError
        Constant data where the chosen statistic is undefined.

    Notes
    -----
    Decision rules (all checks at ``alpha``):

    - continuous, independent: normality of each group (Shapiro–Wilk for n <= 5000,
      D'Agostino–Pearson above). Both normal → Brown–Forsythe test of variances: equal →
      Student's t, unequal → Welch's t; else Mann–Whitney U. Effect: Hedges' g or the
      rank-biserial correlation.
    - continuous, paired: normality of the differences → paired t (d_z) or Wilcoxon
      signed-rank (matched-pairs rank-biserial). One sample: same on ``a - mu``.
    - ordinal: Mann–Whitney U / Wilcoxon signed-rank without a normality check.
    - binary, independent: Pearson's χ² (no continuity correction) when every expected count
      is >= 5, Fisher's exact test otherwise; effect Cohen's h. Paired: McNemar, exact when
      fewer than 25 discordant pairs, asymptotic otherwise; effect: the conditional odds
      ratio n10/n01. One sample: exact binomial test against ``mu``; effect Cohen's h.

    One-sided alternatives apply to every test except Pearson's χ² and McNemar's test, which
    are two-sided by construction: binary data with ``alternative="less"``/``"greater"`` raise
    a :class:`BenchInputError` there instead of silently testing something else.

    Testing assumptions and then testing means (a two-stage procedure) slightly changes the
    operating characteristics of the second test; the checks are reported so the choice can
    be audited, and the named tests are available to pre-register a single test instead.

    References
    ----------
    Delacre, M., Lakens, D. & Leys, C. (2017). Why psychologists should by default use
    Welch's t-test. Int. Review of Social Psychology 30(1). doi:10.5334/irsp.82.
    Fagerland, M. W. (2012). t-tests, non-parametric tests, and large studies. BMC Medical
    Research Methodology 12, 78.

    Validated against: each path returns exactly the statistic and p-value of the scipy
    function it delegates to (tests compare them).

    Examples
    --------
    >>> r = compare([5.1, 4.9, 5.6, 5.8, 6.0, 5.5], [4.1, 4.4, 5.0, 4.8, 4.2, 4.6], seed=0)
    >>> r.test, r.effect_size.name
    ('Student t-test', 'hedges_g')
    """
    alpha = check_alpha(alpha)
    alt = as_enum(alternative, Alternative, "alternative")
    requested = as_enum(kind, Kind, "kind")
    if paired and b is None:
        raise BenchInputError("`paired=True` needs a second sample `b`")
    is_paired = bool(paired)
    if b is None:
        x = as_array(a, "a", nan_policy=nan_policy, min_n=2)
        y = None
        data = x
    elif is_paired:
        x, y = as_pair(a, b, nan_policy=nan_policy, min_n=2)
        data = np.concatenate([x, y])
    else:
        x = as_array(a, "a", nan_policy=nan_policy, min_n=2)
        y = as_array(b, "b", nan_policy=nan_policy, min_n=2)
        data = np.concatenate([x, y])
    k = detect_kind(data) if requested is Kind.AUTO else requested
    if k is Kind.BINARY and not np.isin(data, (0.0, 1.0)).all():
        raise BenchInputError("kind='binary' needs scores that are 0/1 (or booleans)")
    ctx = _Context(alpha, alt, n_boot, seed, k, requested is Kind.AUTO)
    if y is None:
        null = (0.5 if k is Kind.BINARY else 0.0) if mu is None else float(mu)
        return _one_sample(x, null, ctx)
    if mu is not None:
        raise BenchInputError("`mu` applies to one-sample comparisons only; omit it or `b`")
    if is_paired:
        return _paired(x, y, ctx)
    return _independent(x, y, ctx)


@attrs.frozen
class _Context:
    alpha: float
    alt: Alternative
    n_boot: int
    seed: Seed
    kind: Kind
    detected: bool

    @property
    def kind_text(self) -> str:
        return f"{self.kind.value} data ({'detected' if self.detected else 'as requested'})"


def _finish(
    ctx: _Context,
    res: TestResult,
    effect: EffectSize,
    ci: Interval,
    checks: list[AssumptionCheck],
    reason: str,
    n: tuple[int, ...],
    paired: bool,
    achieved: float,
) -> Comparison:
    significant = res.p_value <= ctx.alpha
    interpretation = (
        f"{effect.interpretation} effect by {effect.convention}; "
        f"{'significant' if significant else 'not significant'} at alpha = {fmt(ctx.alpha)}"
    )
    note = "; ".join(t for t in (res.note if res.degenerate else "", ci.note) if t)
    return Comparison(
        res.test,
        res.statistic,
        res.df,
        res.p_value,
        res.alternative,
        ctx.alpha,
        significant,
        effect,
        ci,
        tuple(checks),
        reason,
        n,
        ctx.kind.value,
        paired,
        interpretation,
        achieved,
        res.degenerate,
        note,
    )


def _t_power_or_nan(design: str, d: np.ndarray, n: int, ctx: _Context) -> float:
    sd = float(d.std(ddof=1))
    if sd == 0:
        return math.nan
    return power(
        design, effect=float(d.mean()) / sd, n=n, alpha=ctx.alpha, alternative=ctx.alt
    ).power


def _one_sample(x: np.ndarray, mu: float, ctx: _Context) -> Comparison:
    n = (x.size,)
    if ctx.kind is Kind.BINARY:
        if not 0 < mu < 1:
            raise BenchInputError(f"`mu` must be a proportion in (0, 1) for binary data, got {mu}")
        successes = int(x.sum())
        res_b = stats.binomtest(successes, x.size, mu, alternative=ctx.alt.value)
        res = TestResult(
            "exact binomial test",
            float(successes),
            float(res_b.pvalue),
            math.nan,
            math.nan,
            ctx.alt.value,
            x.size,
            "exact",
        )
        h = 2 * math.asin(math.sqrt(successes / x.size)) - 2 * math.asin(math.sqrt(mu))
        z = float(stats.norm.ppf(0.5 + 0.95 / 2))
        se = 1 / math.sqrt(x.size)
        effect = make_effect("cohen_h", h, h - z * se, h + z * se, 0.95, x.size, "normal")
        achieved = _z_power(h * math.sqrt(x.size), ctx.alpha, ctx.alt)
        reason = f"One sample of {ctx.kind_text} against p = {fmt(mu)}: the exact binomial test."
        ci = bootstrap_ci(x - mu, n_boot=ctx.n_boot, seed=ctx.seed)
        return _finish(ctx, res, effect, ci, [], reason, n, False, achieved)
    return _signed(x - mu, ctx, paired=False, label=f"one sample against mu = {fmt(mu)}", n=n)


def _signed(
    d: np.ndarray, ctx: _Context, *, paired: bool, label: str, n: tuple[int, ...]
) -> Comparison:
    checks: list[AssumptionCheck] = []
    normal = False
    if ctx.kind is Kind.CONTINUOUS:
        check = check_normality(d, "the differences" if paired else "the sample", ctx.alpha)
        checks.append(check)
        normal = check.passed
    ci = bootstrap_ci(d, n_boot=ctx.n_boot, seed=ctx.seed)
    design = "paired-t" if paired else "one-sample-t"
    if normal:
        res = ttest(d, alternative=ctx.alt)
        res = attrs.evolve(res, test="paired t-test" if paired else "one-sample t-test")
        effect = cohen_d(d)
        if paired:
            effect = attrs.evolve(effect, name="d_z")
        reason = f"{label.capitalize()}, {ctx.kind_text}: normality of {'the differences' if paired else 'the sample'} not rejected ({checks[0].test} {fmt_p(checks[0].p_value)}), so the {res.test}."
    else:
        res = wilcoxon(d, alternative=ctx.alt)
        effect = rank_biserial(d, np.zeros_like(d), paired=True)
        why = (
            "ordinal scores are ranked, not averaged"
            if ctx.kind is Kind.ORDINAL
            else _why_not_normal(checks[0])
        )
        reason = f"{label.capitalize()}, {ctx.kind_text}: {why}, so the Wilcoxon signed-rank test."
    achieved = _t_power_or_nan(design, d, d.size, ctx)
    return _finish(ctx, res, effect, ci, checks, reason, n, paired, achieved)


def _why_not_normal(check: AssumptionCheck) -> str:
    if check.test == "none":
        return f"normality could not be checked ({check.verdict})"
    return f"normality rejected ({check.test} {fmt_p(check.p_value)})"


def _paired(x: np.ndarray, y: np.ndarray, ctx: _Context) -> Comparison:
    n = (x.size, y.size)
    if ctx.kind is not Kind.BINARY:
        return _signed(x - y, ctx, paired=True, label="paired samples", n=n)
    table = paired_table(x, y)
    n01, n10 = float(table[0, 1]), float(table[1, 0])
    exact = n01 + n10 < 25
    res = mcnemar(table, method="exact" if exact else "asymptotic", correction=False)
    if ctx.alt is not Alternative.TWO_SIDED:
        raise BenchInputError(
            "McNemar's test is two-sided; pass alternative='two-sided' for paired binary data"
        )
    a, c = (n10, n01) if min(n10, n01) > 0 else (n10 + 0.5, n01 + 0.5)
    odds = a / c
    se = math.sqrt(1 / a + 1 / c)
    z = float(stats.norm.ppf(0.975))
    effect = make_effect(
        "odds_ratio",
        odds,
        odds * math.exp(-z * se),
        odds * math.exp(z * se),
        0.95,
        x.size,
        "conditional-mcnemar",
    )
    disc = (n01 + n10) / x.size
    achieved = math.nan
    if disc > 0 and abs(n10 - n01) / x.size < disc:
        achieved = power(
            "mcnemar", effect=(n10 - n01) / x.size, n=x.size, discordant=disc, alpha=ctx.alpha
        ).power
    how = "exact (fewer than 25 discordant pairs)" if exact else "asymptotic (25+ discordant pairs)"
    reason = f"Paired samples, {ctx.kind_text}: McNemar's test on the discordant pairs, {how}."
    ci = bootstrap_ci(x - y, n_boot=ctx.n_boot, seed=ctx.seed)
    return _finish(ctx, res, effect, ci, [], reason, n, True, achieved)


def _independent(x: np.ndarray, y: np.ndarray, ctx: _Context) -> Comparison:
    n = (x.size, y.size)
    ci = bootstrap_ci(x, y, n_boot=ctx.n_boot, seed=ctx.seed)
    if ctx.kind is Kind.BINARY:
        sx, sy = float(x.sum()), float(y.sum())
        table = np.array([[sx, x.size - sx], [sy, y.size - sy]])
        expected = table.sum(axis=1)[:, None] * table.sum(axis=0)[None, :] / table.sum()
        small = bool((expected < 5).any())
        if small:
            res = fisher_exact(table, alternative=ctx.alt)
            why = "an expected count is below 5, so Fisher's exact test"
        else:
            if ctx.alt is not Alternative.TWO_SIDED:
                raise BenchInputError(
                    "the χ² test is two-sided; pass alternative='two-sided' (or use proportions_ztest)"
                )
            res = chi2_contingency(table, correction=False)
            why = "every expected count is at least 5, so Pearson's χ² test (no continuity correction)"
        effect = cohen_h(int(sx), x.size, int(sy), y.size)
        achieved = power(
            "two-proportions",
            effect=effect.value,
            n=x.size,
            ratio=y.size / x.size,
            alpha=ctx.alpha,
            alternative=ctx.alt,
        ).power
        reason = f"Independent samples, {ctx.kind_text}: {why}."
        return _finish(ctx, res, effect, ci, [], reason, n, False, achieved)
    checks: list[AssumptionCheck] = []
    use_t = False
    if ctx.kind is Kind.CONTINUOUS:
        checks = [check_normality(x, "a", ctx.alpha), check_normality(y, "b", ctx.alpha)]
        use_t = all(c.passed for c in checks)
    if use_t:
        var_check = check_equal_variance([x, y], ctx.alpha)
        checks.append(var_check)
        equal = var_check.passed
        res = ttest(x, y, equal_var=equal, alternative=ctx.alt)
        effect = hedges_g(x, y)
        var_words = "variances not shown to differ" if equal else "variances differ"
        reason = (
            f"Independent samples, {ctx.kind_text}: normality not rejected in either group and "
            f"{var_words} (Brown-Forsythe {fmt_p(var_check.p_value)}), so the {res.test}."
        )
        achieved = power(
            "two-sample-t",
            effect=effect.value,
            n=x.size,
            ratio=y.size / x.size,
            alpha=ctx.alpha,
            alternative=ctx.alt,
        ).power
    else:
        res = mann_whitney(x, y, alternative=ctx.alt)
        effect = rank_biserial(x, y)
        if ctx.kind is Kind.ORDINAL:
            why = "ordinal scores are ranked, not averaged"
        else:
            failed = next(c for c in checks if not c.passed)
            why = _why_not_normal(failed) + f" for {failed.name.removeprefix('normality of ')}"
        reason = f"Independent samples, {ctx.kind_text}: {why}, so the Mann-Whitney U test."
        try:
            d = cohen_d(x, y).value
            achieved = power(
                "two-sample-t",
                effect=d,
                n=x.size,
                ratio=y.size / x.size,
                alpha=ctx.alpha,
                alternative=ctx.alt,
            ).power
        except BenchInputError:
            achieved = math.nan
    return _finish(ctx, res, effect, ci, checks, reason, n, False, achieved)
