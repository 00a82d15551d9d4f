"""Latency distributions for simulated models: a mixture of log-normals with exact CDF and quantiles.

The default shape mirrors production LLM latency: most calls come from a fast log-normal body and
a fraction (10 % by default) from a slow log-normal tail. Because the distribution is known
exactly, benchmarks can compare simulated tail latencies with analytic values (e.g. for hedged
calls, P(T > t) = S(t) * S(t - d)).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from statistics import NormalDist
from typing import Any

import attrs
import numpy as np

from crucible.core._errors import ConfigurationError

__all__ = ["LatencyProfile", "LogNormal"]

_STD = NormalDist()


def _positive(instance: object, attribute: attrs.Attribute[float], value: float) -> None:
    if not isinstance(value, int | float) or not math.isfinite(value) or value <= 0:
        raise ConfigurationError(
            f"`{attribute.name}` must be a positive finite number, got {value!r}"
        )


@attrs.frozen(slots=True)
class LogNormal:
    """One log-normal component: ``weight`` of the mass, median ``median_ms``, log-sd ``sigma``."""

    weight: float = attrs.field(validator=_positive)
    median_ms: float = attrs.field(validator=_positive)
    sigma: float = attrs.field(validator=_positive)


def _components(value: Sequence[LogNormal]) -> tuple[LogNormal, ...]:
    comps = tuple(value)
    if not comps:
        raise ConfigurationError("a LatencyProfile needs at least one component")
    total = sum(c.weight for c in comps)
    if not math.isclose(total, 1.0, rel_tol=1e-9, abs_tol=1e-9):
        raise ConfigurationError(f"LatencyProfile component weights must sum to 1, got {total}")
    return comps


@attrs.frozen(slots=True)
class LatencyProfile:
    """A latency distribution in milliseconds: a mixture of log-normal components.

    Build one from target quantiles with :meth:`from_quantiles`, or from one log-normal with
    :meth:`lognormal`.

    Example:
        >>> prof = LatencyProfile.from_quantiles(p50=500, p95=2000, p99=5000, slow_fraction=0.1)
        >>> [round(prof.quantile(p)) for p in (0.5, 0.95, 0.99)]
        [500, 2000, 5000]
    """

    components: tuple[LogNormal, ...] = attrs.field(converter=_components)

    @classmethod
    def lognormal(cls, median_ms: float, sigma: float) -> LatencyProfile:
        """A single log-normal with the given median and log-standard-deviation."""
        return cls((LogNormal(1.0, median_ms, sigma),))

    @classmethod
    def from_mean(cls, mean_ms: float, sigma: float = 0.35) -> LatencyProfile:
        """A single log-normal with the given mean (median = mean * exp(-sigma^2 / 2))."""
        _positive(None, attrs.fields(LogNormal).median_ms, mean_ms)
        return cls.lognormal(mean_ms * math.exp(-sigma * sigma / 2), sigma)

    @classmethod
    def from_quantiles(
        cls,
        p50: float,
        p95: float,
        p99: float,
        *,
        slow_fraction: float = 0.1,
        fast_sigma: float | None = None,
    ) -> LatencyProfile:
        """A fast log-normal body plus a slow log-normal tail matching P50, P95 and P99 exactly.

        The fast body holds ``1 - slow_fraction`` of the calls. ``fast_sigma`` fixes the body's
        spread (chosen from the P50/P95 ratio when omitted); the body's median and the tail's
        median and spread are then solved by Newton's method on the mixture CDF.

        Raises:
            ConfigurationError: if the quantiles are not increasing or cannot be matched.
        """
        for name, v in (("p50", p50), ("p95", p95), ("p99", p99)):
            _positive(None, attrs.fields(LogNormal).median_ms, v)
            del name
        if not p50 < p95 < p99:
            raise ConfigurationError(
                f"latency quantiles must increase: p50={p50}, p95={p95}, p99={p99}"
            )
        if not 0.0 < slow_fraction < 0.5:
            raise ConfigurationError(f"`slow_fraction` must be in (0, 0.5), got {slow_fraction}")
        w = slow_fraction
        s1 = (
            fast_sigma
            if fast_sigma is not None
            else min(0.5, math.log(p95 / p50) / _STD.inv_cdf(0.95) / 2)
        )
        targets = np.log([p50, p95, p99])
        probs = np.array([0.5, 0.95, 0.99])
        # Start: the tail holds the upper quantiles, the body the median.
        x = np.array(
            [math.log(p50), math.log(p95), max(0.1, math.log(p99 / p95) / _STD.inv_cdf(0.9))]
        )

        def residual(v: np.ndarray) -> np.ndarray:
            mu1, mu2, s2 = v
            return np.array(
                [
                    (1 - w) * _STD.cdf((t - mu1) / s1) + w * _STD.cdf((t - mu2) / s2) - p
                    for t, p in zip(targets, probs, strict=True)
                ]
            )

        for _ in range(200):
            r = residual(x)
            if float(np.max(np.abs(r))) < 1e-13:
                break
            jac = np.empty((3, 3))
            for j in range(3):
                h = 1e-7 * max(1.0, abs(x[j]))
                step = x.copy()
                step[j] += h
                jac[:, j] = (residual(step) - r) / h
            try:
                delta = np.linalg.solve(jac, -r)
            except np.linalg.LinAlgError:
                break
            scale = 1.0
            while scale > 1e-4:
                cand = x + scale * delta
                if cand[2] > 1e-3 and np.max(np.abs(residual(cand))) < np.max(np.abs(r)):
                    x = cand
                    break
                scale /= 2
            else:
                break
        if float(np.max(np.abs(residual(x)))) > 1e-9:
            raise ConfigurationError(
                f"cannot match p50={p50}, p95={p95}, p99={p99} with slow_fraction={slow_fraction} "
                f"and fast_sigma={s1:.3f}; try another slow_fraction or fast_sigma"
            )
        mu1, mu2, s2 = (float(v) for v in x)
        return cls((LogNormal(1 - w, math.exp(mu1), s1), LogNormal(w, math.exp(mu2), s2)))

    def cdf(self, t_ms: float) -> float:
        """P(T <= t)."""
        if t_ms <= 0:
            return 0.0
        lt = math.log(t_ms)
        return sum(
            c.weight * _STD.cdf((lt - math.log(c.median_ms)) / c.sigma) for c in self.components
        )

    def sf(self, t_ms: float) -> float:
        """P(T > t), the survival function."""
        return 1.0 - self.cdf(t_ms)

    def quantile(self, p: float) -> float:
        """The latency below which a fraction ``p`` of calls finish (bisection on the CDF)."""
        if not 0.0 < p < 1.0:
            raise ConfigurationError(f"quantile `p` must be in (0, 1), got {p}")
        lo = min(math.log(c.median_ms) - 12 * c.sigma for c in self.components)
        hi = max(math.log(c.median_ms) + 12 * c.sigma for c in self.components)
        for _ in range(200):
            mid = (lo + hi) / 2
            if self.cdf(math.exp(mid)) < p:
                lo = mid
            else:
                hi = mid
            if hi - lo < 1e-12:
                break
        return math.exp((lo + hi) / 2)

    @property
    def mean_ms(self) -> float:
        return sum(c.weight * c.median_ms * math.exp(c.sigma**2 / 2) for c in self.components)

    def sample(self, rng: np.random.Generator, size: int | None = None) -> Any:
        """Draw latencies in ms (one float, or an array of ``size``)."""
        n = 1 if size is None else size
        weights = np.array([c.weight for c in self.components])
        which = (
            rng.choice(len(self.components), size=n, p=weights)
            if len(weights) > 1
            else np.zeros(n, int)
        )
        z = rng.standard_normal(n)
        mu = np.log([c.median_ms for c in self.components])[which]
        sd = np.array([c.sigma for c in self.components])[which]
        out = np.exp(mu + sd * z)
        return float(out[0]) if size is None else out

    def sample_from_uniforms(self, u_component: float, z: float) -> float:
        """One latency from a uniform (component choice) and a standard normal draw."""
        acc = 0.0
        chosen = self.components[-1]
        for c in self.components:
            acc += c.weight
            if u_component < acc:
                chosen = c
                break
        return chosen.median_ms * math.exp(chosen.sigma * z)

    def to_dict(self) -> dict[str, Any]:
        return {"components": [attrs.asdict(c) for c in self.components]}
