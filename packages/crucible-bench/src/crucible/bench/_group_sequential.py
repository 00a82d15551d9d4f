"""Group-sequential designs: Lan–DeMets alpha spending and the boundaries it implies."""

from __future__ import annotations

import math
from enum import StrEnum

import attrs
import numpy as np
import numpy.typing as npt
from scipy import optimize, stats

from crucible.bench._errors import BenchInputError
from crucible.bench._results import ResultMixin, fmt
from crucible.bench._validate import as_enum, check_alpha

__all__ = ["GroupSequentialDesign", "Spending", "group_sequential"]

_GRID = 1001  # points of the density grid per look (odd, for Simpson's rule)


class Spending(StrEnum):
    """Lan–DeMets alpha-spending functions."""

    OBRIEN_FLEMING = "obrien-fleming"
    POCOCK = "pocock"


@attrs.frozen
class GroupSequentialDesign(ResultMixin):
    """Boundaries of a group-sequential test, one entry per look.

    Stop at look k when |Z_k| >= ``z_boundaries[k]`` (two-sided; one-sided: Z_k >= it), or
    equivalently when the nominal p-value <= ``nominal_alpha[k]``.
    """

    information: tuple[float, ...]
    spending: str
    alpha: float
    sides: int
    alpha_spent: tuple[float, ...]
    alpha_increment: tuple[float, ...]
    z_boundaries: tuple[float, ...]
    nominal_alpha: tuple[float, ...]

    def __str__(self) -> str:
        rows = [f"{self.spending} spending, alpha = {fmt(self.alpha)} ({self.sides}-sided)"]
        for t, z, p in zip(self.information, self.z_boundaries, self.nominal_alpha, strict=True):
            rows.append(f"  t = {fmt(t)}: |Z| >= {fmt(z)} (nominal p <= {fmt(p)})")
        return "\n".join(rows)


def _spent(kind: Spending, t: float, alpha: float, sides: int) -> float:
    """Total alpha spent by information time t; each side spends alpha/sides."""
    per_side = alpha / sides
    if kind is Spending.OBRIEN_FLEMING:
        z = float(stats.norm.isf(per_side / 2))
        return sides * 2 * float(stats.norm.sf(z / math.sqrt(t)))
    return alpha * math.log1p((math.e - 1) * t)


def group_sequential(
    looks: int | npt.ArrayLike,
    *,
    alpha: float = 0.05,
    spending: Spending | str = Spending.OBRIEN_FLEMING,
    sides: int = 2,
) -> GroupSequentialDesign:
    """Boundaries of a group-sequential test with Lan–DeMets alpha spending.

    Parameters
    ----------
    looks
        The number of equally spaced looks, or the information fractions of each look
        (increasing, the last equal to 1).
    spending
        ``obrien-fleming``: α*(t) = 2 - 2Φ(z_{1-α'/2}/√t) per side, spends almost nothing
        early; ``pocock``: α*(t) = α'·ln(1 + (e - 1)t) per side, spends evenly. α' is the
        alpha of one side (α/2 for two-sided designs, the convention of gsDesign, ldbounds
        and rpact).
    sides
        2 for symmetric |Z| boundaries, 1 for an upper boundary only.

    Notes
    -----
    Boundaries are found look by look so that P(first crossing at look k | H0) equals the
    alpha spent in (t_{k-1}, t_k]. The joint law of the Z-statistics is that of a Brownian
    motion observed at the information times; the sub-density of the continuing paths is
    propagated on a grid (Simpson's rule), and crossing probabilities use exact normal tails
    (Armitage, McPherson & Rowe 1969; Jennison & Turnbull 2000, ch. 19).

    References
    ----------
    Lan, K. K. G. & DeMets, D. L. (1983). Discrete sequential boundaries for clinical trials.
    Biometrika 70(3), 659–663. doi:10.1093/biomet/70.3.659. Jennison, C. & Turnbull, B. W.
    (2000). Group Sequential Methods with Applications to Clinical Trials. Chapman & Hall.

    Validated against: published Lan–DeMets boundaries (R gsDesign / ldbounds, K = 5 equally
    spaced) and the crossing probability of the boundaries computed with
    scipy.stats.multivariate_normal.

    Examples
    --------
    >>> d = group_sequential(5)
    >>> [round(z, 3) for z in d.z_boundaries]
    [4.877, 3.357, 2.68, 2.29, 2.031]
    """
    alpha = check_alpha(alpha)
    kind = as_enum(spending, Spending, "spending")
    if sides not in (1, 2):
        raise BenchInputError(f"`sides` must be 1 or 2, got {sides!r}")
    if isinstance(looks, int | np.integer) and not isinstance(looks, bool):
        if looks < 1:
            raise BenchInputError(f"`looks` must be >= 1, got {looks}")
        info = np.arange(1, int(looks) + 1) / int(looks)
    else:
        info = np.asarray(looks, dtype=np.float64)
        if info.ndim != 1 or info.size == 0 or np.isnan(info).any():
            raise BenchInputError(
                "`looks` must be a count or a 1-D sequence of information fractions"
            )
        if (np.diff(info) <= 0).any() or info[0] <= 0 or not math.isclose(info[-1], 1.0):
            raise BenchInputError(
                f"information fractions must increase in (0, 1] and end at 1, got {info.tolist()}"
            )
    spent = [_spent(kind, float(t), alpha, sides) for t in info]
    increments = np.diff(np.concatenate([[0.0], spent]))
    z_bounds: list[float] = []
    grid = np.empty(0)
    dens = np.empty(0)
    prev_t = 0.0
    for k, (t, inc) in enumerate(zip(info, increments, strict=True)):
        sd = math.sqrt(t - prev_t)
        if k == 0:
            # Every path starts at 0: a point mass instead of a density.
            weights, points = np.ones(1), np.zeros(1)
        else:
            weights, points = _simpson_weights(grid) * dens, grid
        if inc <= 0:
            b = math.inf
        else:
            b = float(
                optimize.brentq(
                    lambda x, w=weights, g=points, s=sd, target=inc: (
                        _crossing(x, s, w, g, sides) - target
                    ),
                    1e-9,
                    40.0 * math.sqrt(t),
                    xtol=1e-13,
                )
            )
        z_bounds.append(b / math.sqrt(t))
        cap = 12.0 * math.sqrt(t) + 10
        upper = min(b, cap)
        new_grid = np.linspace(-upper if sides == 2 else -cap, upper, _GRID)
        if k == 0:
            dens = stats.norm.pdf(new_grid / sd) / sd
        else:
            kernel = stats.norm.pdf((new_grid[:, None] - grid[None, :]) / sd) / sd
            dens = kernel @ (_simpson_weights(grid) * dens)
        grid = new_grid
        prev_t = float(t)
    z = np.array(z_bounds)
    nominal = sides * stats.norm.sf(z) if sides == 2 else stats.norm.sf(z)
    return GroupSequentialDesign(
        tuple(float(t) for t in info),
        kind.value,
        alpha,
        sides,
        tuple(float(s) for s in spent),
        tuple(float(i) for i in increments),
        tuple(float(v) for v in z),
        tuple(float(p) for p in nominal),
    )


def _crossing(b: float, sd: float, weights: np.ndarray, points: np.ndarray, sides: int) -> float:
    """P(the path crosses ±b at this look and had not before), given the continuing mass."""
    up = stats.norm.sf((b - points) / sd)
    if sides == 2:
        up = up + stats.norm.cdf((-b - points) / sd)
    return float(weights @ up)


def _simpson_weights(grid: np.ndarray) -> np.ndarray:
    h = grid[1] - grid[0]
    w = np.ones(grid.size)
    w[1:-1:2] = 4.0
    w[2:-1:2] = 2.0
    out: np.ndarray = w * h / 3.0
    return out
