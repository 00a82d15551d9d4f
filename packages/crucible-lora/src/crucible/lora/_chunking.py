"""Splitting requests into chunks and reducing per-chunk metrics, as Tinker clients do.

A request is cut before a datum that would push the chunk over ``max_bytes`` (estimated as
4 bytes per input token plus the bytes of every loss input: 8 per target token, 4 per float)
or when the chunk already holds ``max_count`` data — Tinker's defaults are 1024 data and
5 000 000 bytes. Metrics come back named ``name:reduction`` and are folded across chunks by the
suffix: ``sum``, ``mean`` (weighted by the number of data per chunk), ``min``, ``max``,
``slack`` (max minus the weighted mean) and ``unique`` (every value kept, the second under
``key_1``, ...).
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from crucible.core import ValidationError
from crucible.lora._datum import Datum

__all__ = ["MAX_CHUNK_BYTES", "MAX_CHUNK_COUNT", "chunk_data", "datum_bytes", "reduce_metrics"]

MAX_CHUNK_COUNT = 1024
MAX_CHUNK_BYTES = 5_000_000
_REDUCTIONS = ("sum", "mean", "min", "max", "slack", "unique")


def datum_bytes(datum: Datum) -> int:
    """Estimated wire size of one datum (tokens as int32, targets as int64, floats as float32)."""
    size = 4 * datum.length
    for key, arr in datum.loss_fn_inputs.items():
        size += (8 if key == "target_tokens" else 4) * len(arr)
    return size


def chunk_data(
    data: Sequence[Datum], *, max_count: int = MAX_CHUNK_COUNT, max_bytes: int = MAX_CHUNK_BYTES
) -> list[list[Datum]]:
    """Split ``data`` into consecutive chunks within ``max_count`` data and ``max_bytes``.

    A single datum larger than ``max_bytes`` still gets a chunk of its own.

    Example:
        >>> d = Datum([1, 2, 3], {"target_tokens": [2, 3, 4], "weights": [1, 1, 1]})
        >>> [len(c) for c in chunk_data([d] * 5, max_count=2)]
        [2, 2, 1]
    """
    if max_count <= 0:
        raise ValidationError(f"`max_count` must be > 0, got {max_count}")
    if max_bytes <= 0:
        raise ValidationError(f"`max_bytes` must be > 0, got {max_bytes}")
    chunks: list[list[Datum]] = []
    current: list[Datum] = []
    current_bytes = 0
    for datum in data:
        size = datum_bytes(datum)
        if current and (current_bytes + size > max_bytes or len(current) == max_count):
            chunks.append(current)
            current, current_bytes = [], 0
        current.append(datum)
        current_bytes += size
    if current:
        chunks.append(current)
    return chunks


def reduce_metrics(
    metrics: Sequence[dict[str, float]], weights: Sequence[float] | None = None
) -> dict[str, float]:
    """Fold per-chunk metrics into one dict by each key's ``:reduction`` suffix.

    ``weights`` (the number of data per chunk) weight ``mean`` and ``slack``. Keys missing from
    any chunk are dropped, as are keys without a known suffix.

    Example:
        >>> reduce_metrics([{"loss:sum": 1.0, "acc:mean": 0.5}, {"loss:sum": 2.0, "acc:mean": 1.0}],
        ...                weights=[1, 3])
        {'loss:sum': 3.0, 'acc:mean': 0.875}
    """
    if not metrics:
        return {}
    w = np.ones(len(metrics)) if weights is None else np.asarray(weights, dtype=float)
    if len(w) != len(metrics):
        raise ValidationError(
            f"`weights` has {len(w)} entries but `metrics` has {len(metrics)}: give one per chunk"
        )
    out: dict[str, float] = {}
    for key in metrics[0]:
        _, sep, reduction = key.rpartition(":")
        if not sep or reduction not in _REDUCTIONS or not all(key in m for m in metrics):
            continue
        values = np.asarray([m[key] for m in metrics], dtype=float)
        if reduction == "sum":
            out[key] = float(values.sum())
        elif reduction == "mean":
            out[key] = float(np.average(values, weights=w))
        elif reduction == "min":
            out[key] = float(values.min())
        elif reduction == "max":
            out[key] = float(values.max())
        elif reduction == "slack":
            out[key] = float(values.max() - np.average(values, weights=w))
        else:
            out[key] = float(values[0])
            for i, v in enumerate(values[1:]):
                out[f"{key}_{i + 1}"] = float(v)
    return out
