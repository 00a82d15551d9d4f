"""Estimates before a run: calls, tokens, dollars and wall time, optionally from a pilot."""

from __future__ import annotations

import asyncio
import time
from typing import Any

import attrs

from crucible.core import Completion, SimulatedModel, Usage
from crucible.harness._budget import BudgetGuard
from crucible.harness._calls import CostModel, TrialRunner, model_key, prompt_tokens
from crucible.harness._errors import ExperimentError
from crucible.harness._experiment import Condition, Experiment
from crucible.harness._limits import Budget, Limits

__all__ = ["ConditionEstimate", "Estimate", "estimate", "estimate_async"]

#: Assumed when neither the model, its parameters nor a pilot say otherwise.
ASSUMED_OUTPUT_TOKENS = 256
ASSUMED_LATENCY_MS = 1000.0


@attrs.frozen(slots=True)
class ConditionEstimate:
    """The expected size of one condition's share of a run.

    Attributes:
        condition: the condition's name.
        calls: trials (one call each, before retries).
        input_tokens, output_tokens: expected totals (input: prompt characters / 4).
        cost_usd: expected cost, ``None`` when the model is unpriced and no pilot priced it.
        simulated: the model is simulated (its cost is not billed).
        latency_ms: expected wall time of one call.
        basis: where the numbers come from (``"price table"``, ``"pilot"``, ``"assumed"``).
    """

    condition: str
    calls: int
    input_tokens: int
    output_tokens: int
    cost_usd: float | None
    simulated: bool
    latency_ms: float
    basis: str

    def to_dict(self) -> dict[str, Any]:
        return attrs.asdict(self)


@attrs.frozen(slots=True)
class Estimate:
    """What a run of an experiment is expected to take.

    Attributes:
        experiment: its name.
        conditions: one :class:`ConditionEstimate` per condition.
        wall_s: expected wall time given concurrency and rate limits.
        pilot: items per condition the pilot ran (0: no pilot).
    """

    experiment: str
    conditions: tuple[ConditionEstimate, ...]
    wall_s: float
    pilot: int

    @property
    def calls(self) -> int:
        return sum(c.calls for c in self.conditions)

    @property
    def input_tokens(self) -> int:
        return sum(c.input_tokens for c in self.conditions)

    @property
    def output_tokens(self) -> int:
        return sum(c.output_tokens for c in self.conditions)

    @property
    def cost_usd(self) -> float | None:
        """Total expected cost; ``None`` if any condition's cost is unknown."""
        costs = [c.cost_usd for c in self.conditions]
        return None if any(c is None for c in costs) else sum(c or 0.0 for c in costs)

    @property
    def billable_usd(self) -> float:
        """Expected cost of the non-simulated conditions whose cost is known."""
        return sum(c.cost_usd or 0.0 for c in self.conditions if not c.simulated)

    @property
    def unknown_cost(self) -> list[str]:
        """Non-simulated conditions whose cost cannot be estimated."""
        return [c.condition for c in self.conditions if c.cost_usd is None and not c.simulated]

    def to_dict(self) -> dict[str, Any]:
        return {
            "experiment": self.experiment,
            "conditions": [c.to_dict() for c in self.conditions],
            "calls": self.calls,
            "input_tokens": self.input_tokens,
            "output_tokens": self.output_tokens,
            "cost_usd": self.cost_usd,
            "billable_usd": self.billable_usd,
            "wall_s": self.wall_s,
            "pilot": self.pilot,
        }

    def __str__(self) -> str:
        lines = [
            f"Estimate for {self.experiment}" + (f" (pilot {self.pilot})" if self.pilot else "")
        ]
        for c in self.conditions:
            cost = "unknown" if c.cost_usd is None else f"${c.cost_usd:.4f}"
            sim = " (simulated)" if c.simulated else ""
            lines.append(
                f"  {c.condition}: {c.calls} calls, {c.input_tokens} in / {c.output_tokens} out "
                f"tokens, {cost}{sim}, ~{c.latency_ms:.0f} ms/call [{c.basis}]"
            )
        total = "unknown" if self.cost_usd is None else f"${self.cost_usd:.4f}"
        lines.append(
            f"  total: {self.calls} calls, {self.input_tokens + self.output_tokens} tokens, "
            f"{total} (billable ${self.billable_usd:.4f}), ~{_duration(self.wall_s)}"
        )
        return "\n".join(lines)


def _duration(seconds: float) -> str:
    if seconds < 60:
        return f"{seconds:.1f} s"
    if seconds < 3600:
        return f"{seconds / 60:.1f} min"
    return f"{seconds / 3600:.1f} h"


@attrs.define
class _Pilot:
    completions: list[Completion] = attrs.Factory(list)
    wall_ms: list[float] = attrs.Factory(list)


async def _pilot(experiment: Experiment, cond: Condition, n: int) -> _Pilot:
    runner = TrialRunner(
        experiment, f"{experiment.name}-pilot", 0, BudgetGuard(Budget()), limiters={}
    )
    out = _Pilot()

    async def one(index: int) -> None:
        item = experiment.dataset[index]
        t0 = time.perf_counter()
        try:
            completion = await runner._timed(cond, item, cond.render(item), 0, 0)
        except Exception:
            return
        out.completions.append(completion)
        out.wall_ms.append((time.perf_counter() - t0) * 1000.0)

    await asyncio.gather(*(one(i) for i in range(min(n, len(experiment.dataset)))))
    return out


def _condition(experiment: Experiment, cond: Condition, pilot: _Pilot | None) -> ConditionEstimate:
    model = experiment.models[cond.name]
    calls = len(experiment.dataset) * experiment.repeats
    in_tokens = sum(prompt_tokens(cond.render(it)) for it in experiment.dataset)
    in_tokens *= experiment.repeats
    costs = CostModel(cond, model)
    simulated = getattr(model, "provider", None) == "sim"
    basis = "price table" if costs.price is not None else "assumed"
    latency = ASSUMED_LATENCY_MS
    out_per_call: float = costs.output_guess()
    if isinstance(model, SimulatedModel):
        latency = model.profile.latency.mean_ms * model.profile.time_scale
        if not isinstance(costs.max_tokens, int):
            out_per_call = model.profile.output_tokens
    cost: float | None = None
    if pilot is not None and pilot.completions:
        basis = "pilot"
        done = pilot.completions
        out_per_call = sum(c.usage.output_tokens + c.usage.reasoning_tokens for c in done) / len(
            done
        )
        pilot_in = sum(c.usage.input_tokens for c in done) / len(done)
        latency = sum(pilot.wall_ms) / len(pilot.wall_ms)
        simulated = simulated or all(c.provider == "sim" for c in done)
        priced = [c.cost_usd for c in done if c.cost_usd is not None]
        if costs.price is None and priced:
            cost = sum(priced) / len(priced) * calls
        if pilot_in > 0:
            in_tokens = round(pilot_in * calls)
    out_tokens = round(out_per_call * calls)
    if costs.price is not None:
        cost = costs.price.cost(Usage(in_tokens, out_tokens)).total_usd
    return ConditionEstimate(
        condition=cond.name,
        calls=calls,
        input_tokens=in_tokens,
        output_tokens=out_tokens,
        cost_usd=cost,
        simulated=simulated,
        latency_ms=latency,
        basis=basis,
    )


def _wall(experiment: Experiment, conds: list[ConditionEstimate]) -> float:
    limits: Limits = experiment.limits
    busy = sum(c.calls * c.latency_ms / 1000.0 for c in conds) / limits.concurrency
    rate_bound = 0.0
    for c in conds:
        key = model_key(experiment.condition(c.condition), experiment.models[c.condition])
        limit = limits.rate_limit_for(key)
        if limit is not None and limit.rpm:
            rate_bound = max(rate_bound, c.calls / (limit.rpm / 60.0))
        if limit is not None and limit.tpm:
            rate_bound = max(rate_bound, (c.input_tokens + c.output_tokens) / (limit.tpm / 60.0))
    return max(busy, rate_bound)


async def estimate_async(experiment: Experiment, *, pilot: int = 0) -> Estimate:
    """:func:`estimate` inside a running event loop."""
    if isinstance(pilot, bool) or not isinstance(pilot, int) or pilot < 0:
        raise ExperimentError(f"`pilot` must be an int >= 0 (items per condition), got {pilot!r}")
    pilots: dict[str, _Pilot] = {}
    if pilot:
        for cond in experiment.conditions:
            pilots[cond.name] = await _pilot(experiment, cond, pilot)
    conds = [_condition(experiment, c, pilots.get(c.name)) for c in experiment.conditions]
    return Estimate(experiment.name, tuple(conds), _wall(experiment, conds), pilot)


def estimate(experiment: Experiment, *, pilot: int = 0) -> Estimate:
    """Expected calls, tokens, cost and wall time of a run of ``experiment``.

    Input tokens come from the rendered prompts (about four characters per token), output
    tokens from ``max_tokens``, the simulated model's profile, or 256 per call; costs from the
    price table. ``pilot=k`` first calls every condition on ``k`` items (real calls: they cost
    money) and uses the observed tokens, cost and latency instead. Wall time is the larger of
    total call time divided by the concurrency and the time the rate limits impose.

    Example:
        >>> from crucible.core import Item
        >>> exp = Experiment("toy", [Item("1", "2+2?", "4")], [Condition("a", "sim:gpt-4")])
        >>> estimate(exp).calls
        1
    """
    return asyncio.run(estimate_async(experiment, pilot=pilot))
