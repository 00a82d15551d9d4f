"""Validation at the edge: every public function turns its inputs into trusted arrays here."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from enum import StrEnum
from typing import TypeVar

import numpy as np
import numpy.typing as npt

from crucible.bench._errors import BenchInputError, DegenerateDataError

E = TypeVar("E", bound=StrEnum)


class NanPolicy(StrEnum):
    """What to do with NaN in the input."""

    RAISE = "raise"
    OMIT = "omit"


class Alternative(StrEnum):
    """The alternative hypothesis of a test."""

    TWO_SIDED = "two-sided"
    LESS = "less"
    GREATER = "greater"


def as_enum(value: str | E, enum: type[E], name: str) -> E:
    """Return ``value`` as a member of ``enum``; unknown names list the valid ones."""
    try:
        return enum(value)
    except ValueError:
        valid = ", ".join(repr(m.value) for m in enum)
        raise BenchInputError(f"`{name}` must be one of {valid}; got {value!r}") from None


def check_alpha(alpha: float, name: str = "alpha") -> float:
    """Check a probability strictly inside (0, 1)."""
    try:
        value = float(alpha)
    except (TypeError, ValueError):
        raise BenchInputError(f"`{name}` must be a number in (0, 1), got {alpha!r}") from None
    if not 0.0 < value < 1.0:
        raise BenchInputError(f"`{name}` must be in (0, 1), got {alpha!r}")
    return value


def check_positive_int(value: int, name: str, minimum: int = 1) -> int:
    """Check an integer ``>= minimum``."""
    if isinstance(value, bool) or not isinstance(value, int | np.integer) or value < minimum:
        raise BenchInputError(f"`{name}` must be an integer >= {minimum}, got {value!r}")
    return int(value)


def as_array(
    x: npt.ArrayLike,
    name: str,
    *,
    nan_policy: str = "raise",
    min_n: int = 1,
    ndim: int = 1,
) -> np.ndarray:
    """Convert ``x`` to a finite float array of ``ndim`` dimensions with at least ``min_n`` rows.

    NaN is an error unless ``nan_policy="omit"`` (1-D only: NaN entries are dropped).
    Infinite values are always an error.
    """
    policy = as_enum(nan_policy, NanPolicy, "nan_policy")
    try:
        arr = np.asarray(x, dtype=np.float64)
    except (TypeError, ValueError):
        raise BenchInputError(f"`{name}` must be numeric, got {type(x).__name__}") from None
    if arr.ndim == 0 and ndim == 1:
        raise BenchInputError(f"`{name}` must be a 1-D sequence of numbers, got a scalar")
    if arr.ndim != ndim:
        raise BenchInputError(f"`{name}` must be {ndim}-D, got an array of shape {arr.shape}")
    nan = np.isnan(arr)
    if nan.any():
        if policy is NanPolicy.RAISE:
            raise BenchInputError(
                f"`{name}` contains {int(nan.sum())} NaN value(s); remove them or pass "
                "nan_policy='omit'"
            )
        if ndim != 1:
            raise BenchInputError(f"`{name}`: nan_policy='omit' applies to 1-D input only")
        arr = arr[~nan]
    if np.isinf(arr).any():
        raise BenchInputError(f"`{name}` contains infinite values; pass finite numbers")
    if arr.shape[0] < min_n:
        what = "is empty" if arr.shape[0] == 0 else f"has {arr.shape[0]} observation(s)"
        raise BenchInputError(f"`{name}` {what}; at least {min_n} are needed")
    return arr


def as_pair(
    a: npt.ArrayLike,
    b: npt.ArrayLike,
    *,
    names: tuple[str, str] = ("a", "b"),
    nan_policy: str = "raise",
    min_n: int = 2,
) -> tuple[np.ndarray, np.ndarray]:
    """Convert paired samples; NaN in either member drops the pair under ``nan_policy="omit"``."""
    policy = as_enum(nan_policy, NanPolicy, "nan_policy")
    x = as_array(a, names[0], nan_policy="omit", min_n=0)
    y = as_array(b, names[1], nan_policy="omit", min_n=0)
    x = np.asarray(a, dtype=np.float64)
    y = np.asarray(b, dtype=np.float64)
    if x.shape != y.shape:
        raise BenchInputError(
            f"paired samples `{names[0]}` and `{names[1]}` must have equal length, got "
            f"{x.shape[0]} and {y.shape[0]}"
        )
    bad = np.isnan(x) | np.isnan(y)
    if bad.any():
        if policy is NanPolicy.RAISE:
            raise BenchInputError(
                f"`{names[0]}`/`{names[1]}` contain NaN in {int(bad.sum())} pair(s); remove them "
                "or pass nan_policy='omit'"
            )
        x, y = x[~bad], y[~bad]
    if x.shape[0] < min_n:
        raise BenchInputError(
            f"paired samples `{names[0]}`/`{names[1]}` have {x.shape[0]} complete pair(s); "
            f"at least {min_n} are needed"
        )
    return x, y


def require_variation(x: np.ndarray, name: str) -> None:
    """Raise when a sample is constant (its spread, hence any test statistic, is undefined)."""
    if x.size and np.ptp(x) == 0.0:
        raise DegenerateDataError(
            f"`{name}` is constant (every value is {x[0]:g}); the statistic is undefined "
            "without variation"
        )


def as_groups(
    groups: Sequence[npt.ArrayLike] | Mapping[str, npt.ArrayLike],
) -> tuple[list[str], list[npt.ArrayLike]]:
    """Split ``groups`` into names and raw samples (a mapping keeps its keys)."""
    if isinstance(groups, Mapping):
        names = [str(k) for k in groups]
        values = list(groups.values())
    else:
        values = list(groups)
        names = [f"group{i + 1}" for i in range(len(values))]
    if len(values) < 2:
        raise BenchInputError(f"`groups` must hold at least 2 samples, got {len(values)}")
    return names, values


def as_counts(x: npt.ArrayLike, name: str) -> np.ndarray:
    """Convert a table of non-negative integer counts."""
    arr = np.asarray(x, dtype=np.float64)
    if arr.size == 0:
        raise BenchInputError(f"`{name}` is empty; pass a table of counts")
    if not np.isfinite(arr).all():
        raise BenchInputError(f"`{name}` must hold finite counts")
    if (arr < 0).any():
        raise BenchInputError(f"`{name}` holds negative counts; counts must be >= 0")
    if not np.array_equal(arr, np.round(arr)):
        raise BenchInputError(f"`{name}` must hold whole-number counts")
    return arr
