"""``HedgedModel``: a model whose every call is hedged across replicas or providers."""

from __future__ import annotations

import functools
import math
from collections.abc import Awaitable, Callable, Sequence
from typing import Any

import attrs

from crucible.core import Completion, ConfigurationError, Model, Prompt, Usage, get_model
from crucible.core import prompt_text as _prompt_text
from crucible.hedging._budget import HedgeBudget
from crucible.hedging._hedge import AttemptStatus, HedgeResult, hedged, resolve_policy
from crucible.hedging._policy import HedgePolicy, Work

__all__ = ["HedgedModel", "as_model"]


def as_model(model: Model | str, argument: str) -> Model:
    """A model from itself or a ``provider:name`` spec (resolved with ``get_model``)."""
    if isinstance(model, str):
        return get_model(model)
    if not isinstance(model, Model):
        raise ConfigurationError(
            f"`{argument}` must be a Model (with async generate) or a spec string like "
            f"'sim:gpt-4', got {model!r:.80}"
        )
    return model


def _label(model: Model) -> str:
    spec = getattr(model, "spec", None)
    return spec if isinstance(spec, str) else type(model).__name__


class HedgedModel:
    """A :class:`~crucible.core.Model` that hedges every ``generate`` call.

    Attempt 0 goes to ``primary``; hedge ``k`` goes to ``backups[k - 1]`` (the last backup
    repeats), or to ``primary`` again when there are no backups. Parameters, including the
    context parameters ``item``, ``repeat`` and ``attempt``, reach every member unchanged.

    The returned :class:`~crucible.core.Completion` is the winner's, except that ``usage`` and
    ``cost_usd`` sum every member call that completed (a loser that answered still costs money),
    ``latency_ms`` is the hedged latency, and ``raw`` holds the :class:`HedgeResult` (the winner's
    own raw response is ``raw.value.raw``).

    A simulated model draws its latency from (seed, item, repeat), so a copy of the same
    simulated model takes exactly as long as the original: hedge simulated calls to replicas with
    different seeds (``SimulatedModel("gpt-4", seed=2)``), as a real provider's latency varies.

    Example:
        >>> import asyncio
        >>> from crucible.hedging import fixed
        >>> model = HedgedModel("sim:gpt-4", ["sim:claude-3"], policy=fixed(2000))
        >>> completion = asyncio.run(model.generate("What is 2+2?"))
        >>> completion.raw.winner
        0
    """

    def __init__(
        self,
        primary: Model | str,
        backups: Sequence[Model | str] = (),
        policy: HedgePolicy | str = "percentile",
        *,
        max_hedges: int | None = None,
        budget: HedgeBudget | None = None,
        name: str | None = None,
    ) -> None:
        if isinstance(backups, str | Model):
            backups = [backups]
        self.primary = as_model(primary, "primary")
        self.backups = tuple(as_model(b, f"backups[{i}]") for i, b in enumerate(backups))
        self.policy = resolve_policy(policy)
        if max_hedges is None:
            max_hedges = max(1, len(self.backups))
        if isinstance(max_hedges, bool) or not isinstance(max_hedges, int) or max_hedges < 0:
            raise ConfigurationError(f"`max_hedges` must be an int >= 0, got {max_hedges!r}")
        self.max_hedges = max_hedges
        if budget is not None and not isinstance(budget, HedgeBudget):
            raise ConfigurationError(f"`budget` must be a HedgeBudget or None, got {budget!r:.80}")
        self.budget = budget
        self.name = name or f"hedged({_label(self.primary)})"

    @property
    def spec(self) -> str:
        return self.name

    def __repr__(self) -> str:
        backups = ", ".join(_label(b) for b in self.backups)
        return (
            f"HedgedModel({_label(self.primary)!r}, backups=[{backups}], "
            f"policy={self.policy.name!r}, max_hedges={self.max_hedges})"
        )

    async def hedge(self, prompt: Prompt, **params: Any) -> HedgeResult[Completion]:
        """Run the hedged call and return the full :class:`HedgeResult`."""
        members = (self.primary, *self.backups)
        calls: list[Callable[[], Awaitable[Completion]]] = [
            functools.partial(m.generate, prompt, **params) for m in members
        ]
        max_tokens = params.get("max_tokens")
        work = Work(
            prompt_tokens=math.ceil(len(_prompt_text(prompt)) / 4),
            max_tokens=max_tokens if isinstance(max_tokens, int) else None,
            model=getattr(self.primary, "name", None),
        )
        return await hedged(
            calls,
            policy=self.policy,
            max_hedges=self.max_hedges,
            budget=self.budget,
            work=work,
            name=self.name,
        )

    async def generate(self, prompt: Prompt, **params: Any) -> Completion:
        """Answer ``prompt`` through the hedged members (see the class docstring)."""
        result = await self.hedge(prompt, **params)
        answered = [
            a.value
            for a in result.attempts
            if a.status in (AttemptStatus.WON, AttemptStatus.COMPLETED)
        ]
        usage = sum((c.usage for c in answered), Usage())
        costs = [c.cost_usd for c in answered if c.cost_usd is not None]
        winner: Completion = result.value
        return attrs.evolve(
            winner,
            usage=usage,
            cost_usd=math.fsum(costs) if costs else None,
            latency_ms=result.latency_ms,
            raw=result,
        )

    async def aclose(self) -> None:
        """Close every member that holds network resources."""
        for member in (self.primary, *self.backups):
            close = getattr(member, "aclose", None)
            if close is not None:
                await close()
