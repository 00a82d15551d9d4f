"""Data checks: expectations over a polars DataFrame, evaluated as polars expressions.

Each expectation is a row-level failure predicate (``not_null``, ``in_set``, ``between``,
``regex``, ``length``, ``unique``, ``no_duplicate_ids``) or a table-level test
(``row_count``, ``mean_between``). :func:`check` computes every failure count in one
``select`` (polars runs the expressions in parallel; no Python loop over rows), then fetches a
few example rows for the expectations that failed only.

Nulls are not failures of value expectations (``in_set``, ``between``, ...): pair them with
``not_null`` when values are required. ``mostly`` (Great Expectations' name) lets a fraction
of rows fail.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from typing import Any

import attrs
import polars as pl

from crucible.core import ValidationError
from crucible.datasets._dataset import Dataset

__all__ = [
    "Expectation",
    "ExpectationResult",
    "ValidationReport",
    "between",
    "check",
    "in_set",
    "length",
    "mean_between",
    "no_duplicate_ids",
    "not_null",
    "regex",
    "row_count",
    "unique",
]

_EXAMPLES = 5


def _mostly(value: float) -> float:
    if not 0.0 <= value <= 1.0:
        raise ValidationError(f"`mostly` must be in [0, 1], got {value}")
    return float(value)


@attrs.frozen(slots=True)
class Expectation:
    """One expectation. Build them with :func:`not_null`, :func:`between`, ... .

    Attributes:
        name: the expectation's kind (``"not_null"``, ``"between"``, ...).
        column: the column it is about (``None`` for table-level expectations).
        params: its parameters, for reports.
        failing: a row-level predicate, true for failing rows (``None`` for table-level).
        statistic: a table-level aggregate expression (``None`` for row-level).
        mostly: the fraction of rows that must pass (row-level only).
    """

    name: str
    column: str | None
    params: dict[str, Any]
    failing: pl.Expr | None = None
    statistic: pl.Expr | None = None
    mostly: float = attrs.field(default=1.0, converter=_mostly)

    def describe(self) -> str:
        args = ", ".join(f"{k}={v!r}" for k, v in self.params.items())
        target = f"{self.column!r}" if self.column else "table"
        return f"{self.name}({target}{', ' + args if args else ''})"


def not_null(column: str, *, mostly: float = 1.0) -> Expectation:
    """Every value of ``column`` is present (not null, not NaN)."""
    col = pl.col(column)
    failing = col.is_null()
    return Expectation("not_null", column, {}, failing=failing, mostly=mostly)


def unique(column: str, *, mostly: float = 1.0) -> Expectation:
    """No value of ``column`` occurs twice (every copy of a duplicate fails)."""
    col = pl.col(column)
    return Expectation(
        "unique", column, {}, failing=col.is_duplicated() & col.is_not_null(), mostly=mostly
    )


def no_duplicate_ids(column: str = "id") -> Expectation:
    """Item ids are unique and present (an id column of a dataset)."""
    col = pl.col(column)
    return Expectation("no_duplicate_ids", column, {}, failing=col.is_duplicated() | col.is_null())


def in_set(column: str, values: Iterable[Any], *, mostly: float = 1.0) -> Expectation:
    """Every non-null value of ``column`` is one of ``values``."""
    allowed = list(values)
    if not allowed:
        raise ValidationError("`values` of in_set is empty: give the allowed values")
    col = pl.col(column)
    failing = col.is_not_null() & ~col.is_in(allowed)
    return Expectation("in_set", column, {"values": allowed}, failing=failing, mostly=mostly)


def between(
    column: str,
    min: float | None = None,
    max: float | None = None,
    *,
    inclusive: bool = True,
    mostly: float = 1.0,
) -> Expectation:
    """Every non-null value of ``column`` lies in [min, max] (open bounds with
    ``inclusive=False``; ``None`` leaves a side unbounded)."""
    if min is None and max is None:
        raise ValidationError("between needs `min`, `max` or both")
    col = pl.col(column)
    ok = pl.lit(True)
    if min is not None:
        ok = ok & (col >= min if inclusive else col > min)
    if max is not None:
        ok = ok & (col <= max if inclusive else col < max)
    failing = col.is_not_null() & ~ok.fill_null(False)
    params = {"min": min, "max": max, "inclusive": inclusive}
    return Expectation("between", column, params, failing=failing, mostly=mostly)


def regex(column: str, pattern: str, *, full: bool = True, mostly: float = 1.0) -> Expectation:
    """Every non-null value of ``column`` matches ``pattern`` (the whole value when ``full``).

    Patterns use the Rust regex syntax polars evaluates (no look-around or back-references).
    """
    try:
        re.compile(pattern)
    except re.error as exc:
        raise ValidationError(f"`pattern` {pattern!r} is not a valid regex: {exc}") from None
    anchored = f"^(?:{pattern})$" if full else pattern
    col = pl.col(column)
    failing = col.is_not_null() & ~col.cast(pl.String).str.contains(anchored)
    return Expectation(
        "regex", column, {"pattern": pattern, "full": full}, failing=failing, mostly=mostly
    )


def length(
    column: str,
    min: int | None = None,
    max: int | None = None,
    *,
    mostly: float = 1.0,
) -> Expectation:
    """Every non-null string of ``column`` has a length (in characters) in [min, max]."""
    if min is None and max is None:
        raise ValidationError("length needs `min`, `max` or both")
    col = pl.col(column)
    size = col.str.len_chars()
    ok = pl.lit(True)
    if min is not None:
        ok = ok & (size >= min)
    if max is not None:
        ok = ok & (size <= max)
    failing = col.is_not_null() & ~ok.fill_null(False)
    return Expectation("length", column, {"min": min, "max": max}, failing=failing, mostly=mostly)


def row_count(min: int | None = None, max: int | None = None) -> Expectation:
    """The table has between ``min`` and ``max`` rows."""
    if min is None and max is None:
        raise ValidationError("row_count needs `min`, `max` or both")
    return Expectation("row_count", None, {"min": min, "max": max}, statistic=pl.len())


def mean_between(column: str, min: float | None = None, max: float | None = None) -> Expectation:
    """The mean of the non-null values of ``column`` lies in [min, max]."""
    if min is None and max is None:
        raise ValidationError("mean_between needs `min`, `max` or both")
    return Expectation(
        "mean_between", column, {"min": min, "max": max}, statistic=pl.col(column).mean()
    )


@attrs.frozen(slots=True)
class ExpectationResult:
    """The outcome of one expectation.

    Attributes:
        expectation: its description (``"between('score', min=0, max=1, ...)"``).
        name, column: the kind and column, for filtering.
        passed: whether it holds.
        n_rows: rows in the table.
        n_failed: failing rows (row-level), or 1/0 for table-level expectations.
        observed: the observed statistic (table-level), else ``None``.
        examples: up to 5 failing rows as ``{"row": index, column: value}``.
        message: one readable line.
    """

    expectation: str
    name: str
    column: str | None
    passed: bool
    n_rows: int
    n_failed: int
    observed: Any
    examples: tuple[dict[str, Any], ...]
    message: str

    def to_dict(self) -> dict[str, Any]:
        return {
            "expectation": self.expectation,
            "name": self.name,
            "column": self.column,
            "passed": self.passed,
            "n_rows": self.n_rows,
            "n_failed": self.n_failed,
            "observed": self.observed,
            "examples": [dict(e) for e in self.examples],
            "message": self.message,
        }


@attrs.frozen(slots=True)
class ValidationReport:
    """All expectation results of one :func:`check`."""

    results: tuple[ExpectationResult, ...]
    n_rows: int

    @property
    def passed(self) -> bool:
        return all(r.passed for r in self.results)

    @property
    def failures(self) -> list[ExpectationResult]:
        return [r for r in self.results if not r.passed]

    def raise_for_failures(self) -> None:
        """Raise :class:`~crucible.core.ValidationError` listing every failed expectation."""
        if not self.passed:
            raise ValidationError(str(self))

    def to_dict(self) -> dict[str, Any]:
        return {
            "passed": self.passed,
            "n_rows": self.n_rows,
            "results": [r.to_dict() for r in self.results],
        }

    def to_polars(self) -> pl.DataFrame:
        return pl.DataFrame(
            [
                {
                    "expectation": r.expectation,
                    "column": r.column,
                    "passed": r.passed,
                    "n_failed": r.n_failed,
                    "message": r.message,
                }
                for r in self.results
            ],
            schema={
                "expectation": pl.String,
                "column": pl.String,
                "passed": pl.Boolean,
                "n_failed": pl.Int64,
                "message": pl.String,
            },
        )

    def __str__(self) -> str:
        head = (
            f"{len(self.results) - len(self.failures)}/{len(self.results)} expectations passed "
            f"over {self.n_rows} rows"
        )
        lines = [head] + [f"  FAILED {r.message}" for r in self.failures]
        return "\n".join(lines)


def check(data: pl.DataFrame | Dataset, expectations: Sequence[Expectation]) -> ValidationReport:
    """Evaluate ``expectations`` over ``data`` (a DataFrame, or a :class:`Dataset` via
    :meth:`Dataset.to_polars`).

    A missing column fails its expectation (with a message naming it) rather than raising.

    Example:
        >>> frame = pl.DataFrame({"id": ["a", "b", "b"], "score": [0.5, 1.5, 0.2]})
        >>> report = check(frame, [no_duplicate_ids("id"), between("score", 0, 1)])
        >>> [r.n_failed for r in report.results]
        [2, 1]
    """
    frame = data.to_polars() if isinstance(data, Dataset) else data
    if not isinstance(frame, pl.DataFrame):
        raise ValidationError(
            f"`data` must be a polars DataFrame or a Dataset, got {type(data).__name__}"
        )
    for index, exp in enumerate(expectations):
        if not isinstance(exp, Expectation):
            raise ValidationError(
                f"`expectations[{index}]` is a {type(exp).__name__}; build expectations with "
                "not_null(), between(), in_set(), ..."
            )
    n_rows = frame.height
    present = set(frame.columns)
    runnable = [
        (i, e) for i, e in enumerate(expectations) if e.column is None or e.column in present
    ]
    exprs = [
        (e.failing.sum() if e.failing is not None else e.statistic).alias(f"_{i}")  # type: ignore[union-attr]
        for i, e in runnable
    ]
    try:
        values = frame.select(exprs).row(0, named=True) if exprs else {}
    except pl.exceptions.PolarsError as exc:
        raise ValidationError(
            f"an expectation could not be evaluated (a column type that does not fit it, or "
            f"a regex polars cannot run): {exc}"
        ) from None
    results = []
    for index, exp in enumerate(expectations):
        desc = exp.describe()
        if exp.column is not None and exp.column not in present:
            results.append(
                ExpectationResult(
                    desc,
                    exp.name,
                    exp.column,
                    False,
                    n_rows,
                    n_rows,
                    None,
                    (),
                    f"{desc}: column {exp.column!r} not found; columns are {', '.join(frame.columns)}",
                )
            )
            continue
        value = values[f"_{index}"]
        if exp.failing is not None:
            failed = int(value or 0)
            allowed = int((1.0 - exp.mostly) * n_rows + 1e-9)
            passed = failed <= allowed
            examples: tuple[dict[str, Any], ...] = ()
            if failed:
                rows = (
                    frame.with_row_index("row")
                    .filter(exp.failing)
                    .select("row", exp.column)
                    .head(_EXAMPLES)
                    .to_dicts()
                )
                examples = tuple(rows)
            shown = ", ".join(f"row {e['row']}: {e[exp.column]!r}" for e in examples)  # type: ignore[index]
            message = (
                f"{desc}: {failed} of {n_rows} rows fail"
                + (f" (allowed {allowed})" if exp.mostly < 1 else "")
                + (f"; e.g. {shown}" if shown else "")
            )
            results.append(
                ExpectationResult(
                    desc, exp.name, exp.column, passed, n_rows, failed, None, examples, message
                )
            )
        else:
            low, high = exp.params.get("min"), exp.params.get("max")
            passed = (
                value is not None
                and (low is None or value >= low)
                and (high is None or value <= high)
            )
            message = f"{desc}: observed {value!r}"
            results.append(
                ExpectationResult(
                    desc, exp.name, exp.column, passed, n_rows, int(not passed), value, (), message
                )
            )
    return ValidationReport(tuple(results), n_rows)
