"""Seeded sampling: random and stratified samples, train/test splits, k folds, bootstrap.

Every function takes ``seed`` and draws from a named :class:`crucible.core.Seeds` stream
(numpy PCG64), after putting the items in a canonical order (by id). The result therefore
depends only on (seed, the set of items): not on load order, Python's ``hash()`` or the machine.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from typing import Any

import attrs
import numpy as np

from crucible.core import Item, Seeds, ValidationError
from crucible.datasets._dataset import Dataset

__all__ = ["Split", "bootstrap", "k_fold", "sample", "train_test_split"]


@attrs.frozen(slots=True)
class Split:
    """A train/test partition; unpacks as ``train, test = split``."""

    train: Dataset
    test: Dataset

    def __iter__(self) -> Iterator[Dataset]:
        return iter((self.train, self.test))

    def __str__(self) -> str:
        return f"Split(train={len(self.train)} items, test={len(self.test)} items)"


def _as_dataset(data: Dataset | Sequence[Item]) -> Dataset:
    return data if isinstance(data, Dataset) else Dataset("items", list(data))


def _canonical(dataset: Dataset) -> list[Item]:
    return sorted(dataset.items, key=lambda item: item.id)


def _strata(items: Sequence[Item], field: str) -> dict[str, list[int]]:
    groups: dict[str, list[int]] = {}
    for index, item in enumerate(items):
        if field not in item.metadata:
            raise ValidationError(
                f"`stratify`={field!r}: item {item.id!r} has no metadata field {field!r}; "
                f"its fields are {', '.join(sorted(item.metadata)) or 'none'}"
            )
        groups.setdefault(str(item.metadata[field]), []).append(index)
    return dict(sorted(groups.items()))


def _allocate(sizes: Sequence[int], n: int) -> list[int]:
    """Largest-remainder (Hamilton) allocation of ``n`` draws proportional to ``sizes``."""
    total = sum(sizes)
    quotas = [n * s / total for s in sizes]
    counts = [min(int(q), s) for q, s in zip(quotas, sizes, strict=True)]
    order = sorted(range(len(sizes)), key=lambda i: (-(quotas[i] - int(quotas[i])), i))
    short = n - sum(counts)
    while short > 0:
        progressed = False
        for i in order:
            if short and counts[i] < sizes[i]:
                counts[i] += 1
                short -= 1
                progressed = True
        if not progressed:
            break
    return counts


def _check_seed(seed: Any) -> int:
    if isinstance(seed, bool) or not isinstance(seed, int | np.integer) or seed < 0:
        raise ValidationError(f"`seed` must be a non-negative int, got {seed!r}")
    return int(seed)


def sample(
    data: Dataset | Sequence[Item],
    n: int | None = None,
    *,
    frac: float | None = None,
    seed: int,
    stratify: str | None = None,
) -> Dataset:
    """A seeded random sample without replacement (all items, shuffled, when ``n`` and
    ``frac`` are both ``None``).

    Args:
        n: how many items; or ``frac``: the fraction of items (rounded to nearest).
        stratify: a metadata field; each stratum gets its proportional share (largest
            remainder rounding), so small strata are not lost to chance.

    Example:
        >>> from crucible.datasets import load
        >>> a = sample(load("mmlu"), 10, seed=1, stratify="subject")
        >>> a.ids == sample(load("mmlu"), 10, seed=1, stratify="subject").ids
        True
    """
    dataset = _as_dataset(data)
    seed = _check_seed(seed)
    items = _canonical(dataset)
    if n is not None and frac is not None:
        raise ValidationError("pass `n` or `frac`, not both")
    if frac is not None:
        if not 0 < frac <= 1:
            raise ValidationError(f"`frac` must be in (0, 1], got {frac}")
        n = round(frac * len(items))
    if n is None:
        n = len(items)
    if isinstance(n, bool) or not isinstance(n, int) or not 0 < n <= len(items):
        raise ValidationError(f"`n` must be an int in [1, {len(items)}], got {n!r}")
    rng = Seeds(seed).generator("sample")
    if stratify is None:
        chosen = rng.permutation(len(items))[:n]
        return dataset.with_items([items[int(i)] for i in chosen])
    groups = _strata(items, stratify)
    counts = _allocate([len(g) for g in groups.values()], n)
    picked: list[int] = []
    for (key, members), count in zip(groups.items(), counts, strict=True):
        stream = Seeds(seed).generator("sample", stratify, key)
        picked += [members[int(i)] for i in stream.permutation(len(members))[:count]]
    order = rng.permutation(len(picked))
    return dataset.with_items([items[picked[int(i)]] for i in order])


def train_test_split(
    data: Dataset | Sequence[Item],
    test_size: float | int = 0.2,
    *,
    seed: int,
    stratify: str | None = None,
) -> Split:
    """Split into train and test sets (``test_size``: a fraction in (0, 1) or a count).

    Example:
        >>> from crucible.datasets import load
        >>> train, test = train_test_split(load("gsm8k"), 0.25, seed=0)
        >>> len(train), len(test)
        (989, 330)
    """
    dataset = _as_dataset(data)
    total = len(dataset)
    if isinstance(test_size, float):
        if not 0 < test_size < 1:
            raise ValidationError(f"`test_size` as a fraction must be in (0, 1), got {test_size}")
        n_test = round(test_size * total)
    else:
        n_test = test_size
    if not 0 < n_test < total:
        raise ValidationError(
            f"`test_size` must leave both sets non-empty: got {n_test} test items of {total}"
        )
    test = sample(dataset, n_test, seed=seed, stratify=stratify)
    test_ids = set(test.ids)
    train = [item for item in _canonical(dataset) if item.id not in test_ids]
    rng = Seeds(_check_seed(seed)).generator("train_test_split", "train")
    return Split(dataset.with_items([train[int(i)] for i in rng.permutation(len(train))]), test)


def k_fold(
    data: Dataset | Sequence[Item], k: int = 5, *, seed: int, stratify: str | None = None
) -> list[Split]:
    """``k`` train/test splits whose test sets partition the data (sizes differ by ≤ 1; with
    ``stratify``, each stratum is dealt round-robin across folds).

    Example:
        >>> from crucible.datasets import load
        >>> folds = k_fold(load("humaneval"), 4, seed=0)
        >>> [len(f.test) for f in folds]
        [41, 41, 41, 41]
    """
    dataset = _as_dataset(data)
    seed = _check_seed(seed)
    if isinstance(k, bool) or not isinstance(k, int) or not 2 <= k <= len(dataset):
        raise ValidationError(f"`k` must be an int in [2, {len(dataset)}], got {k!r}")
    items = _canonical(dataset)
    rng = Seeds(seed).generator("k_fold")
    if stratify is None:
        order = [int(i) for i in rng.permutation(len(items))]
    else:
        order = []
        for key, members in _strata(items, stratify).items():
            stream = Seeds(seed).generator("k_fold", stratify, key)
            order += [members[int(i)] for i in stream.permutation(len(members))]
    fold_of = {index: position % k for position, index in enumerate(order)}
    splits = []
    for fold in range(k):
        test = [items[i] for i in order if fold_of[i] == fold]
        train = [items[i] for i in order if fold_of[i] != fold]
        splits.append(Split(dataset.with_items(train), dataset.with_items(test)))
    return splits


def bootstrap(
    data: Dataset | Sequence[Item],
    n_resamples: int = 1000,
    *,
    seed: int,
    cluster: str | None = None,
) -> np.ndarray:
    """Bootstrap resamples as an ``(n_resamples, n_items)`` array of item indices.

    Indices refer to ``data`` in its given order (``data.items[i]``). With ``cluster`` (a
    metadata field), whole clusters are resampled with replacement (Field & Welsh, 2007) and
    each row lists the items of the drawn clusters (rows then vary in length, so the array is
    an object array of index arrays).

    Example:
        >>> from crucible.datasets import load
        >>> idx = bootstrap(load("humaneval"), 200, seed=3)
        >>> idx.shape
        (200, 164)
    """
    dataset = _as_dataset(data)
    seed = _check_seed(seed)
    if isinstance(n_resamples, bool) or not isinstance(n_resamples, int) or n_resamples < 1:
        raise ValidationError(f"`n_resamples` must be a positive int, got {n_resamples!r}")
    position = {item.id: i for i, item in enumerate(dataset.items)}
    canonical = np.array([position[item.id] for item in _canonical(dataset)], dtype=np.int64)
    rng = Seeds(seed).generator("bootstrap", cluster or "")
    if cluster is None:
        draws = rng.integers(0, len(canonical), size=(n_resamples, len(canonical)))
        result: np.ndarray = canonical[draws]
        return result
    groups = [canonical[g] for g in _strata(_canonical(dataset), cluster).values()]
    picks = rng.integers(0, len(groups), size=(n_resamples, len(groups)))
    rows = np.empty(n_resamples, dtype=object)
    for r in range(n_resamples):
        rows[r] = np.concatenate([groups[int(g)] for g in picks[r]])
    return rows
