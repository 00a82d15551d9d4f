from __future__ import annotations

import polars as pl
import pytest

from crucible.core import ValidationError
from crucible.datasets import (
    between,
    check,
    in_set,
    length,
    load,
    mean_between,
    no_duplicate_ids,
    not_null,
    regex,
    row_count,
    unique,
)

FRAME = pl.DataFrame(
    {
        "id": ["a", "b", "b", "d", None],
        "answer": ["A", "B", "E", None, "C"],
        "score": [0.1, 0.9, 1.5, -0.2, 0.5],
        "text": ["ok", "fine", "", "toolongvalue", "mid"],
    }
)


def by_name(report: object) -> dict[str, object]:
    return {r.expectation: r for r in report.results}  # type: ignore[attr-defined]


def test_each_expectation_counts_failures() -> None:
    report = check(
        FRAME,
        [
            not_null("answer"),
            unique("id"),
            no_duplicate_ids("id"),
            in_set("answer", ["A", "B", "C", "D"]),
            between("score", 0, 1),
            regex("id", r"[a-z]"),
            length("text", 1, 5),
            row_count(min=1, max=10),
            mean_between("score", 0, 1),
        ],
    )
    failed = {r.name: r.n_failed for r in report.results}
    assert failed == {
        "not_null": 1,  # row 3
        "unique": 2,  # both copies of "b"
        "no_duplicate_ids": 3,  # both "b" and the null id
        "in_set": 1,  # "E" (the null is not_null's business)
        "between": 2,  # 1.5 and -0.2
        "regex": 0,
        "length": 2,  # "" and "toolongvalue"
        "row_count": 0,
        "mean_between": 0,  # mean 0.56
    }
    assert not report.passed
    assert [r.name for r in report.failures] == [
        "not_null",
        "unique",
        "no_duplicate_ids",
        "in_set",
        "between",
        "length",
    ]


def test_failure_names_column_expectation_and_rows() -> None:
    report = check(FRAME, [between("score", 0, 1)])
    (result,) = report.results
    assert result.column == "score"
    assert result.examples == ({"row": 2, "score": 1.5}, {"row": 3, "score": -0.2})
    assert result.message == (
        "between('score', min=0, max=1, inclusive=True): 2 of 5 rows fail; "
        "e.g. row 2: 1.5, row 3: -0.2"
    )
    with pytest.raises(
        ValidationError, match=r"0/1 expectations passed over 5 rows\n  FAILED between\('score'"
    ):
        report.raise_for_failures()


def test_table_level_expectations() -> None:
    report = check(FRAME, [row_count(min=10), mean_between("score", 0.6, 1.0)])
    assert [r.passed for r in report.results] == [False, False]
    assert report.results[0].observed == 5
    assert report.results[1].observed == pytest.approx(0.56)


def test_mostly_allows_a_fraction() -> None:
    assert check(FRAME, [between("score", 0, 1, mostly=0.6)]).passed
    assert not check(FRAME, [between("score", 0, 1, mostly=0.61)]).passed
    assert check(FRAME, [between("score", 0, 1.5, inclusive=True)]).results[0].n_failed == 1
    assert check(FRAME, [between("score", 0, 1.5, inclusive=False)]).results[0].n_failed == 2


def test_missing_column_fails_with_its_name() -> None:
    report = check(FRAME, [not_null("label")])
    assert not report.passed
    assert (
        "column 'label' not found; columns are id, answer, score, text" in report.results[0].message
    )


def test_bad_expectations() -> None:
    with pytest.raises(ValidationError, match="between needs `min`, `max` or both"):
        between("x")
    with pytest.raises(ValidationError, match="is not a valid regex"):
        regex("x", "(")
    with pytest.raises(ValidationError, match=r"`mostly` must be in \[0, 1\]"):
        not_null("x", mostly=2)
    with pytest.raises(ValidationError, match=r"`expectations\[0\]` is a str"):
        check(FRAME, ["not_null"])  # type: ignore[list-item]
    with pytest.raises(ValidationError, match="could not be evaluated"):
        check(FRAME, [between("text", 0, 1)])


def test_bundled_datasets_pass_their_checks() -> None:
    mmlu = load("mmlu")
    report = check(
        mmlu,
        [
            no_duplicate_ids(),
            in_set("expected", ["A", "B", "C", "D"]),
            not_null("input"),
            length("input", min=1),
            row_count(min=1036, max=1036),
        ],
    )
    assert report.passed, str(report)
    assert report.to_polars().height == 5
    gsm = check(load("gsm8k"), [regex("expected", r"-?\d+(\.\d+)?")])
    assert gsm.passed, str(gsm)
