"""Sequential A/B tests that may be peeked at continuously, and the cost of peeking naively."""

from __future__ import annotations

from typing import Any

import attrs
import numpy as np
import numpy.typing as npt
from scipy import stats

from crucible.bench import confidence_sequence, msprt
from crucible.production_eval._errors import ProductionEvalError

__all__ = ["PeekingSimulation", "SequentialAB", "peeking_simulation", "sequential_ab"]


@attrs.frozen
class SequentialAB:
    """An always-valid comparison of two arms observed in pairs of arrivals.

    ``stopped_at`` is the number of pairs after which the test first rejected (0 if never);
    ``ci_low``/``ci_high`` the anytime-valid confidence sequence of treatment - control.
    """

    method: str
    estimate: float
    ci_low: float
    ci_high: float
    p_value: float
    reject: bool
    stopped_at: int
    n: int

    def to_dict(self) -> dict[str, Any]:
        return attrs.asdict(self)


def sequential_ab(
    control: npt.ArrayLike,
    treatment: npt.ArrayLike,
    *,
    kind: str = "proportion",
    alpha: float = 0.05,
    tau: float = 0.1,
    bounds: tuple[float, float] | None = None,
) -> SequentialAB:
    """Always-valid test of treatment vs control, in arrival order (one of each per step).

    Proportions: mSPRT (Johari et al. 2022) with the empirical-Bernstein confidence sequence
    of the difference; means: the confidence sequence (normal mixture, or empirical Bernstein
    with ``bounds``) whose first exclusion of 0 is the stopping time. Both from crucible.bench.
    """
    c = np.asarray(control, dtype=float)
    t = np.asarray(treatment, dtype=float)
    n = min(c.size, t.size)
    if n < 2:
        raise ProductionEvalError(f"`control` and `treatment` need >= 2 observations each, got {n}")
    c, t = c[:n], t[:n]
    if kind == "proportion":
        test = msprt(t, c, tau=tau, alpha=alpha)
        cs = confidence_sequence(t, c, bounds=(0, 1), confidence=1 - alpha)
        return SequentialAB(
            "mSPRT",
            test.estimate,
            cs.ci_low,
            cs.ci_high,
            test.p_value,
            test.reject,
            test.stopped_at,
            n,
        )
    if kind == "mean":
        if bounds is None:
            sd = float(np.std(t - c, ddof=1)) or 1.0
            cs = confidence_sequence(t, c, sigma=sd, method="normal-mixture", confidence=1 - alpha)
        else:
            cs = confidence_sequence(t, c, bounds=bounds, confidence=1 - alpha)
        first = cs.first_excluding(0.0)
        return SequentialAB(
            f"confidence sequence ({cs.method})",
            cs.estimate,
            cs.ci_low,
            cs.ci_high,
            float("nan"),
            bool(first),
            first,
            n,
        )
    raise ProductionEvalError(f"`kind` must be 'proportion' or 'mean', got {kind!r}")


@attrs.frozen
class PeekingSimulation:
    """False-positive rates under continuous peeking on A/A streams (no true difference)."""

    n_sims: int
    n: int
    peek_every: int
    alpha: float
    fpr_sequential: float
    fpr_naive: float

    def to_dict(self) -> dict[str, Any]:
        return attrs.asdict(self)

    def __str__(self) -> str:
        return (
            f"{self.n_sims} A/A streams of {self.n} pairs, peeking every {self.peek_every}: "
            f"mSPRT false-positive rate {self.fpr_sequential:.3f}, naive repeated t-test "
            f"{self.fpr_naive:.3f} (alpha = {self.alpha:g})"
        )


def peeking_simulation(
    *,
    n_sims: int = 200,
    n: int = 1000,
    p: float = 0.2,
    peek_every: int = 10,
    alpha: float = 0.05,
    seed: int = 0,
) -> PeekingSimulation:
    """Simulate A/A tests peeked at every ``peek_every`` pairs; stop at the first rejection.

    The naive procedure runs Welch's t test at each peek and stops when p < alpha; its
    false-positive rate grows with the number of peeks (Armitage et al. 1969). The mSPRT's
    stays below alpha (Ville's inequality).
    """
    if n_sims < 1 or n < 2 * peek_every or peek_every < 2:
        raise ProductionEvalError("need n_sims >= 1, peek_every >= 2 and n >= 2 * peek_every")
    rng = np.random.default_rng(seed)
    seq_hits = naive_hits = 0
    looks = np.arange(peek_every, n + 1, peek_every)
    for _ in range(n_sims):
        a = (rng.random(n) < p).astype(float)
        b = (rng.random(n) < p).astype(float)
        if msprt(a, b, alpha=alpha).reject:
            seq_hits += 1
        ca, cb = np.cumsum(a)[looks - 1], np.cumsum(b)[looks - 1]
        ca2, cb2 = np.cumsum(a * a)[looks - 1], np.cumsum(b * b)[looks - 1]
        ma, mb = ca / looks, cb / looks
        va = (ca2 - looks * ma**2) / (looks - 1)
        vb = (cb2 - looks * mb**2) / (looks - 1)
        se = np.sqrt(va / looks + vb / looks)
        with np.errstate(divide="ignore", invalid="ignore"):
            tstat = (ma - mb) / se
            df = se**4 / ((va / looks) ** 2 / (looks - 1) + (vb / looks) ** 2 / (looks - 1))
            pv = 2 * stats.t.sf(np.abs(tstat), df)
        if np.nanmin(np.where(np.isfinite(pv), pv, 1.0)) < alpha:
            naive_hits += 1
    return PeekingSimulation(n_sims, n, peek_every, alpha, seq_hits / n_sims, naive_hits / n_sims)
