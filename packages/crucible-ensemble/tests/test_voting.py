"""Voting rules: winners, deterministic ties, abstention and when an outcome is settled."""

from __future__ import annotations

import pytest

from crucible.core import Completion, TokenLogprob
from crucible.ensemble import Ballot, completion_confidence, resolve_voting


def ballots(*answers: str | None, weights: list[float] | None = None) -> list[Ballot]:
    return [
        Ballot(i, f"m{i}", a, 1.0 if weights is None else weights[i]) for i, a in enumerate(answers)
    ]


def test_majority_winner_and_consensus() -> None:
    d = resolve_voting("majority").decide(ballots("B", "A", "B", None, "B"))
    assert d.answer == "B"
    assert d.consensus == pytest.approx(3 / 4)  # the unusable answer is not a vote
    assert d.tally == {"B": 3.0, "A": 1.0}
    assert d.decided_by == "majority: 'B' with 3 of 4 votes"


def test_majority_tie_goes_to_the_answer_of_the_earliest_member() -> None:
    d = resolve_voting("majority").decide(ballots("C", "A", "A", "C"))
    assert d.answer == "C"
    assert d.decided_by == (
        "majority: tie at 2 votes between 'C', 'A', broken by member order: 'C' was first voted by m0"
    )
    assert resolve_voting("majority").decide(ballots("A", "C", "C", "A")).answer == "A"


def test_weighted_voting_follows_weight_not_count() -> None:
    d = resolve_voting("weighted").decide(ballots("A", "B", "B", weights=[3.0, 1.0, 1.0]))
    assert d.answer == "A"
    assert d.consensus == pytest.approx(0.6)
    assert d.decided_by == "weighted: 'A' with 3 of 5 weight"


def test_best_confidence_picks_the_most_confident_member() -> None:
    rule = resolve_voting("best_confidence")
    votes = [
        Ballot(0, "m0", "A", confidence=0.6),
        Ballot(1, "m1", "B", confidence=0.9),
        Ballot(2, "m2", "A", confidence=None),
    ]
    d = rule.decide(votes)
    assert d.answer == "B"
    assert d.consensus == pytest.approx(1 / 3)
    assert "from m1 with confidence 0.900" in d.decided_by
    tie = [Ballot(0, "m0", "A", confidence=0.7), Ballot(1, "m1", "B", confidence=0.7)]
    assert rule.decide(tie).answer == "A"
    none_rated = rule.decide([Ballot(0, "m0", "A")])
    assert none_rated.answer is None
    assert "no member reported a confidence" in none_rated.decided_by


def test_unanimous_abstains_without_agreement() -> None:
    rule = resolve_voting("unanimous")
    agree = rule.decide(ballots("A", "A", None))
    assert (agree.answer, agree.consensus) == ("A", 1.0)
    split = rule.decide(ballots("A", "B", "A"))
    assert split.answer is None
    assert split.consensus == pytest.approx(2 / 3)
    assert split.decided_by == "unanimous: members disagree ('A'x2, 'B'x1); abstained"


def test_no_usable_answer_abstains() -> None:
    d = resolve_voting("majority").decide(ballots(None, None))
    assert d.answer is None
    assert d.decided_by == "majority: no member gave a usable answer"


@pytest.mark.parametrize(
    ("rule", "cast", "remaining", "settled"),
    [
        ("majority", ["A", "A", "A"], [1.0, 1.0], True),  # 3 > 0 + 2
        ("majority", ["A", "A"], [1.0, 1.0, 1.0], False),  # 2 > 0 + 3 fails
        ("majority", ["A", "A", "B"], [1.0], False),  # 2 > 1 + 1 fails (could tie)
        ("majority", ["A"], [], True),
        ("unanimous", ["A", "B"], [1.0, 1.0], True),  # disagreement is final
        ("unanimous", ["A", "A"], [1.0], False),
        ("best_confidence", ["A"], [1.0], False),
    ],
)
def test_settled(rule: str, cast: list[str], remaining: list[float], settled: bool) -> None:
    assert resolve_voting(rule).settled(ballots(*cast), remaining) is settled


def test_weighted_settled_uses_remaining_weight() -> None:
    rule = resolve_voting("weighted")
    assert rule.settled(ballots("A", weights=[5.0]), [2.0, 2.0]) is True
    assert rule.settled(ballots("A", weights=[3.0]), [2.0, 2.0]) is False


def test_best_confidence_settles_on_certainty() -> None:
    rule = resolve_voting("best_confidence")
    assert rule.settled([Ballot(0, "m0", "A", confidence=1.0)], [1.0]) is True


def test_completion_confidence_sources() -> None:
    assert completion_confidence(Completion("A", "m", "p", confidence=0.7)) == 0.7
    logprobs = [TokenLogprob("A", -0.1), TokenLogprob(".", -0.3)]
    assert completion_confidence(Completion("A", "m", "p", logprobs=logprobs)) == pytest.approx(
        0.8187307530779818  # exp(-0.2)
    )
    assert completion_confidence(Completion("B (confidence: 0.9)", "m", "p")) == 0.9
    assert completion_confidence(Completion("B, confidence 75%", "m", "p")) == 0.75
    assert completion_confidence(Completion("B", "m", "p")) is None
