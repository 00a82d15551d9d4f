"""A/B/n experiment design: sample size per variant for proportions and means."""

from __future__ import annotations

import math
from typing import Any

import attrs

from crucible.bench import sample_size
from crucible.production_eval._errors import ProductionEvalError

__all__ = ["ExperimentDesign", "design_experiment"]


@attrs.frozen
class ExperimentDesign:
    """Sample size per variant for an A/B/n test.

    ``effect`` is the standardised effect the sizes are for (Cohen's h for proportions, d for
    two means, f for ANOVA); ``method`` names the power calculation.
    """

    variants: int
    metric: str
    mde: float
    alpha: float
    power: float
    n_per_variant: int
    n_total: int
    effect: float
    method: str

    def to_dict(self) -> dict[str, Any]:
        return attrs.asdict(self)

    def __str__(self) -> str:
        return (
            f"{self.variants} variants, {self.metric}: {self.n_per_variant} per variant "
            f"({self.n_total} total) to detect {self.mde:g} at alpha = {self.alpha:g} with power "
            f"{self.power:g} ({self.method})"
        )


def design_experiment(
    variants: int,
    metric: str,
    mde: float,
    alpha: float = 0.05,
    power: float = 0.8,
    *,
    baseline: float | None = None,
    sd: float | None = None,
    relative: bool = False,
) -> ExperimentDesign:
    """Sample size per variant to detect ``mde`` between a variant and control.

    Args:
        variants: number of arms, control included (>= 2).
        metric: ``"proportion"`` (needs ``baseline``, the control rate) or ``"mean"`` (needs
            ``sd``).
        mde: the minimum detectable effect, absolute (or relative to ``baseline`` with
            ``relative=True``).

    Notes:
        Two proportions: Cohen's h with the normal approximation; with more than two arms the
        level is Bonferroni-split over the ``variants - 1`` comparisons with control. Two means:
        two-sample t (Cohen's d = mde / sd). More than two means: one-way ANOVA power
        (noncentral F) for one arm shifted by ``mde``, Cohen's f = mde·√(k-1)/(k·sd).
        Power from crucible.bench (validated against statsmodels).

    Example:
        >>> design_experiment(2, "proportion", 0.02, baseline=0.10).n_per_variant
        3835
    """
    if isinstance(variants, bool) or not isinstance(variants, int) or variants < 2:
        raise ProductionEvalError(f"`variants` must be an int >= 2, got {variants!r}")
    if not (isinstance(mde, int | float) and math.isfinite(mde) and mde != 0):
        raise ProductionEvalError(f"`mde` must be a non-zero number, got {mde!r}")
    k = variants
    if metric == "proportion":
        if baseline is None or not 0 < baseline < 1:
            raise ProductionEvalError(
                f"`baseline` (the control rate) must be in (0, 1) for metric='proportion', got {baseline!r}"
            )
        delta = mde * baseline if relative else mde
        p2 = baseline + delta
        if not 0 < p2 < 1:
            raise ProductionEvalError(f"`baseline` + `mde` = {p2:g} is not a proportion in (0, 1)")
        h = abs(2 * math.asin(math.sqrt(p2)) - 2 * math.asin(math.sqrt(baseline)))
        a = alpha / (k - 1)
        res = sample_size("two-proportions", effect=h, power=power, alpha=a)
        method = "two proportions, Cohen's h" + (f", Bonferroni over {k - 1}" if k > 2 else "")
        effect = h
    elif metric == "mean":
        if sd is None or not sd > 0:
            raise ProductionEvalError(f"`sd` must be > 0 for metric='mean', got {sd!r}")
        delta = mde * (baseline or 0.0) if relative else mde
        if relative and not baseline:
            raise ProductionEvalError("`relative=True` needs `baseline` (the control mean)")
        if k == 2:
            effect = abs(delta) / sd
            res = sample_size("two-sample-t", effect=effect, power=power, alpha=alpha)
            method = "two-sample t, Cohen's d"
        else:
            effect = abs(delta) * math.sqrt(k - 1) / (k * sd)
            res = sample_size("anova", effect=effect, power=power, alpha=alpha, k=k)
            method = "one-way ANOVA, Cohen's f"
    else:
        raise ProductionEvalError(f"`metric` must be 'proportion' or 'mean', got {metric!r}")
    n = int(res.n)
    return ExperimentDesign(k, metric, float(mde), alpha, power, n, n * k, float(effect), method)
