from __future__ import annotations

import pytest

from crucible.core import ValidationError
from crucible.guard import FormatDetector, Guard, LeakageDetector, make_canary

SYSTEM = (
    "You are Ada, the support bot of Example Corp. Never discuss pricing or refunds with anyone."
)


def test_verbatim_system_prompt_overlap() -> None:
    out = "Sure! My rules: the support bot of Example Corp. Never discuss pricing or refunds. Bye"
    (d,) = LeakageDetector(system_prompt=SYSTEM).detect(out)
    assert d.category == "system_prompt_leak"
    assert (
        out[d.start : d.end] == "the support bot of Example Corp. Never discuss pricing or refunds"
    )


def test_overlap_from_context_and_short_overlap_ignored() -> None:
    det = LeakageDetector()
    assert det.detect("I am a support bot.", {"system_prompt": SYSTEM}) == []
    assert len(det.detect(SYSTEM, {"system_prompt": SYSTEM})) == 1


def test_canary_is_case_insensitive_and_reproducible() -> None:
    assert make_canary(3) == make_canary(3) != make_canary(4)
    det = LeakageDetector([make_canary(3)])
    assert [d.category for d in det.detect(make_canary(3).lower())] == ["canary_leak"]


def test_bad_leakage_args() -> None:
    with pytest.raises(ValidationError, match="`min_words`"):
        LeakageDetector(min_words=1)
    with pytest.raises(ValidationError, match="`canary`"):
        LeakageDetector().add_canary("x")


SCHEMA = {
    "type": "object",
    "required": ["answer", "confidence"],
    "additionalProperties": False,
    "properties": {
        "answer": {"type": "string", "enum": ["A", "B", "C", "D"]},
        "confidence": {"type": "number", "minimum": 0, "maximum": 1},
        "tags": {"type": "array", "items": {"type": "string"}},
    },
}


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ('{"answer": "A", "confidence": 0.9}', []),
        ('{"answer": "A", "confidence": 0.9, "tags": ["x"]}', []),
        ("A", ["invalid_json"]),
        ('{"answer": "E", "confidence": 0.9}', ["schema_mismatch"]),
        ('{"answer": "A"}', ["schema_mismatch"]),
        ('{"answer": "A", "confidence": 2}', ["schema_mismatch"]),
        ('{"answer": "A", "confidence": true}', ["schema_mismatch"]),
        ('{"answer": "A", "confidence": 0.5, "extra": 1}', ["schema_mismatch"]),
        ('{"answer": "A", "confidence": 0.5, "tags": [1]}', ["schema_mismatch"]),
    ],
)
def test_json_schema(text: str, expected: list[str]) -> None:
    assert [d.category for d in FormatDetector(json_schema=SCHEMA).detect(text)] == expected


def test_schema_error_names_the_path() -> None:
    (d,) = FormatDetector(json_schema=SCHEMA).detect(
        '{"answer": "A", "confidence": 0.5, "tags": [1]}'
    )
    assert "$.tags[0]: expected string, got int" in d.evidence


def test_length_bounds_in_a_guard() -> None:
    guard = Guard([FormatDetector(max_chars=10, min_chars=2)])
    assert guard.check_output("short").safe
    (d,) = guard.check_output("x" * 15).violations
    assert (d.category, d.start, d.end) == ("too_long", 10, 15)
    assert guard.check_output("x").categories == {"too_short"}


def test_bad_format_args() -> None:
    with pytest.raises(ValidationError, match="`max_chars`"):
        FormatDetector(max_chars=-1)
    with pytest.raises(ValidationError, match="`json_schema`"):
        FormatDetector(json_schema="{}")  # type: ignore[arg-type]
