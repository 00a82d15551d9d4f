"""The Disparity value: one fairness criterion across groups, with its verdict and reading."""

from __future__ import annotations

from enum import StrEnum
from typing import Any

import attrs
import numpy as np
import polars as pl

__all__ = [
    "BY_GROUP_SCHEMA",
    "FOUR_FIFTHS",
    "Aggregation",
    "Criterion",
    "Disparity",
    "SmallGroupWarning",
    "build_disparity",
]

FOUR_FIFTHS = 0.8


class SmallGroupWarning(UserWarning):
    """A group is too small to detect a disparity of the stated threshold with 80 % power."""


class Criterion(StrEnum):
    """A group-fairness criterion."""

    DEMOGRAPHIC_PARITY = "demographic_parity"
    EQUALIZED_ODDS = "equalized_odds"
    EQUAL_OPPORTUNITY = "equal_opportunity"
    PREDICTIVE_PARITY = "predictive_parity"
    CALIBRATION = "calibration"
    DISPARATE_IMPACT = "disparate_impact"


class Aggregation(StrEnum):
    """How equalized odds combines its TPR and FPR parts (Fairlearn's ``agg``)."""

    WORST_CASE = "worst_case"
    MEAN = "mean"


BY_GROUP_SCHEMA: dict[str, Any] = {
    "group": pl.String,
    "metric": pl.String,
    "value": pl.Float64,
    "n": pl.Int64,
    "ci_low": pl.Float64,
    "ci_high": pl.Float64,
    "p_value": pl.Float64,
    "p_adjusted": pl.Float64,
}


@attrs.frozen
class Disparity:
    """One fairness criterion evaluated across groups.

    Attributes:
        criterion: the criterion's name (``"demographic_parity"``, ...).
        difference: ``max − min`` of the group metric (aggregated over parts for equalized odds).
        ratio: ``min / max`` of the group metric (aggregated likewise).
        by_group: per group and metric part: ``value, n`` (the metric's denominator), bootstrap
            ``ci_low, ci_high``, and the group-versus-rest test ``p_value`` with its Holm
            adjustment across groups ``p_adjusted``.
        ci: bootstrap percentile CI of ``difference``.
        ratio_ci: bootstrap percentile CI of ``ratio``.
        p_value: test of equal metrics across groups (see ``test``).
        test: the test behind ``p_value``.
        passes: the verdict: ``difference <= threshold`` (``ratio >= threshold`` for disparate
            impact).
        threshold: the threshold the verdict used.
        metric: the group metric compared.
        aggregation: how parts are combined (``"worst_case"``: max of differences, min of ratios).
        excluded: groups left out, with the reason.
        notes: warnings that qualify the result (small groups, undefined ratio, ...).
        confidence, n_boot: the CI level and number of bootstrap resamples.
        interpretation: one readable paragraph.
    """

    criterion: str
    difference: float
    ratio: float
    by_group: pl.DataFrame = attrs.field(eq=False)
    ci: tuple[float, float]
    ratio_ci: tuple[float, float]
    p_value: float
    test: str
    passes: bool
    threshold: float
    metric: str
    aggregation: str
    excluded: dict[str, str]
    notes: tuple[str, ...]
    confidence: float
    n_boot: int
    interpretation: str

    def to_dict(self) -> dict[str, Any]:
        data = attrs.asdict(self, recurse=False)
        data["by_group"] = self.by_group.to_dicts()
        data["ci"] = list(self.ci)
        data["ratio_ci"] = list(self.ratio_ci)
        data["notes"] = list(self.notes)
        return data

    def __str__(self) -> str:
        return self.interpretation


def build_disparity(
    criterion: Criterion,
    difference: float,
    ratio: float,
    by_group: pl.DataFrame,
    ci: tuple[float, float],
    ratio_ci: tuple[float, float],
    p_value: float,
    test: str,
    threshold: float,
    metric: str,
    aggregation: Aggregation,
    excluded: dict[str, str],
    notes: list[str],
    confidence: float,
    n_boot: int,
) -> Disparity:
    if criterion is Criterion.DISPARATE_IMPACT:
        passes = bool(np.isfinite(ratio) and ratio >= threshold)
        rule = f"ratio ≥ {threshold:g} (four-fifths rule)"
    else:
        passes = bool(np.isfinite(difference) and difference <= threshold)
        rule = f"difference ≤ {threshold:g}"
    extremes = ""
    for part in by_group["metric"].unique(maintain_order=True).to_list():
        defined = by_group.filter(pl.col("value").is_not_null() & (pl.col("metric") == part))
        if defined.height:
            top = defined.sort("value", descending=True).row(0, named=True)
            low = defined.sort("value").row(0, named=True)
            extremes += (
                f" Highest {part}: {top['group']} ({top['value']:.3f}); lowest: "
                f"{low['group']} ({low['value']:.3f})."
            )
    text = (
        f"{criterion.value} on {metric}: difference {difference:.4f} "
        f"({confidence:.0%} CI {ci[0]:.4f} to {ci[1]:.4f}), ratio {ratio:.4f} "
        f"({confidence:.0%} CI {ratio_ci[0]:.4f} to {ratio_ci[1]:.4f}).{extremes} "
        f"{'Passes' if passes else 'Fails'} {rule}. {test}: p = {p_value:.3g}."
    )
    if excluded:
        text += " Left out: " + "; ".join(f"{g} ({why})" for g, why in excluded.items()) + "."
    return Disparity(
        criterion=criterion.value, difference=difference, ratio=ratio, by_group=by_group, ci=ci,
        ratio_ci=ratio_ci, p_value=p_value, test=test, passes=passes, threshold=float(threshold),
        metric=metric, aggregation=aggregation.value, excluded=excluded, notes=tuple(notes),
        confidence=float(confidence), n_boot=n_boot, interpretation=text,
    )  # fmt: skip
