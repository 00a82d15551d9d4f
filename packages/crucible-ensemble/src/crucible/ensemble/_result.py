"""Accountable ensemble results: who voted what, which rule decided, what each member cost."""

from __future__ import annotations

from typing import Any

import attrs

from crucible.core import Completion, CrucibleError

__all__ = ["EnsembleError", "EnsembleResult", "MemberResult", "QuorumNotMetError"]


@attrs.frozen(slots=True)
class MemberResult:
    """One member's part in a prediction.

    Attributes:
        index: the member's position in the ensemble.
        member: its label (the model's spec, made unique).
        called: whether it was asked (sequential and cascade execution may stop early).
        completion: its answer, when it answered.
        error: the typed error it raised (a ``ProviderError`` subclass, a ``ProviderTimeoutError``
            for ``timeout_s``, ...), when it failed.
        answer: its normalised vote (``None``: no usable answer).
        weight: its voting weight.
        confidence: its confidence, when known (see :func:`completion_confidence`).
        skipped: why it was not called, when it was not.
    """

    index: int
    member: str
    called: bool
    completion: Completion | None = None
    error: BaseException | None = attrs.field(default=None, eq=False)
    answer: str | None = None
    weight: float = 1.0
    confidence: float | None = None
    skipped: str | None = None

    @property
    def ok(self) -> bool:
        return self.completion is not None

    @property
    def cost_usd(self) -> float | None:
        return None if self.completion is None else self.completion.cost_usd

    @property
    def latency_ms(self) -> float | None:
        return None if self.completion is None else self.completion.latency_ms

    def to_dict(self) -> dict[str, Any]:
        return {
            "index": self.index,
            "member": self.member,
            "called": self.called,
            "text": None if self.completion is None else self.completion.text,
            "answer": self.answer,
            "weight": self.weight,
            "confidence": self.confidence,
            "cost_usd": self.cost_usd,
            "latency_ms": self.latency_ms,
            "error_type": None if self.error is None else type(self.error).__name__,
            "error": None if self.error is None else str(self.error),
            "skipped": self.skipped,
        }

    def __str__(self) -> str:
        if not self.called:
            return f"{self.member}: not called ({self.skipped})"
        if self.error is not None:
            return f"{self.member}: {type(self.error).__name__}: {self.error}"
        cost = "unpriced" if self.cost_usd is None else f"${self.cost_usd:.6f}"
        return f"{self.member}: voted {self.answer!r} ({cost})"


@attrs.frozen(slots=True)
class EnsembleResult:
    """The outcome of one ensemble prediction.

    Attributes:
        answer: the decided (normalised) answer, or ``None`` when the rule abstained.
        consensus: the answer's share of the valid votes (see :class:`Decision`).
        votes: member label -> normalised answer, for every member that answered.
        tally: answer -> votes (or weight).
        members: every member's :class:`MemberResult`, in ensemble order.
        cost_usd: the sum of every member call's cost (unpriced calls count 0).
        latency_ms: wall time of the prediction.
        voting, execution: the rule and the strategy used.
        decided_by: which rule decided and why, in words.
        escalations: for cascade execution, why each escalation happened.
        calls: how many member calls were made.
    """

    answer: str | None
    consensus: float
    votes: dict[str, str | None]
    tally: dict[str, float]
    members: tuple[MemberResult, ...]
    cost_usd: float
    latency_ms: float
    voting: str
    execution: str
    decided_by: str
    escalations: tuple[str, ...] = ()
    calls: int = 0

    @property
    def abstained(self) -> bool:
        return self.answer is None

    @property
    def errors(self) -> dict[str, BaseException]:
        """Member label -> error, for members that failed."""
        return {m.member: m.error for m in self.members if m.error is not None}

    def to_dict(self) -> dict[str, Any]:
        return {
            "answer": self.answer,
            "consensus": self.consensus,
            "votes": dict(self.votes),
            "tally": dict(self.tally),
            "members": [m.to_dict() for m in self.members],
            "cost_usd": self.cost_usd,
            "latency_ms": self.latency_ms,
            "voting": self.voting,
            "execution": self.execution,
            "decided_by": self.decided_by,
            "escalations": list(self.escalations),
            "calls": self.calls,
        }

    def __str__(self) -> str:
        lines = [
            f"answer {self.answer!r} (consensus {self.consensus:.0%}, {self.voting} voting, "
            f"{self.execution} execution, {self.calls} calls, ${self.cost_usd:.6f}, "
            f"{self.latency_ms:.0f} ms)",
            f"  decided by {self.decided_by}",
        ]
        lines += [f"  escalated: {e}" for e in self.escalations]
        lines += [f"  {m}" for m in self.members]
        return "\n".join(lines)


class EnsembleError(CrucibleError):
    """An ensemble could not produce an answer."""


class QuorumNotMetError(EnsembleError):
    """Fewer members gave a usable answer than the quorum requires.

    Attributes:
        result: the partial :class:`EnsembleResult`, with every member's error.
    """

    def __init__(self, message: str, result: EnsembleResult) -> None:
        super().__init__(message)
        self.result = result
