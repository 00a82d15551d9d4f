"""``Ensemble``: several models answer, a voting rule decides, every vote and cost is recorded."""

from __future__ import annotations

import asyncio
import concurrent.futures
import copy
import math
from collections.abc import Callable, Iterable, Sequence
from typing import Any

import attrs
from opentelemetry import trace

from crucible.core import (
    Completion,
    ConfigurationError,
    Item,
    Model,
    Prompt,
    ProviderTimeoutError,
    Usage,
)
from crucible.core import semconv as sc
from crucible.ensemble._execution import ExecutionName, RunContext, ballots, run_strategy
from crucible.ensemble._members import (
    check_costs,
    check_number,
    check_weights,
    label_of,
    price_rank,
    resolve_model,
)
from crucible.ensemble._normalize import Normalizer, NormalizerName, resolve_normalizer
from crucible.ensemble._result import EnsembleResult, MemberResult, QuorumNotMetError
from crucible.ensemble._voting import VotingName, completion_confidence, resolve_voting
from crucible.hedging import HedgeBudget, HedgedModel, HedgePolicy, percentile, resolve_policy

__all__ = ["Ensemble", "WeightFit"]

TRACER_NAME = "crucible.ensemble"
ENSEMBLE_CALLS = "crucible.ensemble.calls"
ENSEMBLE_ABSTAINED = "crucible.ensemble.abstained"


@attrs.frozen(slots=True)
class WeightFit:
    """Weights learned from a validation set.

    Attributes:
        accuracies: member label -> accuracy on the validation items (failures count wrong).
        weights: member label -> weight, ``log(a / (1 - a))`` with the Laplace-smoothed
            accuracy ``a = (correct + 1) / (n + 2)``, floored at 0.001 (Nitzan & Paroush, 1982:
            the optimal weights for independent voters).
        items: how many items were used.
    """

    accuracies: dict[str, float]
    weights: dict[str, float]
    items: int

    def to_dict(self) -> dict[str, Any]:
        return {
            "accuracies": dict(self.accuracies),
            "weights": dict(self.weights),
            "items": self.items,
        }

    def __str__(self) -> str:
        rows = ", ".join(
            f"{m}: accuracy {self.accuracies[m]:.3f}, weight {w:.3f}"
            for m, w in self.weights.items()
        )
        return f"WeightFit on {self.items} items ({rows})"


class Ensemble:
    """Ask several models, normalise their answers, and vote.

    Args:
        models: Model objects or ``provider:name`` specs (resolved with ``get_model``).
        voting: ``"majority"`` (ties: the answer first given by the earliest member wins),
            ``"weighted"``, ``"best_confidence"`` or ``"unanimous"`` (abstains unless all agree).
        execution: ``"parallel"``, ``"sequential"`` (stops once the rest cannot change the
            outcome), ``"hedged"`` (each member call hedged) or ``"cascade"`` (cheapest first).
        normalizer: ``"letter"``, ``"number"``, ``"boolean"``, ``"lowercase_trim"`` or a callable
            ``str -> str | None`` (``None``: no usable answer).
        weights: one non-negative weight per model for ``"weighted"`` (or learn them with
            :meth:`fit_weights`).
        quorum: the fewest usable answers needed (default 1); fewer raise
            :class:`QuorumNotMetError`.
        timeout_s: per-member time limit; a late member counts as failed with
            ``ProviderTimeoutError``. ``None``: no limit.
        hedging: the hedging policy for ``execution="hedged"`` (default ``percentile(95)``); each
            member is hedged against itself (a :class:`~crucible.hedging.HedgedModel` with no
            backups) and gets its own copy of the policy, so each learns its own latency.
        hedge_budget: one :class:`~crucible.hedging.HedgeBudget` shared by every member's
            hedges (extra requests and extra dollars), for ``execution="hedged"``.
        confidence_threshold: cascade accepts an answer at least this confident.
        agreement_threshold: cascade accepts when this share of two or more answers agree.
        costs: per-model cost estimates ordering the cascade (default: the models' price tables,
            else the given order).

    The ensemble is itself a :class:`~crucible.core.Model`: ``generate`` returns a Completion
    whose text is the decided answer, whose cost and usage sum every member call, whose
    ``confidence`` is the consensus and whose ``raw`` is the :class:`EnsembleResult`.

    Example:
        >>> from crucible.core import Item
        >>> ensemble = Ensemble(["sim:gpt-4", "sim:claude-3", "sim:llama-3"], normalizer="letter")
        >>> item = Item("q1", "Pick one", expected="B", metadata={"choices": ["w", "x", "y", "z"]})
        >>> ensemble.predict_sync("Pick one", item=item).answer
        'B'
    """

    def __init__(
        self,
        models: Sequence[Model | str],
        *,
        voting: VotingName | str = VotingName.MAJORITY,
        execution: ExecutionName | str = ExecutionName.PARALLEL,
        normalizer: NormalizerName | str | Normalizer = NormalizerName.LOWERCASE_TRIM,
        weights: Sequence[float] | None = None,
        quorum: int | None = None,
        timeout_s: float | None = 120.0,
        hedging: HedgePolicy | str | None = None,
        hedge_budget: HedgeBudget | None = None,
        confidence_threshold: float = 0.8,
        agreement_threshold: float = 1.0,
        costs: Sequence[float] | None = None,
        name: str | None = None,
    ) -> None:
        if isinstance(models, str | Model) or not isinstance(models, Iterable):
            raise ConfigurationError(
                f"`models` must be a list of Models or spec strings, got {models!r:.80}"
            )
        models = list(models)
        if not models:
            raise ConfigurationError(
                "`models` is empty; give at least one Model or spec string like 'sim:gpt-4'"
            )
        self.models = tuple(resolve_model(m, i) for i, m in enumerate(models))
        n = len(self.models)
        labels: list[str] = []
        for m in self.models:
            base = label_of(m)
            label, k = base, 1
            while label in labels:
                k += 1
                label = f"{base}#{k}"
            labels.append(label)
        self.labels = tuple(labels)
        self._voting = resolve_voting(voting)
        self.voting = self._voting.name
        try:
            self.execution = ExecutionName(execution)
        except ValueError:
            valid = ", ".join(repr(e.value) for e in ExecutionName)
            raise ConfigurationError(f"unknown `execution` {execution!r}; valid: {valid}") from None
        self.normalizer_name, self._normalize = resolve_normalizer(normalizer)
        self.weights = None if weights is None else check_weights(weights, n)
        if quorum is None:
            quorum = 1
        if isinstance(quorum, bool) or not isinstance(quorum, int) or quorum < 1:
            raise ConfigurationError(f"`quorum` must be an int >= 1, got {quorum!r}")
        if quorum > n:
            raise ConfigurationError(
                f"`quorum`={quorum} is larger than the ensemble ({n} models); use at most {n}"
            )
        self.quorum = quorum
        if timeout_s is not None:
            check_number("timeout_s", timeout_s, 0.0, math.inf, open_low=True)
        self.timeout_s = timeout_s
        self.confidence_threshold = check_number("confidence_threshold", confidence_threshold, 0, 1)
        self.agreement_threshold = check_number(
            "agreement_threshold", agreement_threshold, 0, 1, open_low=True
        )
        for argument, value in (("hedging", hedging), ("hedge_budget", hedge_budget)):
            if value is not None and self.execution is not ExecutionName.HEDGED:
                raise ConfigurationError(
                    f"`{argument}` is used only with execution='hedged' "
                    f"(got execution={self.execution.value!r})"
                )
        if hedge_budget is not None and not isinstance(hedge_budget, HedgeBudget):
            raise ConfigurationError(
                f"`hedge_budget` must be a HedgeBudget or None, got {hedge_budget!r:.80}"
            )
        self.hedge_budget = hedge_budget
        self.hedging: HedgePolicy | None = None
        self._callers: tuple[Model, ...] = self.models
        if self.execution is ExecutionName.HEDGED:
            policy = resolve_policy(hedging) if hedging is not None else percentile(95)
            self.hedging = policy
            self._callers = tuple(
                HedgedModel(
                    m, policy=copy.deepcopy(policy), budget=hedge_budget, name=f"hedged({label})"
                )
                for m, label in zip(self.models, self.labels, strict=True)
            )
        ranks: list[float | None]
        if costs is not None:
            ranks = list(check_costs(costs, n))
        else:
            ranks = [price_rank(m) for m in self.models]
        if self.execution is ExecutionName.CASCADE and all(r is not None for r in ranks):
            self.order = tuple(sorted(range(n), key=lambda i: (ranks[i] or 0.0, i)))
        else:
            self.order = tuple(range(n))
        self.name = name or f"ensemble({', '.join(self.labels)})"

    @property
    def spec(self) -> str:
        return self.name

    def __repr__(self) -> str:
        return (
            f"Ensemble([{', '.join(self.labels)}], voting={self.voting!r}, "
            f"execution={self.execution.value!r}, normalizer={self.normalizer_name!r})"
        )

    async def _call(self, i: int, prompt: Prompt, params: dict[str, Any]) -> MemberResult:
        label = self.labels[i]
        weight = 1.0 if self.weights is None else self.weights[i]
        model = self._callers[i]
        try:
            if self.timeout_s is None:
                completion = await model.generate(prompt, **params)
            else:
                async with asyncio.timeout(self.timeout_s) as scope:
                    completion = await model.generate(prompt, **params)
        except TimeoutError as exc:
            if self.timeout_s is None or not scope.expired():
                return MemberResult(i, label, True, error=exc, weight=weight)
            error = ProviderTimeoutError(
                f"ensemble member {label} gave no answer within timeout_s={self.timeout_s:g} s",
                provider=getattr(model, "provider", None),
                model=getattr(model, "name", None),
            )
            return MemberResult(i, label, True, error=error, weight=weight)
        except Exception as exc:
            return MemberResult(i, label, True, error=exc, weight=weight)
        return MemberResult(
            i,
            label,
            True,
            completion=completion,
            answer=self._normalize(completion.text),
            weight=weight,
            confidence=completion_confidence(completion),
        )

    async def predict(
        self, prompt: Prompt, item: Item | None = None, **params: Any
    ) -> EnsembleResult:
        """Ask the members (per the execution strategy), vote, and account for everything.

        ``item`` and any provider or context parameters (``repeat``, ``attempt``,
        ``temperature``, ...) reach every member unchanged.

        Raises:
            QuorumNotMetError: when fewer than ``quorum`` members gave a usable answer (the
                partial result, with every member's error, is on ``.result``).
            ConfigurationError: for weighted voting without weights.
        """
        if self.voting == VotingName.WEIGHTED and self.weights is None:
            raise ConfigurationError(
                "voting='weighted' needs `weights`: pass weights=[...] (one per model) or "
                "await ensemble.fit_weights(validation_items)"
            )
        if item is not None:
            params["item"] = item
        loop = asyncio.get_running_loop()
        tracer = trace.get_tracer(TRACER_NAME)
        with tracer.start_as_current_span(f"ensemble {self.name}") as span:
            start = loop.time()

            def call(i: int) -> Any:
                return self._call(i, prompt, params)

            weights = self.weights or (1.0,) * len(self.models)
            ctx = RunContext(
                call,
                self.order,
                self.labels,
                weights,
                self._voting,
                self.quorum,
                self.confidence_threshold,
                self.agreement_threshold,
            )
            plan = await run_strategy(self.execution, ctx)
            members = tuple(
                plan.results.get(i)
                or MemberResult(i, self.labels[i], False, skipped=plan.skipped, weight=weights[i])
                for i in range(len(self.models))
            )
            answered = [m for m in members if m.completion is not None]
            decision = plan.decision or self._voting.decide(ballots(answered))
            result = EnsembleResult(
                answer=decision.answer,
                consensus=decision.consensus,
                votes={m.member: m.answer for m in answered},
                tally=decision.tally,
                members=members,
                cost_usd=math.fsum(m.cost_usd or 0.0 for m in answered),
                latency_ms=(loop.time() - start) * 1000.0,
                voting=self.voting,
                execution=self.execution.value,
                decided_by=decision.decided_by,
                escalations=plan.escalations,
                calls=sum(m.called for m in members),
            )
            if span.is_recording():
                span.set_attribute(sc.CRUCIBLE_ENSEMBLE_VOTING, self.voting)
                span.set_attribute(sc.CRUCIBLE_ENSEMBLE_EXECUTION, self.execution.value)
                span.set_attribute(sc.CRUCIBLE_ENSEMBLE_CONSENSUS, result.consensus)
                span.set_attribute(sc.CRUCIBLE_COST_USD, result.cost_usd)
                span.set_attribute(ENSEMBLE_CALLS, result.calls)
                span.set_attribute(ENSEMBLE_ABSTAINED, result.abstained)
            usable = sum(m.answer is not None for m in answered)
            if usable < self.quorum:
                problems = "; ".join(
                    f"{m.member}: "
                    + (
                        f"{type(m.error).__name__}: {m.error}"
                        if m.error is not None
                        else ("no usable answer" if m.called else f"not called ({m.skipped})")
                    )
                    for m in members
                    if m.answer is None
                )
                raise QuorumNotMetError(
                    f"only {usable} of {len(members)} members gave a usable answer, "
                    f"quorum is {self.quorum}: {problems}",
                    result,
                )
            return result

    def predict_sync(
        self, prompt: Prompt, item: Item | None = None, **params: Any
    ) -> EnsembleResult:
        """:meth:`predict` from synchronous code; inside a running event loop (a Jupyter
        notebook) it runs on a private loop in a worker thread."""
        try:
            asyncio.get_running_loop()
        except RuntimeError:
            return asyncio.run(self.predict(prompt, item, **params))
        with concurrent.futures.ThreadPoolExecutor(1) as pool:
            return pool.submit(asyncio.run, self.predict(prompt, item, **params)).result()

    async def generate(self, prompt: Prompt, **params: Any) -> Completion:
        """The :class:`~crucible.core.Model` protocol: the decided answer as a Completion (empty
        text with ``finish_reason="abstain"`` when the rule abstained)."""
        result = await self.predict(prompt, **params)
        answered = [m.completion for m in result.members if m.completion is not None]
        costs = [c.cost_usd for c in answered if c.cost_usd is not None]
        return Completion(
            text=result.answer or "",
            model=self.name,
            provider="ensemble",
            usage=sum((c.usage for c in answered), Usage()),
            cost_usd=math.fsum(costs) if costs else None,
            latency_ms=result.latency_ms,
            finish_reason="abstain" if result.abstained else "stop",
            confidence=min(1.0, max(0.0, result.consensus)),
            raw=result,
        )

    async def fit_weights(
        self,
        items: Sequence[Item],
        *,
        prompt: Callable[[Item], Prompt] | None = None,
        **params: Any,
    ) -> WeightFit:
        """Learn voting weights from each member's accuracy on validation ``items`` and use them.

        Each member answers every item (``prompt(item)``, default ``str(item.input)``); an
        answer is correct when its normalised text equals the normalised ``item.expected``.

        Raises:
            ConfigurationError: if ``items`` is empty.
        """
        items = list(items)
        if not items:
            raise ConfigurationError("`items` is empty; give validation items with `expected`")
        render = prompt or (lambda it: it.input if isinstance(it.input, str) else str(it.input))
        correct = [0] * len(self.models)
        for item in items:
            expected = self._normalize(str(item.expected))
            results = await asyncio.gather(
                *(
                    self._call(i, render(item), {**params, "item": item})
                    for i in range(len(self.models))
                )
            )
            for r in results:
                if r.answer is not None and r.answer == expected:
                    correct[r.index] += 1
        n = len(items)
        accuracies = {label: c / n for label, c in zip(self.labels, correct, strict=True)}
        smoothed = [(c + 1) / (n + 2) for c in correct]
        weights = tuple(max(1e-3, math.log(a / (1 - a))) for a in smoothed)
        self.weights = weights
        return WeightFit(accuracies, dict(zip(self.labels, weights, strict=True)), n)

    async def aclose(self) -> None:
        """Close every member that holds network resources."""
        for member in self.models:
            close = getattr(member, "aclose", None)
            if close is not None:
                await close()
