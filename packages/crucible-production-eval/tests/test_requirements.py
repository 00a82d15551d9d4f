"""Requirement strings parse into data; bad ones say where they fail."""

from __future__ import annotations

import pytest

from crucible.production_eval import BoundKind, RequirementError, parse_requirement


@pytest.mark.parametrize(
    ("text", "metric", "op", "kind", "value"),
    [
        ("accuracy >= baseline - 0.01", "accuracy", ">=", BoundKind.DIFFERENCE, -0.01),
        ("accuracy > baseline", "accuracy", ">=", BoundKind.DIFFERENCE, 0.0),
        ("accuracy >= baseline + 0.02", "accuracy", ">=", BoundKind.DIFFERENCE, 0.02),
        ("latency_p95 <= 1.1 * baseline", "latency_p95", "<=", BoundKind.RATIO, 1.1),
        ("cost_per_query <= baseline * 1.2", "cost_per_query", "<=", BoundKind.RATIO, 1.2),
        ("error_rate <= 0.01", "error_rate", "<=", BoundKind.ABSOLUTE, 0.01),
        ("latency_p99<2e3", "latency_p99", "<=", BoundKind.ABSOLUTE, 2000.0),
    ],
)
def test_parse(text: str, metric: str, op: str, kind: BoundKind, value: float) -> None:
    req = parse_requirement(text)
    assert (req.metric, req.op, req.kind, req.value) == (metric, op, kind, pytest.approx(value))


def test_mapping_form() -> None:
    req = parse_requirement(
        {"metric": "accuracy", "op": ">=", "kind": "difference", "value": -0.01}
    )
    assert req.kind is BoundKind.DIFFERENCE and req.value == -0.01


@pytest.mark.parametrize(
    ("spec", "match"),
    [
        ("accuracy is good", r"requirements\[2\] 'accuracy is good' does not parse"),
        ("acuracy >= baseline", r"requirements\[2\].*unknown metric 'acuracy'"),
        ("accuracy >= baseline minus 0.01", r"the bound 'baseline minus 0.01' does not parse"),
        ("accuracy == baseline", r"'==' cannot be tested"),
        ("latency_p95 <= -1 * baseline", r"factor must be > 0"),
        ({"metric": "accuracy"}, r"requirements\[2\] must have metric, op"),
        (42, r"requirements\[2\] must be a string or a mapping"),
    ],
)
def test_bad_requirements_say_where(spec: object, match: str) -> None:
    with pytest.raises(RequirementError, match=match):
        parse_requirement(spec, 2)  # type: ignore[arg-type]
