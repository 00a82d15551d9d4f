"""Power analysis: power, sample size and minimum detectable effect for common designs."""

from __future__ import annotations

import math
from enum import StrEnum

import attrs
from scipy import optimize, stats

from crucible.bench._errors import BenchInputError
from crucible.bench._results import ResultMixin, fmt
from crucible.bench._validate import Alternative, as_enum, check_alpha

__all__ = ["Design", "PowerResult", "mde", "power", "sample_size"]


class Design(StrEnum):
    """Designs covered by :func:`power`, :func:`sample_size` and :func:`mde`.

    Effect sizes: Cohen's d (``one-sample-t``, ``two-sample-t``), d_z (``paired-t``),
    Cohen's h (``two-proportions``), p10 - p01 (``mcnemar``), Cohen's f (``anova``).
    """

    ONE_SAMPLE_T = "one-sample-t"
    PAIRED_T = "paired-t"
    TWO_SAMPLE_T = "two-sample-t"
    TWO_PROPORTIONS = "two-proportions"
    MCNEMAR = "mcnemar"
    ANOVA = "anova"


@attrs.frozen
class PowerResult(ResultMixin):
    """A power calculation: the design, its inputs and the solved quantity.

    ``n`` is per group (two-sample designs: the first group; the second has ``ratio · n``),
    the number of pairs (paired designs and McNemar) or per group (ANOVA); ``n_total`` counts
    every observation.
    """

    design: str
    power: float
    n: float
    n_total: float
    effect: float
    alpha: float
    alternative: str
    ratio: float
    k: int
    discordant: float
    method: str

    def __str__(self) -> str:
        return (
            f"{self.design}: power {fmt(self.power)} with n = {fmt(self.n)} per group "
            f"(total {fmt(self.n_total)}) for effect {fmt(self.effect)} at alpha = {fmt(self.alpha)}"
            f" ({self.alternative})"
        )


def _t_power(nc: float, df: float, alpha: float, alt: Alternative) -> float:
    if alt is Alternative.TWO_SIDED:
        crit = float(stats.t.isf(alpha / 2, df))
        return float(stats.nct.sf(crit, df, nc) + stats.nct.cdf(-crit, df, nc))
    crit = float(stats.t.isf(alpha, df))
    if alt is Alternative.GREATER:
        return float(stats.nct.sf(crit, df, nc))
    return float(stats.nct.cdf(-crit, df, nc))


def _z_power(shift: float, alpha: float, alt: Alternative) -> float:
    if alt is Alternative.TWO_SIDED:
        crit = float(stats.norm.isf(alpha / 2))
        return float(stats.norm.sf(crit - shift) + stats.norm.cdf(-crit - shift))
    crit = float(stats.norm.isf(alpha))
    if alt is Alternative.GREATER:
        return float(stats.norm.sf(crit - shift))
    return float(stats.norm.cdf(-crit - shift))


def _compute(
    design: Design,
    effect: float,
    n: float,
    alpha: float,
    alt: Alternative,
    ratio: float,
    k: int,
    discordant: float,
) -> float:
    if design in (Design.ONE_SAMPLE_T, Design.PAIRED_T):
        return _t_power(effect * math.sqrt(n), n - 1, alpha, alt)
    if design is Design.TWO_SAMPLE_T:
        n2 = ratio * n
        return _t_power(effect * math.sqrt(n * n2 / (n + n2)), n + n2 - 2, alpha, alt)
    if design is Design.TWO_PROPORTIONS:
        return _z_power(effect * math.sqrt(n * ratio / (1 + ratio)), alpha, alt)
    if design is Design.MCNEMAR:
        # Connor (1987): the discordant-pair difference δ with variance (ψ - δ²)/n.
        psi = discordant
        if alt is Alternative.TWO_SIDED:
            z = float(stats.norm.isf(alpha / 2))
            sign_effect = abs(effect)
        else:
            z = float(stats.norm.isf(alpha))
            sign_effect = effect if alt is Alternative.GREATER else -effect
        return float(
            stats.norm.cdf(
                (sign_effect * math.sqrt(n) - z * math.sqrt(psi)) / math.sqrt(psi - effect**2)
            )
        )
    df1, df2 = k - 1, k * n - k
    crit = float(stats.f.isf(alpha, df1, df2))
    return float(stats.ncf.sf(crit, df1, df2, effect**2 * k * n))


def _check(
    design: Design | str,
    alpha: float,
    alternative: Alternative | str,
    ratio: float,
    k: int,
    discordant: float | None,
    effect: float | None,
) -> tuple[Design, float, Alternative, float]:
    d = as_enum(design, Design, "design")
    alpha = check_alpha(alpha)
    alt = as_enum(alternative, Alternative, "alternative")
    if not (isinstance(ratio, int | float) and ratio > 0 and math.isfinite(ratio)):
        raise BenchInputError(f"`ratio` must be a positive number, got {ratio!r}")
    if d is Design.ANOVA:
        if not isinstance(k, int) or k < 2:
            raise BenchInputError(f"`k` (number of groups) must be an integer >= 2, got {k!r}")
        if alt is not Alternative.TWO_SIDED:
            raise BenchInputError("`alternative` must be 'two-sided' for the ANOVA F test")
    psi = math.nan
    if d is Design.MCNEMAR:
        if discordant is None or not 0 < discordant <= 1:
            raise BenchInputError(
                f"`discordant` (the share of pairs that disagree, p01 + p10) must be in (0, 1], got {discordant!r}"
            )
        psi = float(discordant)
        if effect is not None and abs(effect) >= psi:
            raise BenchInputError(
                f"`effect` (p10 - p01) must be smaller than `discordant` = {psi} in absolute value, got {effect}"
            )
    if effect is not None and not math.isfinite(effect):
        raise BenchInputError(f"`effect` must be a finite number, got {effect!r}")
    return d, alpha, alt, psi


def _min_n(design: Design, ratio: float) -> float:
    if design is Design.TWO_SAMPLE_T:
        return max(2.0, 2.0 / ratio) + 1e-9 if ratio < 1 else 2.0
    if design in (Design.ONE_SAMPLE_T, Design.PAIRED_T, Design.ANOVA):
        return 2.0
    return 1.0


def _result(
    d: Design,
    pw: float,
    n: float,
    effect: float,
    alpha: float,
    alt: Alternative,
    ratio: float,
    k: int,
    psi: float,
    method: str,
) -> PowerResult:
    if d is Design.TWO_SAMPLE_T or d is Design.TWO_PROPORTIONS:
        total = n * (1 + ratio)
    elif d is Design.ANOVA:
        total = n * k
    else:
        total = n
    return PowerResult(
        d.value,
        pw,
        n,
        total,
        effect,
        alpha,
        alt.value,
        ratio,
        k if d is Design.ANOVA else 1,
        psi,
        method,
    )


_METHOD = {
    Design.ONE_SAMPLE_T: "noncentral-t",
    Design.PAIRED_T: "noncentral-t",
    Design.TWO_SAMPLE_T: "noncentral-t",
    Design.TWO_PROPORTIONS: "normal-arcsine",
    Design.MCNEMAR: "connor-1987",
    Design.ANOVA: "noncentral-F",
}


def power(
    design: Design | str,
    *,
    effect: float,
    n: float,
    alpha: float = 0.05,
    alternative: Alternative | str = Alternative.TWO_SIDED,
    ratio: float = 1.0,
    k: int = 2,
    discordant: float | None = None,
) -> PowerResult:
    """Probability of rejecting H0 for a given effect and sample size.

    Parameters
    ----------
    design
        A :class:`Design` or its name.
    effect
        The standardised effect for the design (see :class:`Design`).
    n
        Per group (two-sample, ANOVA), or pairs (paired t, McNemar), or the sample size.
    ratio
        Two-sample designs: n₂ / n₁.
    k
        ANOVA: number of groups.
    discordant
        McNemar: ψ = p01 + p10, the share of discordant pairs.

    Notes
    -----
    t designs: exact noncentral t, nc = d√n (one-sample, paired) or d√(n₁n₂/(n₁+n₂)), and
    the two tails for two-sided tests. Two proportions: normal approximation on Cohen's h,
    shift h√(n₁n₂/(n₁+n₂)). McNemar: Connor (1987), power = Φ((|δ|√n - z√ψ)/√(ψ - δ²)).
    ANOVA: noncentral F with λ = f²·k·n.

    References
    ----------
    Cohen, J. (1988). Statistical Power Analysis for the Behavioral Sciences, 2nd ed.
    Connor, R. J. (1987). Sample size for testing differences in proportions for the
    paired-sample design. Biometrics 43(1), 207–211. doi:10.2307/2531961.

    Validated against: statsmodels.stats.power (TTestPower, TTestIndPower, NormalIndPower,
    FTestAnovaPower); pingouin.power_ttest; Connor's formula for McNemar.

    Examples
    --------
    >>> round(power("two-sample-t", effect=0.5, n=64).power, 4)
    0.8015
    """
    d, alpha, alt, psi = _check(design, alpha, alternative, ratio, k, discordant, effect)
    if not (isinstance(n, int | float) and n >= _min_n(d, ratio)):
        raise BenchInputError(
            f"`n` must be a number >= {_min_n(d, ratio):g} for design {d.value!r}, got {n!r}"
        )
    pw = _compute(d, float(effect), float(n), alpha, alt, ratio, k, psi)
    return _result(d, pw, float(n), float(effect), alpha, alt, ratio, k, psi, _METHOD[d])


def sample_size(
    design: Design | str,
    *,
    effect: float,
    power: float = 0.8,
    alpha: float = 0.05,
    alternative: Alternative | str = Alternative.TWO_SIDED,
    ratio: float = 1.0,
    k: int = 2,
    discordant: float | None = None,
) -> PowerResult:
    """Smallest whole sample size reaching ``power`` for ``effect``.

    Returns
    -------
    PowerResult
        ``n`` rounded up to a whole number (per group, or pairs) and the ``power`` actually
        achieved with it (>= the target).

    Notes
    -----
    Solves power(n) = target for real n (Brent's method), then rounds up.

    Validated against: statsmodels.stats.power ``solve_power(nobs1=None)`` (rounded up);
    pingouin.power_ttest(n=None).

    Examples
    --------
    >>> sample_size("two-sample-t", effect=0.5).n
    64.0
    """
    d, alpha, alt, psi = _check(design, alpha, alternative, ratio, k, discordant, effect)
    target = check_alpha(power, "power")
    if effect == 0:
        raise BenchInputError("`effect` must be non-zero: no sample size detects a zero effect")
    if alt is not Alternative.TWO_SIDED and (effect > 0) != (alt is Alternative.GREATER):
        raise BenchInputError(
            f"`effect` = {effect} points away from alternative={alt.value!r}; no sample size reaches the power"
        )

    def gap(n: float) -> float:
        return _compute(d, float(effect), n, alpha, alt, ratio, k, psi) - target

    lo = _min_n(d, ratio)
    if gap(lo) >= 0:
        n_real = lo
    else:
        hi = max(lo * 2, 4.0)
        while gap(hi) < 0:
            hi *= 2
            if hi > 1e12:
                raise BenchInputError("`effect` is too small: the sample size exceeds 1e12")
        n_real = float(optimize.brentq(gap, lo, hi, xtol=1e-10))
    n_int = float(math.ceil(n_real - 1e-9))
    while gap(n_int) < 0:
        n_int += 1
    pw = _compute(d, float(effect), n_int, alpha, alt, ratio, k, psi)
    return _result(d, pw, n_int, float(effect), alpha, alt, ratio, k, psi, _METHOD[d])


def mde(
    design: Design | str,
    *,
    n: float,
    power: float = 0.8,
    alpha: float = 0.05,
    alternative: Alternative | str = Alternative.TWO_SIDED,
    ratio: float = 1.0,
    k: int = 2,
    discordant: float | None = None,
) -> PowerResult:
    """Minimum detectable effect: the smallest positive effect reaching ``power`` with ``n``.

    For ``alternative="less"`` the effect returned is negative. For McNemar the effect is
    p10 - p01 and must stay below ``discordant``; if even δ → ψ cannot reach the power, a
    :class:`BenchInputError` says so.

    Validated against: statsmodels.stats.power ``solve_power(effect_size=None)``.

    Examples
    --------
    >>> round(mde("two-sample-t", n=64).effect, 4)
    0.4991
    """
    d, alpha, alt, psi = _check(design, alpha, alternative, ratio, k, discordant, None)
    target = check_alpha(power, "power")
    if not (isinstance(n, int | float) and n >= _min_n(d, ratio)):
        raise BenchInputError(
            f"`n` must be a number >= {_min_n(d, ratio):g} for design {d.value!r}, got {n!r}"
        )
    sign = -1.0 if alt is Alternative.LESS else 1.0

    def gap(e: float) -> float:
        return _compute(d, sign * e, float(n), alpha, alt, ratio, k, psi) - target

    hi = psi * (1 - 1e-9) if d is Design.MCNEMAR else 1.0
    if d is not Design.MCNEMAR:
        while gap(hi) < 0:
            hi *= 2
            if hi > 1e6:
                raise BenchInputError("`n` is too small to reach the requested power")
    elif gap(hi) < 0:
        raise BenchInputError(
            f"`n` = {n} pairs cannot reach power {target} with discordant = {psi}"
        )
    effect = sign * float(optimize.brentq(gap, 1e-12, hi, xtol=1e-12))
    pw = _compute(d, effect, float(n), alpha, alt, ratio, k, psi)
    return _result(d, pw, float(n), effect, alpha, alt, ratio, k, psi, _METHOD[d])
