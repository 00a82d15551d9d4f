"""Ensemble behaviour with scripted members: the Model protocol, accounting, partial failure,
quorum, timeouts, hedged and cascade execution, spans."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest

from crucible.core import Item, Model, ProviderTimeoutError, RateLimitError, ServerError, Usage
from crucible.core import semconv as sc
from crucible.ensemble import Ensemble, EnsembleResult, QuorumNotMetError
from crucible.hedging import HedgeBudget, HedgeResult, fixed, run_virtual


def test_is_a_model(fake: Any) -> None:
    assert isinstance(Ensemble([fake("a")]), Model)


async def test_generate_sums_cost_and_usage_and_passes_context(fake: Any) -> None:
    members = [fake("a", "B", cost=0.01), fake("b", "B", cost=0.02), fake("c", "A", cost=None)]
    ensemble = Ensemble(members, normalizer="letter")
    item = Item("q7", "Pick", expected="B")
    completion = await ensemble.generate("Pick", item=item, repeat=2, attempt=1, temperature=0)
    for m in members:
        assert m.calls == [{"item": item, "repeat": 2, "attempt": 1, "temperature": 0}]
    assert completion.text == "B"
    assert completion.provider == "ensemble"
    assert completion.cost_usd == pytest.approx(0.03)
    assert completion.usage == Usage(150, 15)
    assert completion.confidence == pytest.approx(2 / 3)
    result = completion.raw
    assert isinstance(result, EnsembleResult)
    assert result.votes == {"fake:a": "B", "fake:b": "B", "fake:c": "A"}
    assert result.decided_by == "majority: 'B' with 2 of 3 votes"
    assert [m.cost_usd for m in result.members] == [0.01, 0.02, None]


async def test_failing_members_are_reported_and_quorum_decides(fake: Any) -> None:
    members = [
        fake("a", "C"),
        fake("b", error=RateLimitError("slow down", provider="fake", model="b")),
        fake("c", "C"),
        fake("d", error=ServerError("boom", provider="fake", model="d")),
    ]
    result = await Ensemble(members, normalizer="letter", quorum=2).predict("q")
    assert result.answer == "C"
    assert {k: type(v).__name__ for k, v in result.errors.items()} == {
        "fake:b": "RateLimitError",
        "fake:d": "ServerError",
    }
    assert result.members[1].to_dict()["error_type"] == "RateLimitError"
    with pytest.raises(QuorumNotMetError) as info:
        await Ensemble(members, normalizer="letter", quorum=3).predict("q")
    message = str(info.value)
    assert message.startswith("only 2 of 4 members gave a usable answer, quorum is 3: ")
    assert "fake:b: RateLimitError: slow down" in message
    assert info.value.result.answer == "C"


async def test_unusable_answers_do_not_count_toward_quorum(fake: Any) -> None:
    with pytest.raises(QuorumNotMetError, match="fake:a: no usable answer"):
        await Ensemble(
            [fake("a", "no idea"), fake("b", "B")], normalizer="letter", quorum=2
        ).predict("q")


def test_timed_out_member_is_a_typed_error(fake: Any) -> None:
    members = [fake("fast", "A"), fake("stuck", gate=asyncio.Event()), fake("fast2", "A")]
    ensemble = Ensemble(members, normalizer="letter", timeout_s=30)
    result = run_virtual(ensemble.predict("q"))  # 30 simulated seconds pass at once
    error = result.errors["fake:stuck"]
    assert isinstance(error, ProviderTimeoutError)
    assert str(error) == "ensemble member fake:stuck gave no answer within timeout_s=30 s"
    assert result.answer == "A"
    assert result.latency_ms == pytest.approx(30_000.0)


async def test_unanimous_abstains_through_generate(fake: Any) -> None:
    ensemble = Ensemble([fake("a", "A"), fake("b", "B")], voting="unanimous", normalizer="letter")
    completion = await ensemble.generate("q")
    assert (completion.text, completion.finish_reason) == ("", "abstain")
    assert completion.raw.abstained


async def test_sequential_stops_once_settled(fake: Any) -> None:
    members = [fake(n, "A") for n in "abc"] + [fake("d", "B"), fake("e", "B")]
    result = await Ensemble(members, normalizer="letter", execution="sequential").predict("q")
    assert result.calls == 3
    assert [m.called for m in result.members] == [True, True, True, False, False]
    assert members[3].calls == [] and members[4].calls == []
    assert result.members[4].skipped == (
        "early stop: the outcome was settled after 3 of 5 members, the rest could not change it"
    )


async def test_sequential_continues_while_the_outcome_is_open(fake: Any) -> None:
    members = [fake("a", "A"), fake("b", "B"), fake("c", "A"), fake("d", "B"), fake("e", "B")]
    result = await Ensemble(members, normalizer="letter", execution="sequential").predict("q")
    assert result.calls == 5
    assert result.answer == "B"


async def test_hedged_execution_hedges_each_member(fake: Any) -> None:
    slow_then_fast = fake("a", "A", hang_first=True)
    ensemble = Ensemble(
        [slow_then_fast, fake("b", "A")], normalizer="letter", execution="hedged", hedging=fixed(0)
    )
    result = await ensemble.predict("q")
    raw = result.members[0].completion.raw
    assert isinstance(raw, HedgeResult)
    assert (raw.winner, raw.hedge_fired, raw.cancelled) == (1, True, 1)
    assert len(slow_then_fast.calls) == 2
    assert result.answer == "A"
    # Each member owns its policy copy, so each learns its own latency.
    policies = [m.policy for m in ensemble._callers]  # type: ignore[attr-defined]
    assert policies[0] is not policies[1]


def test_shared_hedge_budget_throttles_members(fake: Any) -> None:
    members = [fake("a", "A", hang_first=True), fake("b", "A", hang_first=True)]
    budget = HedgeBudget(ratio=0.0, burst=1)
    ensemble = Ensemble(
        members,
        normalizer="letter",
        execution="hedged",
        hedging=fixed(0),
        hedge_budget=budget,
        timeout_s=5,
    )
    result = run_virtual(ensemble.predict("q"))  # the 5 s timeout passes on a simulated clock
    raws = [m.completion.raw if m.completion is not None else None for m in result.members]
    # One credit for two members: one member hedged and answered, the other stayed on its
    # hanging first call, was throttled, and timed out.
    assert budget.hedges == 1
    assert sum(r is not None and r.hedge_fired for r in raws) == 1
    assert isinstance(next(iter(result.errors.values())), ProviderTimeoutError)
    assert result.answer == "A"


async def test_cascade_escalates_with_reasons(fake: Any) -> None:
    members = [
        fake("cheap", "A", confidence=0.5, cost=0.001),
        fake("mid", "B", confidence=0.6, cost=0.01),
        fake("big", "B", confidence=0.95, cost=0.1),
    ]
    ensemble = Ensemble(members, normalizer="letter", execution="cascade", costs=[1, 10, 100])
    result = await ensemble.predict("q")
    assert result.answer == "B"
    assert result.calls == 3
    assert result.escalations == (
        "fake:cheap answered 'A' with confidence 0.500 < 0.8 -> escalate to fake:mid",
        "fake:mid answered 'B' with confidence 0.600 < 0.8; agreement 50% < 100% -> escalate to fake:big",
    )
    assert result.decided_by == (
        "cascade: accepted fake:big's answer 'B', confidence 0.950 >= confidence_threshold 0.8"
    )
    assert result.cost_usd == pytest.approx(0.111)


async def test_cascade_accepts_agreement_and_skips_the_rest(fake: Any) -> None:
    members = [fake("x", "B", confidence=0.3), fake("y", "B", confidence=0.4), fake("z", "A")]
    ensemble = Ensemble(members, normalizer="letter", execution="cascade", costs=[2, 1, 3])
    assert ensemble.order == (1, 0, 2)
    result = await ensemble.predict("q")
    assert result.calls == 2
    assert members[2].calls == []
    assert result.decided_by == "cascade: 2 answers agree 100% on 'B' >= agreement_threshold 100%"
    assert result.members[2].skipped == "cascade stopped after 2 of 3 members"


async def test_model_specs_resolve_and_labels_are_unique() -> None:
    ensemble = Ensemble(["sim:gpt-4", "sim:gpt-4", "sim:mixtral"])
    assert ensemble.labels == ("sim:gpt-4", "sim:gpt-4#2", "sim:mixtral")


async def test_predict_sync_inside_a_running_loop(fake: Any) -> None:
    ensemble = Ensemble([fake("a", "yes"), fake("b", "Yes.")], normalizer="boolean")
    assert ensemble.predict_sync("q").answer == "true"


def test_predict_sync_without_a_loop(fake: Any) -> None:
    assert Ensemble([fake("a", "42")], normalizer="number").predict_sync("q").answer == "42"


async def test_span_has_voting_execution_consensus(fake: Any, spans: Any) -> None:
    await Ensemble([fake("a", "A"), fake("b", "B"), fake("c", "A")], name="trio").predict("q")
    (span,) = [s for s in spans.get_finished_spans() if s.name == "ensemble trio"]
    attrs = dict(span.attributes)
    assert attrs[sc.CRUCIBLE_ENSEMBLE_VOTING] == "majority"
    assert attrs[sc.CRUCIBLE_ENSEMBLE_EXECUTION] == "parallel"
    assert attrs[sc.CRUCIBLE_ENSEMBLE_CONSENSUS] == pytest.approx(2 / 3)
    assert attrs["crucible.ensemble.calls"] == 3


async def test_result_renders(fake: Any) -> None:
    result = await Ensemble(
        [fake("a", "A", cost=0.5), fake("b", error=ServerError("down"))]
    ).predict("q")
    text = str(result)
    assert text.splitlines()[0].startswith("answer 'a' (consensus 100%, majority voting")
    assert "fake:b: ServerError: down" in text
    data = result.to_dict()
    assert data["members"][1]["error_type"] == "ServerError"
    assert data["cost_usd"] == 0.5
