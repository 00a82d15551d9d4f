"""Shapley values: exact enumeration, Kernel SHAP, permutation sampling and linear SHAP.

All use the interventional value function ``v(S) = E_b[f(x_S, b_{~S})]`` over background rows
``b``, so ``Σ φ_i = v(all) − v(∅) = f(x) − E[f(background)]`` (efficiency).
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Callable, Sequence
from typing import Any, Literal

import numpy as np
import numpy.typing as npt

from crucible.core import Seeds
from crucible.xai._model import (
    Explanation,
    ModelFn,
    Predictor,
    XAIError,
    as_matrix,
    as_vector,
    feature_names_for,
)

__all__ = ["kernel_shap", "linear_shap", "sampling_shap"]

#: Exact enumeration of all 2^d coalitions up to this many features when n_samples="auto".
EXACT_MAX_D = 12
_CHUNK_ROWS = 262_144


def coalition_values(
    predict: Callable[[np.ndarray], np.ndarray],
    x: np.ndarray,
    background: np.ndarray,
    masks: np.ndarray,
) -> np.ndarray:
    """``v(S)`` for each boolean row of ``masks``: the mean of f with x on S and background elsewhere."""
    c, d = masks.shape
    m = background.shape[0]
    out = np.empty(c)
    step = max(1, _CHUNK_ROWS // m)
    for start in range(0, c, step):
        mk = masks[start : start + step]
        X = np.where(mk[:, None, :], x[None, None, :], background[None, :, :]).reshape(-1, d)
        out[start : start + len(mk)] = predict(X).reshape(len(mk), m).mean(axis=1)
    return out


def all_masks(d: int) -> np.ndarray:
    """All 2^d coalitions; row ``k`` contains feature ``i`` when bit ``i`` of ``k`` is set."""
    ar = np.arange(2**d, dtype=np.int64)
    return ((ar[:, None] >> np.arange(d)) & 1).astype(bool)


def shapley_from_table(v: np.ndarray, d: int) -> np.ndarray:
    """Exact Shapley values from ``v`` over all 2^d coalitions (bit-indexed, see :func:`all_masks`).

    φ_i = Σ_{S ∌ i} |S|! (d − |S| − 1)! / d! · (v(S ∪ {i}) − v(S))  (Shapley 1953).
    """
    ar = np.arange(2**d, dtype=np.int64)
    sizes = np.bitwise_count(ar.astype(np.uint64)).astype(np.int64)
    w = np.array(
        [math.factorial(s) * math.factorial(d - s - 1) / math.factorial(d) for s in range(d)]
    )
    phi = np.empty(d)
    for i in range(d):
        without = ar[((ar >> i) & 1) == 0]
        phi[i] = np.sum(w[sizes[without]] * (v[without | (1 << i)] - v[without]))
    return phi


def _subsets(d: int, s: int) -> np.ndarray:
    """All size-``s`` subsets of ``d`` features as boolean rows (lexicographic order)."""
    idx = np.fromiter(
        itertools.chain.from_iterable(itertools.combinations(range(d), s)), dtype=np.int64
    ).reshape(-1, s)
    block = np.zeros((len(idx), d), dtype=bool)
    np.put_along_axis(block, idx, True, axis=1)
    return block


def _sample_coalitions(
    d: int, n_samples: int, rng: np.random.Generator
) -> tuple[np.ndarray, np.ndarray]:
    """Kernel SHAP coalitions and weights (Lundberg & Lee 2017), as the reference implementation.

    Subset sizes are enumerated completely, smallest (and, paired, largest) first, while the
    budget covers them at their Shapley-kernel weight; the rest are drawn from the kernel's size
    distribution with paired (complementary) sampling, duplicates merged into weights.
    """
    n_sizes = math.ceil((d - 1) / 2)
    n_paired = (d - 1) // 2
    weight = np.array([(d - 1) / (s * (d - s)) for s in range(1, n_sizes + 1)])
    weight[:n_paired] *= 2
    weight /= weight.sum()
    remaining = weight.copy()
    masks: list[np.ndarray] = []
    weights: list[float] = []
    left = n_samples
    full = 0
    for s in range(1, n_sizes + 1):
        n_subsets = math.comb(d, s) * (2 if s <= n_paired else 1)
        if left * remaining[s - 1] / n_subsets < 1.0 - 1e-8:
            break
        full += 1
        left -= n_subsets
        if remaining[s - 1] < 1.0:
            remaining = remaining / (1.0 - remaining[s - 1])
        w = weight[s - 1] / math.comb(d, s) / (2 if s <= n_paired else 1)
        block = _subsets(d, s)
        masks.append(block)
        weights += [w] * len(block)
        if s <= n_paired:
            masks.append(~block)
            weights += [w] * len(block)
    if full < n_sizes and left > 0:
        # as the reference: sizes drawn with paired sizes' probability halved (each draw adds a
        # coalition and its complement); draws continue until `left` distinct coalitions are
        # found, repeats adding weight to the coalition they repeat
        rest = weight.copy()
        rest[:n_paired] /= 2
        rest = rest[full:] / rest[full:].sum()
        n_draw = 4 * left
        sizes = rng.choice(np.arange(full + 1, n_sizes + 1), size=n_draw, p=rest)
        drawn = rng.random((n_draw, d)).argsort(axis=1) < sizes[:, None]
        paired = sizes <= n_paired
        seq = np.empty((2 * n_draw, d), dtype=bool)
        seq[0::2], seq[1::2] = drawn, ~drawn
        keep = np.ones(2 * n_draw, dtype=bool)
        keep[1::2] = paired  # a complement only for paired sizes
        seq = seq[keep]
        if d <= 62:  # integer code per coalition (fast path)
            codes = seq.astype(np.int64) @ (np.int64(1) << np.arange(d, dtype=np.int64))
        else:
            codes = np.unique(seq, axis=0, return_inverse=True)[1].ravel()
        _, first = np.unique(codes, return_index=True)
        is_first = np.zeros(len(codes), dtype=bool)
        is_first[first] = True
        stop = int(np.searchsorted(np.cumsum(is_first), left)) + 1
        prefix = codes[:stop]
        _, first_pos, counts = np.unique(prefix, return_index=True, return_counts=True)
        masks.append(seq[first_pos])
        weights += list(counts / counts.sum() * weight[full:].sum())
    return np.concatenate(masks) if masks else np.zeros((0, d), bool), np.array(weights)


def _solve_constrained(
    masks: np.ndarray, weights: np.ndarray, v: np.ndarray, v0: float, v1: float
) -> np.ndarray:
    """Weighted least squares with Σφ = v1 − v0 imposed exactly by eliminating the last feature."""
    d = masks.shape[1]
    total = v1 - v0
    Z = masks.astype(np.float64)
    y = v - v0 - Z[:, -1] * total
    A = Z[:, :-1] - Z[:, -1:]
    sw = np.sqrt(weights)
    head, *_ = np.linalg.lstsq(A * sw[:, None], y * sw, rcond=None)
    phi = np.empty(d)
    phi[:-1] = head
    phi[-1] = total - head.sum()
    return phi


def _inputs(
    f: ModelFn,
    x: npt.ArrayLike,
    background: npt.ArrayLike,
    output: int | None,
    names: Sequence[str] | None,
) -> tuple[Predictor, np.ndarray, np.ndarray, tuple[str, ...]]:
    xv = as_vector(x, "x")
    bg = as_matrix(background, "background", xv.size)
    return Predictor(f, xv.size, output), xv, bg, feature_names_for(names, xv.size)


def kernel_shap(
    f: ModelFn,
    x: npt.ArrayLike,
    background: npt.ArrayLike,
    *,
    n_samples: int | Literal["auto"] = "auto",
    seed: int = 0,
    output: int | None = None,
    feature_names: Sequence[str] | None = None,
) -> Explanation:
    """Kernel SHAP (Lundberg & Lee 2017), exact by enumeration when that is affordable.

    Args:
        f: the model, ``(n, d)`` array -> ``n`` outputs (or ``(n, k)`` with ``output=``).
        x: the instance to explain, shape ``(d,)``.
        background: rows standing in for "feature absent" (a sample or k-means summary of
            the training data); cost grows linearly with its size.
        n_samples: coalitions to evaluate. ``"auto"`` enumerates all 2^d coalitions when
            ``d <= 12`` and otherwise uses ``2·d + 2048`` (the reference's default). An int at
            least ``2^d − 2`` also enumerates.
        seed: seeds the coalition sampling.

    Returns:
        An :class:`Explanation` whose values satisfy ``sum(values) == f(x) − E[f(background)]``
        exactly (enumeration: the Shapley formula; sampling: a least-squares fit under that
        equality constraint, solved by eliminating one feature).

    Raises:
        XAIError: shape mismatches, NaN, a model returning the wrong shape, ``n_samples < 2·d``.

    Notes:
        Sampled coalitions follow the reference implementation (``shap.KernelExplainer``):
        complete subset sizes are enumerated while the budget allows, the rest are drawn from
        the Shapley-kernel size distribution with paired sampling.

    Example:
        >>> import numpy as np
        >>> f = lambda X: 2 * X[:, 0] + X[:, 1] * X[:, 2]
        >>> e = kernel_shap(f, [1.0, 2.0, 3.0], np.zeros((1, 3)))
        >>> e.values.round(6).tolist()
        [2.0, 3.0, 3.0]
    """
    predict, xv, bg, names = _inputs(f, x, background, output, feature_names)
    d = xv.size
    exact = n_samples == "auto" and d <= EXACT_MAX_D
    if not exact:
        budget = 2 * d + 2048 if n_samples == "auto" else n_samples
        if not isinstance(budget, int) or isinstance(budget, bool) or budget < 2 * d:
            raise XAIError(
                f'`n_samples` must be "auto" or an int >= 2·d = {2 * d} for {d} features, got '
                f"{n_samples!r}; raise it (the default for d = {d} is {2 * d + 2048})"
            )
        exact = d <= 30 and budget >= 2**d - 2
    if d == 1:
        exact = True
    if exact:
        v = coalition_values(predict, xv, bg, all_masks(d))
        phi = shapley_from_table(v, d)
        v0, v1 = float(v[0]), float(v[-1])
        method = "kernel_shap (exact enumeration)"
    else:
        rng = Seeds(seed).generator("kernel_shap")
        masks, weights = _sample_coalitions(d, int(budget), rng)
        # one batch: the empty and full coalitions first, then the sampled ones
        ends = np.array([np.zeros(d, bool), np.ones(d, bool)])
        v = coalition_values(predict, xv, bg, np.concatenate([ends, masks]))
        v0, v1 = float(v[0]), float(v[1])
        phi = _solve_constrained(masks, weights, v[2:], v0, v1)
        method = f"kernel_shap ({len(masks)} coalitions)"
    return Explanation(phi, v0, names, method, predict.n_evaluations, xv, v1)


def sampling_shap(
    f: ModelFn,
    x: npt.ArrayLike,
    background: npt.ArrayLike,
    *,
    n_permutations: int = 100,
    seed: int = 0,
    output: int | None = None,
    feature_names: Sequence[str] | None = None,
) -> Explanation:
    """Permutation-sampling Shapley values (Castro et al. 2009; Štrumbelj & Kononenko 2014).

    Each sampled feature order adds features one at a time and credits each with its marginal
    contribution; every order is paired with its reverse (antithetic sampling, Mitchell et al.
    2022). Contributions along an order telescope to ``v(all) − v(∅)``, so efficiency holds
    exactly for any number of permutations.

    Example:
        >>> import numpy as np
        >>> e = sampling_shap(lambda X: X.sum(axis=1), [1.0, 2.0], np.zeros((1, 2)), n_permutations=2)
        >>> e.values.tolist()
        [1.0, 2.0]
    """
    predict, xv, bg, names = _inputs(f, x, background, output, feature_names)
    if not isinstance(n_permutations, int) or n_permutations < 1:
        raise XAIError(f"`n_permutations` must be an int >= 1, got {n_permutations!r}")
    d = xv.size
    rng = Seeds(seed).generator("sampling_shap")
    half = (n_permutations + 1) // 2
    perms = np.argsort(rng.random((half, d)), axis=1)
    perms = np.concatenate([perms, perms[:, ::-1]])[: max(n_permutations, 1)]
    p = perms.shape[0]
    # masks[k, j] = the first j features of permutation k are present (j = 1 .. d-1)
    rank = np.empty_like(perms)
    np.put_along_axis(rank, perms, np.arange(d)[None, :].repeat(p, axis=0), axis=1)
    inner = rank[:, None, :] < np.arange(1, d)[None, :, None]
    ends = coalition_values(predict, xv, bg, np.array([np.zeros(d, bool), np.ones(d, bool)]))
    v_inner = coalition_values(predict, xv, bg, inner.reshape(-1, d)).reshape(p, d - 1)
    chain = np.concatenate([np.full((p, 1), ends[0]), v_inner, np.full((p, 1), ends[1])], axis=1)
    contrib = np.diff(chain, axis=1)  # contribution of the feature at each position
    phi = np.zeros(d)
    np.add.at(phi, perms.ravel(), contrib.ravel())
    phi /= p
    return Explanation(
        phi, float(ends[0]), names, f"sampling_shap ({p} permutations)", predict.n_evaluations,
        xv, float(ends[1]),
    )  # fmt: skip


def linear_shap(
    coef: npt.ArrayLike | Any,
    x: npt.ArrayLike,
    background: npt.ArrayLike,
    *,
    intercept: float = 0.0,
    feature_names: Sequence[str] | None = None,
) -> Explanation:
    """Exact SHAP values of a linear model ``f(x) = intercept + coef · x`` (independent features).

    φ_i = coef_i · (x_i − E[b_i]) (Lundberg & Lee 2017, linear model case). ``coef`` may be an
    array or a fitted estimator with ``coef_`` (and ``intercept_``, then used as intercept); for
    a logistic model this explains the log-odds.

    Example:
        >>> linear_shap([2.0, -1.0], [1.0, 1.0], [[0.0, 0.0], [2.0, 0.0]]).values.tolist()
        [0.0, -1.0]
    """
    if hasattr(coef, "coef_"):
        intercept = float(np.ravel(getattr(coef, "intercept_", 0.0))[0])
        coef = np.ravel(coef.coef_)
    w = np.asarray(coef, dtype=np.float64).ravel()
    xv = as_vector(x, "x")
    if w.size != xv.size:
        raise XAIError(f"`coef` has {w.size} entries but `x` has {xv.size} features")
    bg = as_matrix(background, "background", xv.size)
    mean = bg.mean(axis=0)
    phi = w * (xv - mean)
    base = float(intercept + w @ mean)
    return Explanation(
        phi, base, feature_names_for(feature_names, xv.size), "linear_shap", 0, xv,
        float(intercept + w @ xv),
    )  # fmt: skip
