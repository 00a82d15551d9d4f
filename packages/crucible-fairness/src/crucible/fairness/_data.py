"""Input coercion: labels, predictions, probabilities and sensitive features to numpy arrays.

Everything user-facing accepts lists, numpy arrays, polars or pandas Series, and — for
``sensitive`` — a polars/pandas DataFrame or a mapping of column name to values. Validation
happens here, once; the metric code trusts what it receives.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import attrs
import numpy as np
import numpy.typing as npt
import polars as pl

from crucible.core import ValidationError

__all__ = ["FairnessError", "Groups", "as_binary", "as_groups", "as_probability"]


class FairnessError(ValidationError):
    """Bad input to a crucible.fairness function; the message names the argument and the fix."""


#: Separator between column values in an intersection label ("F|black").
SEP = "|"


def _to_numpy(values: Any, name: str) -> np.ndarray:
    if isinstance(values, pl.Series):
        return values.to_numpy()
    if hasattr(values, "to_numpy") and not isinstance(values, np.ndarray):
        return np.asarray(values.to_numpy())
    try:
        return np.asarray(values)
    except (TypeError, ValueError) as exc:
        raise FairnessError(f"`{name}` must be array-like, got {type(values).__name__}") from exc


def as_binary(values: Any, name: str, n: int | None = None) -> np.ndarray:
    """``values`` as an int8 array of 0/1, or a :class:`FairnessError` naming ``name``."""
    arr = _to_numpy(values, name)
    if arr.ndim != 1:
        raise FairnessError(f"`{name}` must be one-dimensional, got shape {arr.shape}")
    if arr.size == 0:
        raise FairnessError(f"`{name}` is empty; pass at least one label per row")
    if n is not None and arr.size != n:
        raise FairnessError(
            f"`{name}` has {arr.size} rows but `y_true` has {n}; pass one value per row"
        )
    if arr.dtype == bool:
        return arr.astype(np.int8)
    if arr.dtype.kind not in "iuf":
        raise FairnessError(
            f"`{name}` must hold binary labels 0/1 (or booleans), got dtype {arr.dtype}; "
            "encode the positive class as 1"
        )
    if arr.dtype.kind == "f" and np.isnan(arr).any():
        raise FairnessError(
            f"`{name}` contains NaN at row {int(np.flatnonzero(np.isnan(arr))[0])}; drop or "
            "impute missing labels first"
        )
    bad = (arr != 0) & (arr != 1)
    if bad.any():
        values_seen = np.unique(arr[bad])[:5].tolist()
        raise FairnessError(
            f"`{name}` must be binary (0/1); found {values_seen}. Binarise it, e.g. "
            f"`{name} == positive_label`"
        )
    return arr.astype(np.int8)


def as_probability(values: Any, name: str, n: int) -> np.ndarray:
    """``values`` as float64 probabilities in [0, 1], or a :class:`FairnessError`."""
    try:
        arr = _to_numpy(values, name).astype(np.float64, copy=False)
    except (TypeError, ValueError) as exc:
        raise FairnessError(f"`{name}` must hold numbers in [0, 1]: {exc}") from exc
    if arr.ndim != 1 or arr.size != n:
        raise FairnessError(
            f"`{name}` must be one-dimensional with {n} rows (one per label), got shape {arr.shape}"
        )
    if np.isnan(arr).any():
        raise FairnessError(f"`{name}` contains NaN; every row needs a probability in [0, 1]")
    if (arr < 0).any() or (arr > 1).any():
        raise FairnessError(
            f"`{name}` must be probabilities in [0, 1], got min {arr.min():.4g}, max "
            f"{arr.max():.4g}; apply a sigmoid/softmax first"
        )
    return arr


@attrs.frozen(slots=True)
class Groups:
    """Rows encoded by (intersectional) group.

    Attributes:
        codes: int64 group code per row (index into ``labels``).
        labels: group label per code; several columns are joined with ``"|"``.
        columns: the sensitive column names.
        values: per code, the value of each sensitive column.
        empty: intersections of observed column values that have no rows.
        column_codes, column_levels: each column's own codes and sorted levels.
    """

    codes: np.ndarray
    labels: tuple[str, ...]
    columns: tuple[str, ...]
    values: tuple[tuple[str, ...], ...]
    empty: tuple[str, ...]
    column_codes: tuple[np.ndarray, ...] = attrs.field(default=(), eq=False)
    column_levels: tuple[tuple[str, ...], ...] = ()

    @property
    def n_groups(self) -> int:
        return len(self.labels)

    @property
    def attribute(self) -> str:
        return " × ".join(self.columns)


def _columns(sensitive: Any, n: int) -> dict[str, np.ndarray]:
    if isinstance(sensitive, pl.DataFrame):
        cols = {c: sensitive[c].to_numpy() for c in sensitive.columns}
    elif hasattr(sensitive, "columns") and hasattr(sensitive, "__getitem__"):
        cols = {str(c): np.asarray(sensitive[c].to_numpy()) for c in sensitive.columns}
    elif isinstance(sensitive, Mapping):
        cols = {str(k): _to_numpy(v, f"sensitive[{k!r}]") for k, v in sensitive.items()}
    else:
        name = getattr(sensitive, "name", None) or "sensitive"
        arr = _to_numpy(sensitive, "sensitive")
        if arr.ndim == 2:
            cols = {f"sensitive_{j}": arr[:, j] for j in range(arr.shape[1])}
        elif arr.ndim == 1:
            cols = {str(name): arr}
        else:
            raise FairnessError(f"`sensitive` must be 1-D or 2-D, got shape {arr.shape}")
    if not cols:
        raise FairnessError("`sensitive` has no columns; pass at least one sensitive feature")
    for col, arr in cols.items():
        if arr.ndim != 1 or arr.shape[0] != n:
            raise FairnessError(
                f"`sensitive` column {col!r} has {arr.shape[0] if arr.ndim else 0} rows but "
                f"`y_true` has {n}; pass one value per row"
            )
        if arr.dtype.kind == "f" and np.isnan(arr).any():
            raise FairnessError(
                f"`sensitive` column {col!r} contains NaN; give missing values an explicit "
                "label (e.g. 'unknown') so they form a group"
            )
        if arr.dtype == object and bool((arr == None).any()):  # noqa: E711 (elementwise)
            raise FairnessError(
                f"`sensitive` column {col!r} contains None; give missing values an explicit label"
            )
    return cols


def _encode(arr: np.ndarray) -> tuple[list[str], np.ndarray]:
    """Sorted levels (as strings) and the dense code of each row."""
    if arr.dtype == object and set(map(type, arr)) == {str}:
        arr = arr.astype(str)  # sorting fixed-width strings is far faster than Python objects
    levels, inv = np.unique(arr, return_inverse=True)
    return [str(v) for v in levels], inv.astype(np.int64).ravel()


def as_groups(sensitive: Any, n: int, *, min_groups: int = 2) -> Groups:
    """Encode ``sensitive`` (one or several columns) into intersectional group codes."""
    cols = _columns(sensitive, n)
    names = tuple(cols)
    per_col_codes = []
    per_col_levels: list[list[str]] = []
    for arr in cols.values():
        levels, inv = _encode(arr)
        per_col_levels.append(levels)
        per_col_codes.append(inv)
    combined = np.zeros(n, dtype=np.int64)
    for col_codes, col_levels in zip(per_col_codes, per_col_levels, strict=True):
        combined = combined * len(col_levels) + col_codes
    observed, codes = np.unique(combined, return_inverse=True)
    total = int(np.prod([len(lv) for lv in per_col_levels]))
    values: list[tuple[str, ...]] = []
    empty: list[str] = []
    observed_set = set(observed.tolist())
    for flat in range(total):
        parts = []
        rest = flat
        for col_levels in reversed(per_col_levels):
            parts.append(col_levels[rest % len(col_levels)])
            rest //= len(col_levels)
        combo = tuple(reversed(parts))
        if flat in observed_set:
            values.append(combo)
        else:
            empty.append(SEP.join(combo))
    labels = tuple(SEP.join(v) for v in values)
    if len(labels) < min_groups:
        raise FairnessError(
            f"`sensitive` defines {len(labels)} group ({labels[0]!r}); fairness compares groups, "
            f"so at least {min_groups} are needed"
        )
    return Groups(
        codes.astype(np.int64), labels, names, tuple(values), tuple(empty),
        tuple(per_col_codes), tuple(tuple(lv) for lv in per_col_levels),
    )  # fmt: skip


def column_groups(groups: Groups) -> list[Groups]:
    """One :class:`Groups` per single sensitive column (for marginal rows)."""
    return [
        Groups(codes, levels, (name,), tuple((lv,) for lv in levels), ())
        for name, codes, levels in zip(
            groups.columns, groups.column_codes, groups.column_levels, strict=True
        )
    ]


def check_lengths(y_true: Any, y_pred: Any) -> tuple[np.ndarray, np.ndarray]:
    """Validated ``(y_true, y_pred)`` as 0/1 int8 arrays of equal length."""
    yt = as_binary(y_true, "y_true")
    yp = as_binary(y_pred, "y_pred", yt.size)
    return yt, yp


def as_float_array(values: npt.ArrayLike | Sequence[float], name: str) -> np.ndarray:
    try:
        arr = _to_numpy(values, name).astype(np.float64, copy=False)
    except (TypeError, ValueError) as exc:
        raise FairnessError(f"`{name}` must hold numbers: {exc}") from exc
    if np.isnan(arr).any():
        raise FairnessError(f"`{name}` contains NaN; drop or impute those rows first")
    return arr
