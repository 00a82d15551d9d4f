"""Certified robustness by randomised smoothing (Cohen, Rosenfeld & Kolter, 2019).

The smoothed classifier ``g(x) = argmax_c P(f(x + ε) = c)``, ``ε ~ N(0, σ²I)``, is certifiably
constant within an L2 ball of radius ``σ·Φ⁻¹(p_A)`` around ``x`` whenever the top class has
probability ``p_A > 1/2``. :func:`certify` and :func:`predict` are the paper's CERTIFY and
PREDICT. For text, smooth a classifier over vectors (an embedding of the prompt, a bag of
features): the certificate is then about perturbations of that vector.

References:
    Cohen, J., Rosenfeld, E., & Kolter, J. Z. (2019). Certified adversarial robustness via
    randomized smoothing. ICML 2019, PMLR 97:1310-1320. arXiv:1902.02918
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

import attrs
import numpy as np
import numpy.typing as npt
from scipy import stats

from crucible.core import Seeds, ValidationError

__all__ = ["Certificate", "SmoothedPrediction", "certify", "clopper_pearson_lower", "predict"]

Classifier = Callable[[np.ndarray], npt.ArrayLike]


@attrs.frozen
class Certificate:
    """The outcome of :func:`certify`.

    Attributes:
        prediction: the smoothed classifier's class, or ``None`` when it abstains.
        radius: the certified L2 radius ``σ·Φ⁻¹(p_lower)``; 0.0 when abstaining.
        p_lower: the one-sided Clopper–Pearson lower bound on the top class's probability.
        top_count: noisy samples (of ``n``) that the top class won in the estimation round.
        n0, n: selection and estimation sample sizes.
        alpha: the probability that the certificate is wrong.
        sigma: the noise level.
    """

    prediction: int | None
    radius: float
    p_lower: float
    top_count: int
    n0: int
    n: int
    alpha: float
    sigma: float

    @property
    def abstained(self) -> bool:
        return self.prediction is None

    def to_dict(self) -> dict[str, Any]:
        return {**attrs.asdict(self), "abstained": self.abstained}

    def __str__(self) -> str:
        if self.abstained:
            return f"abstain (p_lower={self.p_lower:.4f} <= 0.5, σ={self.sigma:g})"
        return f"class {self.prediction}, certified radius {self.radius:.4f} (p_lower={self.p_lower:.4f}, σ={self.sigma:g}, α={self.alpha:g})"


@attrs.frozen
class SmoothedPrediction:
    """The outcome of :func:`predict`: the smoothed class (``None`` = abstain) and its test."""

    prediction: int | None
    p_value: float
    top_count: int
    runner_up_count: int
    n: int
    alpha: float
    sigma: float

    @property
    def abstained(self) -> bool:
        return self.prediction is None

    def to_dict(self) -> dict[str, Any]:
        return {**attrs.asdict(self), "abstained": self.abstained}


def clopper_pearson_lower(successes: int, n: int, alpha: float) -> float:
    """One-sided (1 - alpha) Clopper–Pearson lower bound: ``Beta.ppf(alpha, k, n - k + 1)``.

    Validated against: statsmodels proportion_confint(k, n, alpha=2*alpha, method="beta")[0].
    """
    if successes <= 0:
        return 0.0
    return float(stats.beta.ppf(alpha, successes, n - successes + 1))


def _check(sigma: float, n0: int, n: int, alpha: float, batch_size: int) -> None:
    if (
        isinstance(sigma, bool)
        or not isinstance(sigma, int | float)
        or not sigma > 0
        or not math.isfinite(sigma)
    ):
        raise ValidationError(f"`sigma` must be a finite number > 0, got {sigma!r}")
    for name, value in (("n0", n0), ("n", n), ("batch_size", batch_size)):
        if isinstance(value, bool) or not isinstance(value, int) or value < 1:
            raise ValidationError(f"`{name}` must be a positive int, got {value!r}")
    if isinstance(alpha, bool) or not isinstance(alpha, int | float) or not 0 < alpha < 1:
        raise ValidationError(f"`alpha` must be in (0, 1), got {alpha!r}")


def _counts(
    classifier: Classifier,
    x: np.ndarray,
    sigma: float,
    num: int,
    rng: np.random.Generator,
    batch_size: int,
) -> dict[int, int]:
    counts: dict[int, int] = {}
    remaining = num
    while remaining > 0:
        b = min(batch_size, remaining)
        noisy = x[None, ...] + rng.normal(0.0, sigma, size=(b, *x.shape))
        labels = np.asarray(classifier(noisy)).reshape(-1)
        if labels.shape[0] != b:
            raise ValidationError(
                f"`classifier` must return one label per noisy input: got {labels.shape[0]} for {b}"
            )
        for label, count in zip(
            *np.unique(labels.astype(np.int64), return_counts=True), strict=True
        ):
            counts[int(label)] = counts.get(int(label), 0) + int(count)
        remaining -= b
    return counts


def certify(
    classifier: Classifier,
    x: npt.ArrayLike,
    *,
    sigma: float,
    n0: int = 100,
    n: int = 10_000,
    alpha: float = 0.001,
    seed: int = 0,
    batch_size: int = 1_000,
) -> Certificate:
    """CERTIFY of Cohen et al. (2019): predict with the smoothed classifier and certify a radius.

    1. *Selection*: classify ``n0`` noisy copies ``x + N(0, σ²I)``; ĉ_A is the most frequent class.
    2. *Estimation*: classify ``n`` fresh noisy copies (an independent random stream); count ĉ_A.
    3. ``p_lower`` = one-sided (1 - α) Clopper–Pearson lower bound of that count.
    4. Abstain if ``p_lower <= 1/2``; else certify radius ``σ·Φ⁻¹(p_lower)``
       (``scipy.stats.norm.ppf``). With probability at least 1 - α over the sampling, the
       smoothed classifier returns ĉ_A everywhere within that L2 radius.

    Args:
        classifier: the base classifier: a batch of inputs of shape ``(b, *x.shape)`` -> ``b``
            integer labels.
        x: the input (a vector, an embedding).
        sigma: noise standard deviation (the certificate's scale).
        n0, n: selection and estimation sample sizes.
        alpha: failure probability of the certificate.
        seed: seeds two independent streams (selection, estimation).

    Example:
        >>> f = lambda batch: (batch[:, 0] > 0).astype(int)
        >>> c = certify(f, [1.0, 0.0], sigma=1.0, n=20_000, seed=0)
        >>> c.prediction, 0.9 < c.radius < 1.0   # the true distance to the boundary is 1.0
        (1, True)
    """
    _check(sigma, n0, n, alpha, batch_size)
    point = np.asarray(x, dtype=float)
    seeds = Seeds(seed)
    selection = _counts(
        classifier, point, sigma, n0, seeds.generator("smoothing", "selection"), batch_size
    )
    top = max(sorted(selection), key=lambda c: selection[c])
    estimation = _counts(
        classifier, point, sigma, n, seeds.generator("smoothing", "estimation"), batch_size
    )
    k = estimation.get(top, 0)
    p_lower = clopper_pearson_lower(k, n, alpha)
    if p_lower <= 0.5:
        return Certificate(None, 0.0, p_lower, k, n0, n, float(alpha), float(sigma))
    radius = float(sigma * stats.norm.ppf(p_lower))
    return Certificate(top, radius, p_lower, k, n0, n, float(alpha), float(sigma))


def predict(
    classifier: Classifier,
    x: npt.ArrayLike,
    *,
    sigma: float,
    n: int = 1_000,
    alpha: float = 0.001,
    seed: int = 0,
    batch_size: int = 1_000,
) -> SmoothedPrediction:
    """PREDICT of Cohen et al. (2019): the smoothed class, or abstain.

    Counts the top two classes over ``n`` noisy copies and returns the top one only if a
    two-sided binomial test of ``n_A`` vs ``n_A + n_B`` at p = 1/2 rejects at level ``alpha``
    (``scipy.stats.binomtest``); the probability of returning a class other than g(x) is then
    at most ``alpha``.
    """
    _check(sigma, 1, n, alpha, batch_size)
    point = np.asarray(x, dtype=float)
    counts = _counts(
        classifier, point, sigma, n, Seeds(seed).generator("smoothing", "predict"), batch_size
    )
    ranked = sorted(counts, key=lambda c: (-counts[c], c))
    n_a = counts[ranked[0]]
    n_b = counts[ranked[1]] if len(ranked) > 1 else 0
    p_value = float(stats.binomtest(n_a, n_a + n_b, 0.5).pvalue)
    prediction = ranked[0] if p_value <= alpha else None
    return SmoothedPrediction(prediction, p_value, n_a, n_b, n, float(alpha), float(sigma))
