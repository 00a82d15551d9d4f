"""Anytime-valid inference: confidence sequences for means and the mSPRT for proportions."""

from __future__ import annotations

import math
from enum import StrEnum

import attrs
import numpy as np
import numpy.typing as npt
from scipy import optimize

from crucible.bench._errors import BenchInputError
from crucible.bench._results import ResultMixin, fmt, fmt_p
from crucible.bench._validate import as_array, as_enum, as_pair, check_alpha

__all__ = ["CSMethod", "ConfidenceSequence", "SequentialTest", "confidence_sequence", "msprt"]


class CSMethod(StrEnum):
    """Confidence sequence constructions."""

    EMPIRICAL_BERNSTEIN = "empirical-bernstein"
    NORMAL_MIXTURE = "normal-mixture"


@attrs.frozen(eq=False)  # holds arrays: compare fields explicitly, not with ==
class ConfidenceSequence(ResultMixin):
    """A confidence sequence: ``lower[t]``, ``upper[t]`` bound the mean after t + 1 observations.

    The bounds hold simultaneously for every t with probability >= ``confidence``, so the data
    may be monitored continuously and the experiment stopped at any time. They are running
    intersections (monotone). ``ci_low``/``ci_high`` are the bounds at the last observation.
    """

    estimate: float
    ci_low: float
    ci_high: float
    confidence: float
    n: int
    method: str
    lower: np.ndarray = attrs.field(repr=False)
    upper: np.ndarray = attrs.field(repr=False)

    def first_excluding(self, value: float = 0.0) -> int:
        """Number of observations after which ``value`` first left the sequence (0 if never)."""
        out = np.flatnonzero((self.lower > value) | (self.upper < value))
        return int(out[0]) + 1 if out.size else 0

    def __str__(self) -> str:
        pct = f"{self.confidence * 100:g}%"
        return (
            f"{fmt(self.estimate)} [{pct} anytime-valid {fmt(self.ci_low)}, {fmt(self.ci_high)}]"
            f" after {self.n} observations ({self.method})"
        )


def _eb_sequence(x01: np.ndarray, alpha: float, c: float = 0.5) -> tuple[np.ndarray, np.ndarray]:
    """Predictable plug-in empirical-Bernstein CS for the mean of [0, 1] data (WSR 2024, Thm 2)."""
    n = x01.size
    t = np.arange(1, n + 1, dtype=np.float64)
    csum = np.cumsum(x01)
    mu_hat = (0.5 + csum) / (t + 1)
    sq = np.cumsum((x01 - mu_hat) ** 2)
    sigma2 = (0.25 + sq) / (t + 1)
    sigma2_prev = np.concatenate([[0.25], sigma2[:-1]])
    mu_prev = np.concatenate([[0.5], mu_hat[:-1]])
    log_term = math.log(2 / alpha)
    lam = np.minimum(np.sqrt(2 * log_term / (sigma2_prev * t * np.log1p(t))), c)
    v = 4 * (x01 - mu_prev) ** 2
    psi = (-np.log1p(-lam) - lam) / 4
    lam_sum = np.cumsum(lam)
    center = np.cumsum(lam * x01) / lam_sum
    margin = (log_term + np.cumsum(v * psi)) / lam_sum
    return center - margin, center + margin


def _nm_sequence(
    x: np.ndarray, sigma: float, alpha: float, optimize_at: int
) -> tuple[np.ndarray, np.ndarray]:
    """Two-sided normal-mixture CS for a σ-sub-Gaussian mean (Howard et al. 2021, eq. 14)."""
    t = np.arange(1, x.size + 1, dtype=np.float64)
    v_opt = sigma**2 * optimize_at

    def width(log_rho: float) -> float:
        rho = math.exp(log_rho)
        return (v_opt + rho) * math.log((v_opt + rho) / (rho * alpha**2))

    best = optimize.minimize_scalar(
        width, bounds=(math.log(v_opt) - 10, math.log(v_opt) + 10), method="bounded"
    )
    rho = math.exp(float(best.x))
    v = sigma**2 * t
    radius = np.sqrt((v + rho) * np.log((v + rho) / (rho * alpha**2))) / t
    mean = np.cumsum(x) / t
    return mean - radius, mean + radius


def confidence_sequence(
    x: npt.ArrayLike,
    y: npt.ArrayLike | None = None,
    *,
    bounds: tuple[float, float] | None = None,
    sigma: float | None = None,
    method: CSMethod | str | None = None,
    confidence: float = 0.95,
    optimize_at: int = 100,
) -> ConfidenceSequence:
    """Anytime-valid confidence sequence for a mean, or for a paired difference of means.

    Parameters
    ----------
    x, y
        Observations in arrival order. With ``y``, the sequence is for mean(x - y) over pairs.
    bounds
        Known range (lo, hi) of each observation of ``x`` (and ``y``): scores in [0, 1] give
        (0, 1). Required for ``empirical-bernstein``.
    sigma
        Sub-Gaussian scale for ``normal-mixture`` (defaults to (hi - lo)/2 from ``bounds``).
    method
        ``empirical-bernstein`` (default when ``bounds`` are given; adapts to the variance) or
        ``normal-mixture`` (needs ``sigma`` or ``bounds``).
    optimize_at
        Normal mixture: the sample size at which the boundary is tightest.

    Notes
    -----
    Empirical Bernstein (predictable plug-in, Waudby-Smith & Ramdas 2024, Thm 2): data mapped
    to [0, 1], λ_t = min(√(2 log(2/α)/(σ̂²_{t-1} t log(1 + t))), 1/2), bounds
    Σλᵢxᵢ/Σλᵢ ± (log(2/α) + Σ vᵢψ_E(λᵢ))/Σλᵢ. Normal mixture (Howard et al. 2021):
    |S_t - tμ| < √((tσ² + ρ) log((tσ² + ρ)/(ρα²))), ρ chosen to minimise the width at
    ``optimize_at``. Both are running intersections. Paired differences of [lo, hi] scores
    lie in [lo - hi, hi - lo].

    References
    ----------
    Howard, S. R., Ramdas, A., McAuliffe, J. & Sekhon, J. (2021). Time-uniform,
    nonparametric, nonasymptotic confidence sequences. Ann. Statist. 49(2), 1055–1080.
    Waudby-Smith, I. & Ramdas, A. (2024). Estimating means of bounded random variables by
    betting. JRSS B 86(1), 1–27. doi:10.1093/jrsssb/qkad009.

    Validated against: the closed-form boundaries evaluated independently in the tests, and
    by simulation (time-uniform coverage) in benchmarks/calibration.py.

    Examples
    --------
    >>> cs = confidence_sequence([1, 0, 1, 1, 1, 0, 1, 1] * 25, bounds=(0, 1))
    >>> cs.ci_low < 0.75 < cs.ci_high
    True
    """
    confidence = check_alpha(confidence, "confidence")
    alpha = 1 - confidence
    if y is None:
        data = as_array(x, "x", min_n=1)
    else:
        xa, ya = as_pair(x, y, names=("x", "y"), min_n=1)
        data = xa - ya
    if bounds is not None:
        lo, hi = (float(v) for v in bounds)
        if not (math.isfinite(lo) and math.isfinite(hi) and lo < hi):
            raise BenchInputError(f"`bounds` must be finite (lo, hi) with lo < hi, got {bounds!r}")
        if y is not None:
            lo, hi = lo - hi, hi - lo
        if (data < lo).any() or (data > hi).any():
            raise BenchInputError(f"observations fall outside `bounds` = {bounds!r}")
    if method is None:
        kind = CSMethod.EMPIRICAL_BERNSTEIN if bounds is not None else CSMethod.NORMAL_MIXTURE
    else:
        kind = as_enum(method, CSMethod, "method")
    if kind is CSMethod.EMPIRICAL_BERNSTEIN:
        if bounds is None:
            raise BenchInputError("`bounds` are required for method='empirical-bernstein'")
        low01, high01 = _eb_sequence((data - lo) / (hi - lo), alpha)
        low, high = lo + (hi - lo) * low01, lo + (hi - lo) * high01
    else:
        if sigma is None:
            if bounds is None:
                raise BenchInputError("method='normal-mixture' needs `sigma` or `bounds`")
            sigma = (hi - lo) / 2
        if not (sigma > 0 and math.isfinite(sigma)):
            raise BenchInputError(f"`sigma` must be a positive number, got {sigma!r}")
        if optimize_at < 1:
            raise BenchInputError(f"`optimize_at` must be >= 1, got {optimize_at!r}")
        low, high = _nm_sequence(data, float(sigma), alpha, optimize_at)
    low, high = np.maximum.accumulate(low), np.minimum.accumulate(high)
    if bounds is not None:
        low, high = np.maximum(low, lo), np.minimum(high, hi)
    return ConfidenceSequence(
        float(data.mean()),
        float(low[-1]),
        float(high[-1]),
        confidence,
        data.size,
        kind.value,
        low,
        high,
    )


@attrs.frozen(eq=False)  # holds arrays: compare fields explicitly, not with ==
class SequentialTest(ResultMixin):
    """An always-valid sequential test: ``p_values[t]`` is valid at every t, however chosen.

    ``stopped_at`` is the number of observations (pairs) after which the test first
    rejected (``p_values <= alpha``), 0 if it never did.
    """

    test: str
    estimate: float
    p_value: float
    alpha: float
    reject: bool
    stopped_at: int
    n: int
    method: str
    p_values: np.ndarray = attrs.field(repr=False)

    def __str__(self) -> str:
        when = f"rejected after {self.stopped_at} observations" if self.reject else "not rejected"
        return f"{self.test}: estimate {fmt(self.estimate)}, always-valid {fmt_p(self.p_value)}, {when}"


def msprt(
    a: npt.ArrayLike,
    b: npt.ArrayLike | None = None,
    *,
    p0: float = 0.5,
    tau: float = 0.1,
    alpha: float = 0.05,
) -> SequentialTest:
    """Mixture sequential probability ratio test (mSPRT) for proportions, always valid.

    Parameters
    ----------
    a, b
        Binary outcomes in arrival order. One stream tests p = ``p0``; two streams (paired
        arrivals, one observation per arm per step) test p_a = p_b.
    tau
        Standard deviation of the normal mixing distribution over the effect (proportion
        scale): the effect size the test is most sensitive to.

    Notes
    -----
    Λ_n = √(V/(V + nτ²))·exp(n²τ²θ̂²/(2V(V + nτ²))) with θ̂ = p̂ - p0 and V = p0(1 - p0)
    (one stream), or θ̂ = p̂_a - p̂_b and V = 2p̄(1 - p̄) with the pooled p̄ (two streams).
    p_n = min(1, min_{m<=n} 1/Λ_m) is an always-valid p-value: P(∃n: p_n <= α) <= α under H0
    (Ville's inequality; the Gaussian approximation to the increments is the one of Johari
    et al.).

    References
    ----------
    Robbins, H. (1970). Statistical methods related to the law of the iterated logarithm.
    Ann. Math. Statist. 41(5), 1397–1409. Johari, R., Koomen, P., Pekelis, L. & Walsh, D.
    (2022). Always valid inference: continuous monitoring of A/B tests. Operations Research
    70(3), 1806–1821. doi:10.1287/opre.2021.2135.

    Validated against: the closed-form statistic computed independently in the tests, and by
    simulation (type-I error <= alpha under continuous monitoring) in benchmarks/calibration.py.

    Examples
    --------
    >>> r = msprt([1] * 40 + [0] * 10, p0=0.5)
    >>> r.reject
    True
    """
    alpha = check_alpha(alpha)
    if not (tau > 0 and math.isfinite(tau)):
        raise BenchInputError(f"`tau` must be a positive number, got {tau!r}")
    if b is None:
        x = as_array(a, "a", min_n=1)
        if not np.isin(x, (0.0, 1.0)).all():
            raise BenchInputError("`a` must hold binary outcomes (0/1 or booleans)")
        p0 = check_alpha(p0, "p0")
        t = np.arange(1, x.size + 1, dtype=np.float64)
        theta = np.cumsum(x) / t - p0
        v = np.full_like(t, p0 * (1 - p0))
        test, estimate = "mSPRT (one proportion)", float(x.mean())
    else:
        xa, xb = as_pair(a, b, min_n=1)
        if not (np.isin(xa, (0.0, 1.0)).all() and np.isin(xb, (0.0, 1.0)).all()):
            raise BenchInputError("`a` and `b` must hold binary outcomes (0/1 or booleans)")
        t = np.arange(1, xa.size + 1, dtype=np.float64)
        pa, pb = np.cumsum(xa) / t, np.cumsum(xb) / t
        pooled = (pa + pb) / 2
        theta = pa - pb
        v = 2 * pooled * (1 - pooled)
        test, estimate = "mSPRT (two proportions)", float(xa.mean() - xb.mean())
    tau2 = tau * tau
    with np.errstate(divide="ignore", invalid="ignore"):
        log_lr = 0.5 * np.log(v / (v + t * tau2)) + t * t * tau2 * theta**2 / (
            2 * v * (v + t * tau2)
        )
    log_lr = np.where(v > 0, log_lr, -np.inf)
    p_values = np.minimum(1.0, np.minimum.accumulate(np.exp(-log_lr)))
    hits = np.flatnonzero(p_values <= alpha)
    stopped = int(hits[0]) + 1 if hits.size else 0
    return SequentialTest(
        test,
        estimate,
        float(p_values[-1]),
        alpha,
        bool(hits.size),
        stopped,
        int(t.size),
        f"normal mixture, tau = {tau:g}",
        p_values,
    )
