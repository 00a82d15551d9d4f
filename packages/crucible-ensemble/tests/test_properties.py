"""Laws of the voting rules for any ballots (hypothesis)."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from crucible.ensemble import Ballot, resolve_voting

answers = st.lists(st.sampled_from(["A", "B", "C", None]), min_size=1, max_size=9)


def cast(values: list[str | None], weights: list[float] | None = None) -> list[Ballot]:
    return [
        Ballot(i, f"m{i}", a, 1.0 if weights is None else weights[i], 0.5)
        for i, a in enumerate(values)
    ]


@settings(max_examples=200, deadline=None)
@given(answers, st.sampled_from(["majority", "weighted", "best_confidence", "unanimous"]))
def test_consensus_is_a_share_and_the_answer_was_voted(values: list[str | None], rule: str) -> None:
    d = resolve_voting(rule).decide(cast(values))
    assert 0.0 <= d.consensus <= 1.0
    assert d.answer is None or d.answer in values


@settings(max_examples=200, deadline=None)
@given(answers)
def test_majority_answer_has_the_top_count(values: list[str | None]) -> None:
    d = resolve_voting("majority").decide(cast(values))
    counts = {a: values.count(a) for a in values if a is not None}
    if counts:
        assert counts[d.answer] == max(counts.values())
    else:
        assert d.answer is None


@settings(max_examples=200, deadline=None)
@given(answers, st.integers(min_value=0, max_value=9))
def test_a_settled_majority_survives_any_remaining_votes(
    values: list[str | None], split: int
) -> None:
    """If the rule says the outcome is settled after the first k votes, every completion agrees."""
    split = min(split, len(values))
    head, tail = values[:split], values[split:]
    rule = resolve_voting("majority")
    if not rule.settled(cast(head), [1.0] * len(tail)):
        return
    settled_answer = rule.decide(cast(head)).answer
    for alternative in ("A", "B", "C", "D"):
        completed = head + [alternative] * len(tail)
        assert rule.decide(cast(completed)).answer == settled_answer
    assert rule.decide(cast(values)).answer == settled_answer
