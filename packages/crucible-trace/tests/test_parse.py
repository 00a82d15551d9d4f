"""Parsing a corpus of messy, real-looking model outputs (tests/corpus/)."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest

from crucible.trace import (
    EventType,
    EventValidationError,
    TraceParseError,
    extract_code,
    instrument_prompt,
    parse,
)

CORPUS = Path(__file__).parent / "corpus"


def corpus(name: str) -> str:
    return (CORPUS / name).read_text(encoding="utf-8")


def test_clean_output() -> None:
    result = parse(corpus("clean.txt"))
    assert result.ok
    first, second = result.events
    assert first.type == EventType.HYPOTHESIS_FORMED
    assert first.decision == "Use a hash map from value to index"
    assert first.alternatives == ("Nested loops over all pairs", "Sort, then two pointers")
    assert first.confidence == 0.8
    assert first.code_section == "two_sum"
    assert first.spec_reference == 'Problem statement, "return indices"'
    assert second.type == "constraint_evaluated"
    assert second.confidence == 0.95
    code = extract_code(corpus("clean.txt"))
    assert "<event" not in code and "</event>" not in code
    assert code.startswith("I'll solve this in two steps.")
    assert "def two_sum(nums, target):" in code
    assert "\n\n\n" not in code


def test_unclosed_event_ends_after_its_last_child_and_keeps_the_code() -> None:
    result = parse(corpus("unclosed_event.txt"))
    (event,) = result.events
    assert event.decision == "Memoise the recursive calls"
    assert event.reasoning.startswith("Overlapping subproblems")
    assert [(p.message, p.recovered, p.line) for p in result.problems] == [
        ("missing </event>", True, 1)
    ]
    code = extract_code(corpus("unclosed_event.txt"))
    assert code.startswith("from functools import cache")
    assert "return n if n < 2" in code


def test_opening_tag_without_closing_bracket() -> None:
    result = parse(corpus("missing_gt.txt"))
    (event,) = result.events
    assert event.type == "ambiguity_flagged"
    assert event.decision == "Treat an empty input as zero"
    assert [p.message for p in result.problems] == ["opening <event> tag not closed by '>'"]
    assert extract_code(corpus("missing_gt.txt")) == "def total(xs): return sum(xs)"


def test_entities_decoded_and_cdata_verbatim() -> None:
    result = parse(corpus("entities_cdata.txt"))
    assert result.ok
    (event,) = result.events
    assert event.decision == "Check 0 <= i < len(xs) && xs is sorted"
    assert event.reasoning == (
        'The guard `if lo < hi and xs[lo] <= x:` must hold; note that "</event>" and '
        "<decision> inside CDATA are plain text."
    )
    assert event.alternatives == ("while lo <= hi:", "recursion \u2014 deeper stack")


def test_confidence_recovered_or_reported() -> None:
    result = parse(corpus("confidence_variants.txt"))
    assert [e.confidence for e in result.events] == [0.85, 0.9, None, None]
    by_event = {(p.event, p.recovered): p.message for p in result.problems}
    assert by_event[(0, True)] == "confidence '85%' read as 0.85"
    assert by_event[(1, True)] == "confidence '90' read as a percentage, 0.9"
    assert "confidence '1.7' is outside [0, 1]" in by_event[(2, True)]
    assert "confidence 'high' is not a number" in by_event[(3, True)]
    assert [p.line for p in result.problems] == [1, 2, 3, 4]


def test_event_without_decision_tag() -> None:
    result = parse(corpus("no_decision_tag.txt"))
    (event,) = result.events
    assert event.decision.startswith("The spec does not say whether names are case-sensitive")
    messages = [(p.event, p.message, p.recovered) for p in result.problems]
    assert (0, "no <decision> tag; the event's text was used as the decision", True) in messages
    assert (
        1,
        "no <decision>; say what was decided inside <decision>...</decision>",
        False,
    ) in messages
    assert extract_code(corpus("no_decision_tag.txt")) == "Here is my reasoning.\n\nAnswer: 42"


def test_unknown_type_kept_unless_strict_and_missing_type_dropped() -> None:
    lenient = parse(corpus("unknown_and_missing_type.txt"))
    assert [e.type for e in lenient.events] == ["design_choice", "pattern_applied"]
    assert lenient.events[1].decision == "Early return"
    assert [(p.event, p.recovered) for p in lenient.problems] == [(1, False)]
    assert "no event type" in lenient.problems[0].message
    strict = parse(corpus("unknown_and_missing_type.txt"), strict=True)
    assert [e.type for e in strict.events] == ["pattern_applied"]
    assert "'design_choice' is not a core type" in strict.problems[0].message
    with pytest.raises(TraceParseError, match="2 problem") as info:
        strict.raise_on_problems()
    assert len(info.value.problems) == 2


def test_bullet_alternatives_and_unclosed_child() -> None:
    result = parse(corpus("bullets_and_unclosed_child.txt"))
    (event,) = result.events
    assert event.alternatives == (
        "recursive DFS (stack depth on deep trees)",
        "union-find",
        "brute force",
    )
    assert event.reasoning == "Recursion limit is 1000 in CPython and trees can be deep."
    assert event.confidence == 0.6
    assert [p.message for p in result.problems] == ["unclosed <reasoning> tag"]
    assert extract_code(corpus("bullets_and_unclosed_child.txt")) == "def bfs(root): ..."


def test_explicit_ids_time_metadata_and_stray_close() -> None:
    result = parse(corpus("stray_and_metadata.txt"))
    good, bad = result.events
    assert good.id == "step-1"
    assert good.time == datetime(2025, 3, 1, 12, tzinfo=UTC)
    assert good.trace_id == "4bf92f3577b34da6a3ce929d0e0e4736"
    assert good.span_id == "00f067aa0ba902b7"
    assert good.metadata == {"tool": "editor", "attempt": 2}
    assert bad.metadata == {}
    assert [(p.event, p.message) for p in result.problems] == [
        (1, "<metadata> is not a JSON object; it was left out")
    ]
    assert extract_code(corpus("stray_and_metadata.txt")) == (
        "Some text  with a stray closing tag.\n\ndone"
    )


def test_text_without_events() -> None:
    assert parse("just an answer").events == ()
    assert extract_code("\n\njust an answer\n") == "just an answer"
    with pytest.raises(TraceParseError, match="`text` must be a string"):
        parse(None)  # type: ignore[arg-type]


def test_problem_positions_point_at_the_tag() -> None:
    text = "line one\n  <event type='x'><reasoning>r</reasoning></event>"
    (problem,) = parse(text).problems
    assert (problem.line, problem.column) == (2, 3)
    assert str(problem).startswith("line 2, column 3: event 0:")


def test_instrument_prompt_example_parses_cleanly() -> None:
    prompt = instrument_prompt("Write find_duplicates(xs) returning repeated items.")
    assert prompt.startswith("Write find_duplicates(xs) returning repeated items.")
    for type_ in EventType:
        assert f"- {type_.value}: " in prompt
    result = parse(prompt, strict=True)
    assert result.ok
    (example,) = result.events
    assert example.type == "alternative_rejected"
    assert example.alternatives == ("Scan the list each time",)
    only = instrument_prompt("task", types=["pattern_applied", "design_choice"], strict=False)
    assert "- design_choice: a step of this kind" in only
    assert "- hypothesis_formed" not in only
    with pytest.raises(EventValidationError, match="'design_choice' is not a core type"):
        instrument_prompt("task", types=["design_choice"])
    with pytest.raises(EventValidationError, match="`spec` must be the non-empty task text"):
        instrument_prompt("  ")


def test_parse_result_to_dict() -> None:
    result = parse(corpus("confidence_variants.txt"))
    data = result.to_dict()
    assert [e["confidence"] for e in data["events"]] == [0.85, 0.9, None, None]
    assert data["problems"][0] == {
        "event": 0,
        "line": 1,
        "column": 1,
        "message": "confidence '85%' read as 0.85",
        "recovered": True,
    }
