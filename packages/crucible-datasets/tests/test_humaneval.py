from __future__ import annotations

import math

import pytest
from hypothesis import given
from hypothesis import strategies as st

from crucible.core import ValidationError
from crucible.datasets import (
    ExecutionStatus,
    SandboxLimits,
    available_backends,
    evaluate_code,
    get_scorer,
    load,
    pass_at_k,
    program,
)


def _exact(n: int, c: int, k: int) -> float:
    # Chen et al. (2021), eq. 1: 1 - C(n - c, k) / C(n, k), exactly with integers.
    return 1.0 - math.comb(n - c, k) / math.comb(n, k)


def test_pass_at_k_reference_values() -> None:
    assert pass_at_k(10, 3, 1) == pytest.approx(0.3)
    assert pass_at_k(10, 0, 5) == 0.0
    assert pass_at_k(10, 10, 1) == 1.0
    assert pass_at_k(10, 6, 5) == 1.0  # n - c < k
    assert pass_at_k(5, 2, 2) == pytest.approx(_exact(5, 2, 2))  # = 0.7
    assert pass_at_k(5, 2, 2) == pytest.approx(0.7)
    assert pass_at_k(200, 10, 100) == pytest.approx(_exact(200, 10, 100), rel=1e-12)


def test_pass_at_k_is_stable_for_large_n() -> None:
    # math.comb handles these exactly; the product form must agree without overflow.
    value = pass_at_k(5000, 7, 1000)
    assert value == pytest.approx(_exact(5000, 7, 1000), rel=1e-10)
    assert 0.0 < value < 1.0


@given(n=st.integers(1, 60), data=st.data())
def test_pass_at_k_matches_exact_formula(n: int, data: st.DataObject) -> None:
    c = data.draw(st.integers(0, n))
    k = data.draw(st.integers(1, n))
    value = pass_at_k(n, c, k)
    assert 0.0 <= value <= 1.0
    assert value == pytest.approx(_exact(n, c, k), abs=1e-12)


@pytest.mark.parametrize(
    ("args", "message"),
    [
        ((0, 0, 1), "`n` .* must be >= 1"),
        ((5, 6, 1), r"`c` .* must be in \[0, n=5\]"),
        ((5, 2, 6), r"`k` must be in \[1, n=5\]"),
        ((5, 2, 0), r"`k` must be in \[1, n=5\]"),
        ((5.0, 2, 1), "`n` must be an int"),
    ],
)
def test_pass_at_k_errors(args: tuple[int, int, int], message: str) -> None:
    with pytest.raises(ValidationError, match=message):
        pass_at_k(*args)


def test_all_canonical_solutions_pass() -> None:
    problems = load("humaneval")
    evaluation = evaluate_code(problems, {it.id: [it.expected] for it in problems}, concurrency=2)
    failures = [(s.task_id, s.result.reason) for s in evaluation.samples if not s.passed]
    assert failures == []
    assert evaluation.pass_at_k == {1: 1.0}
    assert evaluation.n_problems == 164
    assert evaluation.backend == available_backends()[0].value
    print(f"sandbox backend: {evaluation.backend}")


def test_wrong_and_mixed_completions() -> None:
    problems = load("humaneval", limit=3)
    first, second, _ = problems.items
    completions = {
        first.id: [first.expected, "    return None\n", "    while True: pass\n", first.expected],
        second.id: ["    return []\n"] * 4,
    }
    evaluation = evaluate_code(
        problems, completions, k=(1, 2), limits=SandboxLimits(timeout_s=3, cpu_s=1)
    )
    # first: 2 of 4 correct; second: 0 of 4.
    assert evaluation.pass_at_k[1] == pytest.approx((0.5 + 0.0) / 2)
    assert evaluation.pass_at_k[2] == pytest.approx((pass_at_k(4, 2, 2) + 0.0) / 2)
    statuses = [s.result.status for s in evaluation.samples if s.task_id == first.id]
    assert statuses == [
        ExecutionStatus.PASSED,
        ExecutionStatus.FAILED,
        ExecutionStatus.TIMEOUT,
        ExecutionStatus.PASSED,
    ]
    table = evaluation.per_problem()
    assert table["correct"].to_list() == [2, 0]
    assert table["pass@2"].to_list() == pytest.approx([pass_at_k(4, 2, 2), 0.0])
    assert "pass@1 = 0.2500" in str(evaluation)


def test_escape_in_completion_is_a_failed_sample() -> None:
    problems = load("humaneval", limit=1)
    item = problems[0]
    evil = "    import socket\n    socket.socket()\n    return True\n"
    evaluation = evaluate_code(problems, {item.id: [evil]})
    sample = evaluation.samples[0]
    assert not sample.passed
    assert sample.result.status is ExecutionStatus.VIOLATION
    assert evaluation.pass_at_k == {1: 0.0}


def test_code_execution_scorer() -> None:
    problems = load("humaneval", limit=2)
    scorer = get_scorer("code_execution")
    scores = scorer.score_batch([it.expected for it in problems], list(problems))
    assert [s.value for s in scores] == [1.0, 1.0]
    assert scores[0].details["backend"] == available_backends()[0].value
    assert scorer("    return 0\n", problems[0]).details["status"] == "failed"


def test_evaluate_code_errors() -> None:
    problems = load("humaneval", limit=2)
    with pytest.raises(ValidationError, match="unknown task ids: HumanEval/99"):
        evaluate_code(problems, {"HumanEval/99": ["x"]})
    with pytest.raises(ValidationError, match="need at least that many samples"):
        evaluate_code(problems, {problems[0].id: ["x"]}, k=(2,))
    with pytest.raises(ValidationError, match="lacks metadata test, entry_point"):
        program(load("gsm8k", limit=1)[0], "x")
