"""Voting rules: from the members' normalised answers to one answer, and when the outcome is
already settled (for sequential early stopping).

Tie rule (majority and weighted): among answers tied for the most votes (weight), the one whose
first vote came from the earliest member in the ensemble's order wins. It is deterministic and
lets users rank members by trust by ordering them.
"""

from __future__ import annotations

import functools
import math
import re
from collections.abc import Callable, Sequence
from enum import StrEnum
from typing import Protocol

import attrs

from crucible.core import Completion, ConfigurationError

__all__ = [
    "Ballot",
    "Decision",
    "VotingName",
    "VotingRule",
    "completion_confidence",
    "resolve_voting",
]


class VotingName(StrEnum):
    """The built-in voting rules."""

    MAJORITY = "majority"
    WEIGHTED = "weighted"
    BEST_CONFIDENCE = "best_confidence"
    UNANIMOUS = "unanimous"


@attrs.frozen(slots=True)
class Ballot:
    """One member's vote: its position, label, normalised answer, weight and confidence."""

    index: int
    member: str
    answer: str | None
    weight: float = 1.0
    confidence: float | None = None


@attrs.frozen(slots=True)
class Decision:
    """What a voting rule decided.

    Attributes:
        answer: the winning answer, or ``None`` when the rule abstains.
        consensus: the winning answer's share of the valid votes (weight for weighted voting).
        tally: votes (or weight) per answer.
        decided_by: the rule and the reason, in words.
    """

    answer: str | None
    consensus: float
    tally: dict[str, float]
    decided_by: str


_STATED = re.compile(r"confidence\s*[:=]?\s*(\d+(?:\.\d+)?)\s*(%)?", re.IGNORECASE)


def completion_confidence(completion: Completion) -> float | None:
    """A member's confidence: ``Completion.confidence``, else exp(mean token logprob), else a
    confidence stated in the text (``"Confidence: 0.8"`` or ``"confidence 80%"``), else None.

    Example:
        >>> completion_confidence(Completion("B. Confidence: 85%", "m", "p"))
        0.85
    """
    if completion.confidence is not None:
        return float(completion.confidence)
    if completion.logprobs:
        values = [lp.logprob for lp in completion.logprobs if math.isfinite(lp.logprob)]
        if values:
            return min(1.0, math.exp(sum(values) / len(values)))
    match = _STATED.search(completion.text)
    if match is not None:
        value = float(match.group(1))
        if match.group(2) or value > 1.0:
            value /= 100.0
        if 0.0 <= value <= 1.0:
            return value
    return None


def _tally(ballots: Sequence[Ballot], weighted: bool) -> tuple[dict[str, float], dict[str, int]]:
    tally: dict[str, float] = {}
    first: dict[str, int] = {}
    for b in sorted(ballots, key=lambda b: b.index):
        if b.answer is None:
            continue
        tally[b.answer] = tally.get(b.answer, 0.0) + (b.weight if weighted else 1.0)
        first.setdefault(b.answer, b.index)
    return tally, first


def _fmt(x: float) -> str:
    return f"{x:g}"


class VotingRule(Protocol):
    """A voting rule (see :class:`VotingName`)."""

    name: str

    def decide(self, ballots: Sequence[Ballot]) -> Decision:
        """The decision over the ballots cast so far."""
        ...

    def settled(self, ballots: Sequence[Ballot], remaining: Sequence[float]) -> bool:
        """Whether the members still to vote (their weights) cannot change the decision."""
        ...


class _Plurality:
    """Majority (one member, one vote) or weighted plurality."""

    def __init__(self, weighted: bool) -> None:
        self.weighted = weighted
        self.name = VotingName.WEIGHTED.value if weighted else VotingName.MAJORITY.value

    def decide(self, ballots: Sequence[Ballot]) -> Decision:
        tally, first = _tally(ballots, self.weighted)
        unit = "weight" if self.weighted else "votes"
        if not tally:
            return Decision(None, 0.0, {}, f"{self.name}: no member gave a usable answer")
        top = max(tally.values())
        tied = sorted((a for a, v in tally.items() if v == top), key=first.__getitem__)
        answer = tied[0]
        total = sum(tally.values())
        consensus = top / total if total > 0 else 0.0
        if len(tied) == 1:
            reason = f"{self.name}: {answer!r} with {_fmt(top)} of {_fmt(total)} {unit}"
        else:
            voter = next(b.member for b in ballots if b.index == first[answer])
            reason = (
                f"{self.name}: tie at {_fmt(top)} {unit} between {', '.join(map(repr, tied))}, "
                f"broken by member order: {answer!r} was first voted by {voter}"
            )
        return Decision(answer, consensus, tally, reason)

    def settled(self, ballots: Sequence[Ballot], remaining: Sequence[float]) -> bool:
        tally, _ = _tally(ballots, self.weighted)
        if not tally:
            return not remaining
        still = sum(remaining) if self.weighted else float(len(remaining))
        ordered = sorted(tally.values(), reverse=True)
        runner_up = ordered[1] if len(ordered) > 1 else 0.0
        # Strict: even if every remaining vote went to the runner-up (or a new answer), the
        # leader would still be ahead.
        return ordered[0] > runner_up + still


class _BestConfidence:
    name = VotingName.BEST_CONFIDENCE.value

    def decide(self, ballots: Sequence[Ballot]) -> Decision:
        tally, _ = _tally(ballots, weighted=False)
        rated = [b for b in ballots if b.answer is not None and b.confidence is not None]
        if not rated:
            why = (
                "no member gave a usable answer" if not tally else "no member reported a confidence"
            )
            return Decision(None, 0.0, tally, f"{self.name}: {why}; abstained")
        confidence, _, best = max(((b.confidence or 0.0), -b.index, b) for b in rated)
        answer = best.answer or ""
        total = sum(tally.values())
        return Decision(
            answer,
            tally[answer] / total,
            tally,
            f"{self.name}: {answer!r} from {best.member} with confidence "
            f"{confidence:.3f}, the highest of {len(rated)} rated answers",
        )

    def settled(self, ballots: Sequence[Ballot], remaining: Sequence[float]) -> bool:
        # Ties go to the earlier member, so a later answer cannot beat a confidence of 1.
        return not remaining or any(
            b.answer is not None and b.confidence is not None and b.confidence >= 1.0
            for b in ballots
        )


class _Unanimous:
    name = VotingName.UNANIMOUS.value

    def decide(self, ballots: Sequence[Ballot]) -> Decision:
        tally, first = _tally(ballots, weighted=False)
        if not tally:
            return Decision(None, 0.0, {}, f"{self.name}: no member gave a usable answer")
        total = sum(tally.values())
        if len(tally) == 1:
            (answer,) = tally
            return Decision(
                answer, 1.0, tally, f"{self.name}: all {_fmt(total)} answers agree on {answer!r}"
            )
        counts = ", ".join(
            f"{a!r}x{_fmt(v)}" for a, v in sorted(tally.items(), key=lambda kv: first[kv[0]])
        )
        return Decision(
            None,
            max(tally.values()) / total,
            tally,
            f"{self.name}: members disagree ({counts}); abstained",
        )

    def settled(self, ballots: Sequence[Ballot], remaining: Sequence[float]) -> bool:
        tally, _ = _tally(ballots, weighted=False)
        return not remaining or len(tally) > 1


_RULES: dict[VotingName, Callable[[], VotingRule]] = {
    VotingName.MAJORITY: functools.partial(_Plurality, weighted=False),
    VotingName.WEIGHTED: functools.partial(_Plurality, weighted=True),
    VotingName.BEST_CONFIDENCE: _BestConfidence,
    VotingName.UNANIMOUS: _Unanimous,
}


def resolve_voting(voting: VotingName | str) -> VotingRule:
    """The voting rule called ``voting``.

    Raises:
        ConfigurationError: for an unknown name; the message lists the valid ones.
    """
    try:
        name = VotingName(voting)
    except ValueError:
        valid = ", ".join(repr(v.value) for v in VotingName)
        raise ConfigurationError(f"unknown `voting` {voting!r}; valid: {valid}") from None
    return _RULES[name]()
