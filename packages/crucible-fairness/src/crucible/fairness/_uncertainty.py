"""Resampling and tests for group disparities: stratified bootstrap, permutation, chi-square/Fisher.

All resampling works on sufficient statistics, so 1 000 resamples of 100 000 rows cost a few
multinomial or hypergeometric draws per group rather than 10^8 row indices:

* a stratified bootstrap resample of group *g* (``n_g`` rows drawn with replacement within the
  group) has confusion counts ``Multinomial(n_g, cells_g / n_g)`` — the same distribution as
  resampling rows;
* a permutation of group labels over rows hands each group a multivariate-hypergeometric share
  of the pooled cells, drawn cell by cell with vectorised univariate hypergeometric draws.

For calibration the (bin, label) cell counts are resampled exactly in the same way and the sum of
the probabilities inside a resampled cell by its normal approximation (mean ``k·p̄``, variance
``k·s²``, finite-population corrected for permutations).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import numpy as np
from scipy import stats

from crucible.fairness._data import FairnessError, as_groups, check_lengths

__all__ = [
    "bootstrap_calibration",
    "bootstrap_counts",
    "holm",
    "permutation_counts",
    "permutation_test",
    "rate_test",
    "required_n",
]


def bootstrap_counts(counts: np.ndarray, n_boot: int, rng: np.random.Generator) -> np.ndarray:
    """Stratified bootstrap of per-group cell counts: ``(G, C)`` -> ``(n_boot, G, C)``."""
    g, c = counts.shape
    out = np.zeros((n_boot, g, c), dtype=np.int64)
    for i in range(g):
        n = int(counts[i].sum())
        if n > 0:
            out[:, i, :] = rng.multinomial(n, counts[i] / n, size=n_boot)
    return out


def _sum_given_count(
    k: np.ndarray,
    n: np.ndarray,
    sum_p: np.ndarray,
    sum_p2: np.ndarray,
    rng: np.random.Generator,
    *,
    without_replacement: bool,
) -> np.ndarray:
    safe = np.where(n > 0, n, 1)
    mean = sum_p / safe
    var = np.maximum(sum_p2 / safe - mean * mean, 0.0)
    v = k * var
    if without_replacement:
        fpc = np.where(n > 1, (n - k) / np.where(n > 1, n - 1, 1), 0.0)
        v = v * np.clip(fpc, 0.0, 1.0)
    out: np.ndarray = k * mean + np.sqrt(v) * rng.standard_normal(k.shape)
    return out


def bootstrap_calibration(
    counts: np.ndarray,
    sum_p: np.ndarray,
    sum_p2: np.ndarray,
    n_boot: int,
    rng: np.random.Generator,
) -> tuple[np.ndarray, np.ndarray]:
    """Stratified bootstrap of (bin, label) cells: returns ``(n_boot, G, B, 2)`` counts and p-sums."""
    g, b, _ = counts.shape
    flat = counts.reshape(g, b * 2)
    k = bootstrap_counts(flat, n_boot, rng).reshape(n_boot, g, b, 2)
    s = _sum_given_count(k, counts[None], sum_p[None], sum_p2[None], rng, without_replacement=False)
    return k, s


def permutation_counts(counts: np.ndarray, n_perm: int, rng: np.random.Generator) -> np.ndarray:
    """Group-label permutations of per-group cell counts: ``(G, C)`` -> ``(n_perm, G, C)``.

    Exact: with group sizes fixed, the cells each group receives under a uniformly random
    permutation of labels are multivariate hypergeometric, drawn here cell by cell.
    """
    g, c = counts.shape
    sizes = counts.sum(axis=1)
    remaining = np.broadcast_to(counts.sum(axis=0), (n_perm, c)).astype(np.int64).copy()
    out = np.zeros((n_perm, g, c), dtype=np.int64)
    for i in range(g - 1):
        left = np.full(n_perm, int(sizes[i]), dtype=np.int64)
        for j in range(c - 1):
            good = remaining[:, j]
            bad = remaining[:, j + 1 :].sum(axis=1)
            draw = np.zeros(n_perm, dtype=np.int64)
            live = (left > 0) & (good > 0)
            if live.any():
                draw[live] = rng.hypergeometric(good[live], bad[live], left[live])
            out[:, i, j] = draw
            remaining[:, j] -= draw
            left -= draw
        out[:, i, c - 1] = left
        remaining[:, c - 1] -= left
    out[:, g - 1, :] = remaining
    return out


def permutation_calibration(
    counts: np.ndarray,
    sum_p: np.ndarray,
    sum_p2: np.ndarray,
    n_perm: int,
    rng: np.random.Generator,
) -> tuple[np.ndarray, np.ndarray]:
    """Group-label permutations of (bin, label) cells with their probability sums."""
    g, b, _ = counts.shape
    k = permutation_counts(counts.reshape(g, b * 2), n_perm, rng).reshape(n_perm, g, b, 2)
    pooled_n = counts.sum(axis=0)[None, None]
    s = _sum_given_count(
        k,
        pooled_n,
        sum_p.sum(axis=0)[None, None],
        sum_p2.sum(axis=0)[None, None],
        rng,
        without_replacement=True,
    )
    return k, s


def rate_test(table: np.ndarray) -> tuple[float, str]:
    """Test equal rates across the rows of a ``(G, 2)`` table of (events, non-events).

    When an expected cell is below 5, Fisher's exact test (``scipy.stats.fisher_exact``); for
    more than two groups its Freeman–Halton extension, estimated from 9 999 random tables with
    fixed margins (``method=MonteCarloMethod``, seeded); otherwise Pearson's chi-square without
    continuity correction (``scipy.stats.chi2_contingency(correction=False)``). A table with an
    all-zero column has no variation to test and gets p = 1.
    """
    table = np.asarray(table, dtype=np.int64)
    table = table[table.sum(axis=1) > 0]
    if table.shape[0] < 2 or (table.sum(axis=0) == 0).any():
        return 1.0, "none (no variation)"
    expected = stats.contingency.expected_freq(table)
    if table.shape == (2, 2) and expected.min() < 5:
        return float(stats.fisher_exact(table).pvalue), "Fisher exact"
    if expected.min() < 5:
        method = stats.MonteCarloMethod(n_resamples=9999, rng=np.random.default_rng(0))
        res = stats.fisher_exact(table, method=method)
        # scipy returns a length-1 array rather than a scalar for some tiny tables.
        p_value = float(np.asarray(res.pvalue, dtype=np.float64).reshape(-1)[0])
        return p_value, "Fisher–Freeman–Halton (Monte Carlo, 9 999 tables)"
    res = stats.chi2_contingency(table, correction=False)
    return float(res.pvalue), "chi-square"


def holm(p_values: Sequence[float]) -> np.ndarray:
    """Holm (1979) step-down adjusted p-values (validated against statsmodels multipletests)."""
    p = np.asarray(p_values, dtype=np.float64)
    m = p.size
    if m == 0:
        return p
    order = np.argsort(p)
    adjusted = np.maximum.accumulate((m - np.arange(m)) * p[order])
    out = np.empty(m)
    out[order] = np.minimum(adjusted, 1.0)
    return out


def required_n(rate: float, delta: float, *, alpha: float = 0.05, power: float = 0.8) -> float:
    """Rows per group for a two-sided two-proportion z-test to detect ``delta`` at ``power``.

    n = (z_{1-α/2} + z_{power})² · 2 p(1 − p) / δ² (Fleiss et al. 2003, without continuity
    correction).
    """
    p = min(max(rate, 1e-6), 1 - 1e-6)
    z = stats.norm.ppf(1 - alpha / 2) + stats.norm.ppf(power)
    return float(z * z * 2 * p * (1 - p) / (delta * delta))


def permutation_test(
    metric: Callable[[np.ndarray, np.ndarray], float],
    y_true: Any,
    y_pred: Any,
    sensitive: Any,
    *,
    n_permutations: int = 1000,
    seed: int = 0,
) -> tuple[float, float]:
    """Permutation test that ``metric`` is equal across groups, for any metric.

    The statistic is ``max − min`` of ``metric(y_true[g], y_pred[g])`` over groups; group labels
    are permuted over rows ``n_permutations`` times. ``y_pred`` may hold scores or
    probabilities (only ``y_true`` must be binary).

    Returns:
        ``(statistic, p_value)`` with p = (1 + #{perm ≥ observed}) / (1 + n_permutations)
        (Phipson & Smyth 2010).

    Example:
        >>> import numpy as np
        >>> acc = lambda t, p: float(np.mean(t == p))
        >>> stat, p = permutation_test(acc, [1, 0] * 20, [1, 0] * 10 + [0, 1] * 10, ["a"] * 20 + ["b"] * 20)
        >>> stat, p < 0.01
        (1.0, True)
    """
    if not isinstance(n_permutations, int) or n_permutations < 1:
        raise FairnessError(f"`n_permutations` must be an int >= 1, got {n_permutations!r}")
    yt, _ = check_lengths(y_true, np.zeros(len(np.asarray(y_true)), dtype=np.int8))
    yp = np.asarray(y_pred)
    if yp.shape != yt.shape:
        raise FairnessError(f"`y_pred` has shape {yp.shape} but `y_true` has {yt.shape}")
    groups = as_groups(sensitive, yt.size)
    codes = groups.codes

    def statistic(c: np.ndarray) -> float:
        values = [metric(yt[c == i], yp[c == i]) for i in range(groups.n_groups)]
        return float(np.nanmax(values) - np.nanmin(values))

    observed = statistic(codes)
    rng = np.random.default_rng(seed)
    hits = sum(statistic(rng.permutation(codes)) >= observed - 1e-12 for _ in range(n_permutations))
    return observed, (1 + hits) / (1 + n_permutations)
