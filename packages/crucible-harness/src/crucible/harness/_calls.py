"""One trial: call the model (with rate limits, budget, timeout and retries), then score it."""

from __future__ import annotations

import asyncio
import json
import math
import random
import time
from collections import Counter
from collections.abc import Mapping
from typing import Any, cast

from opentelemetry import trace

from crucible.core import (
    Completion,
    CrucibleError,
    Item,
    Model,
    Pricing,
    Prompt,
    ProviderError,
    ProviderTimeoutError,
    RateLimitError,
    Seeds,
    Usage,
    prompt_text,
)
from crucible.core import semconv as sc
from crucible.harness._budget import BudgetGuard, CallEstimate
from crucible.harness._experiment import Condition, Experiment, TrialContext, score_value
from crucible.harness._ratelimit import ModelLimiter, backoff_delay
from crucible.harness._store import score_column
from crucible.telemetry import record_score

__all__ = ["CostModel", "TrialRunner", "model_key"]

_TRACER = trace.get_tracer("crucible.harness")
_DEFAULT_OUTPUT_TOKENS = 256


def consensus_of(completion: Completion) -> tuple[float, int, str] | None:
    """(agreement, members, votes as JSON) when the completion came from a vote.

    Detected by shape, not type: ``raw`` (a mapping or an object) with ``votes`` — member ->
    answer, or answer -> count — and ``members`` (a count or a sequence), as ensembles report
    them. Agreement is the most common answer's share of the members.
    """
    raw = completion.raw
    if raw is None:
        return None
    if isinstance(raw, Mapping):
        votes, members = raw.get("votes"), raw.get("members")
    else:
        votes, members = getattr(raw, "votes", None), getattr(raw, "members", None)
    if not isinstance(votes, Mapping) or not votes or members is None:
        return None
    values = list(votes.values())
    if all(isinstance(v, int | float) and not isinstance(v, bool) for v in values):
        counts = {str(k): float(v) for k, v in votes.items()}
    else:
        counts = dict(Counter(str(v) for v in values if v is not None))
    if not counts:
        return None
    if isinstance(members, int | float):
        total = int(members)
    else:
        try:
            total = len(members)
        except TypeError:
            return None
    total = max(total, int(sum(counts.values())))
    return max(counts.values()) / total, total, json.dumps(counts, sort_keys=True)


def _now() -> float:
    """Seconds since the epoch; the store turns them into UTC timestamps in its own thread."""
    return time.time()


def model_key(cond: Condition, model: Any) -> str:
    """The rate-limit key of a condition's model: its ``provider:model`` spec when it has one."""
    spec = getattr(model, "spec", None)
    return spec if isinstance(spec, str) else f"condition:{cond.name}"


class CostModel:
    """Per-condition cost and token estimates: the price table before the first answers,
    then the observed means."""

    def __init__(self, cond: Condition, model: Any) -> None:
        self.max_tokens = cond.params.get("max_tokens")
        price = None
        pricing = getattr(model, "pricing", None)
        provider, name = getattr(model, "provider", None), getattr(model, "name", None)
        if isinstance(pricing, Pricing) and isinstance(provider, str) and isinstance(name, str):
            price = pricing.lookup(provider, name)
        self.price = price
        self.calls = 0
        self.cost = 0.0
        self.priced_calls = 0
        self.output_tokens = 0

    def output_guess(self) -> int:
        if isinstance(self.max_tokens, int) and self.max_tokens > 0:
            return self.max_tokens
        if self.calls:
            return math.ceil(self.output_tokens / self.calls)
        return _DEFAULT_OUTPUT_TOKENS

    def estimate(self, prompt_tokens: int) -> CallEstimate:
        out = self.output_guess()
        price = self.price
        if price is not None:
            usd: float | None = (prompt_tokens * price.input + out * price.output) / 1e6
        elif self.priced_calls:
            usd = self.cost / self.priced_calls
        else:
            usd = None
        return CallEstimate(usd, prompt_tokens + out)

    def observe(self, completion: Completion) -> None:
        self.calls += 1
        self.output_tokens += completion.usage.output_tokens + completion.usage.reasoning_tokens
        if completion.cost_usd is not None:
            self.priced_calls += 1
            self.cost += completion.cost_usd


def prompt_tokens(prompt: Prompt) -> int:
    """A provider-independent estimate: about four characters per token."""
    return max(1, math.ceil(len(prompt_text(prompt)) / 4))


class TrialRunner:
    """Runs trials of one experiment; shared by the workers of a run."""

    def __init__(
        self,
        experiment: Experiment,
        experiment_id: str,
        session: int,
        guard: BudgetGuard,
        limiters: dict[str, ModelLimiter],
        *,
        trace_trials: bool = False,
    ) -> None:
        self.trace_trials = trace_trials
        self.experiment = experiment
        self.experiment_id = experiment_id
        self.session = session
        self.guard = guard
        self.limiters = limiters
        self.limits = experiment.limits
        self.seeds = Seeds(experiment.seed)
        self.rng = random.Random(experiment.seed)
        self.costs = {
            c.name: CostModel(c, experiment.models[c.name]) for c in experiment.conditions
        }
        self.keys = {c.name: model_key(c, experiment.models[c.name]) for c in experiment.conditions}

    async def _call(
        self, cond: Condition, item: Item, prompt: Prompt, repeat: int, attempt: int
    ) -> Completion:
        model = self.experiment.models[cond.name]
        if cond.is_pipeline:
            context = TrialContext(
                experiment_id=self.experiment_id,
                condition=cond.name,
                repeat=repeat,
                attempt=attempt,
                seed=self.seeds.integer("trial", cond.name, item.id, repeat),
                prompt=prompt,
                params=cond.params,
            )
            result = await model(item, context)  # type: ignore[operator]
        else:
            result = await cast(Model, model).generate(
                prompt,
                item=item,
                repeat=repeat,
                attempt=attempt,
                condition=cond.name,
                experiment_id=self.experiment_id,
                **cond.params,
            )
        if isinstance(result, str):
            return Completion(text=result, model=cond.name, provider="custom")
        if not isinstance(result, Completion):
            raise TypeError(
                f"condition {cond.name!r} returned {type(result).__name__}; a model or pipeline "
                "must return a crucible.core.Completion (or a string)"
            )
        return result

    async def _timed(
        self, cond: Condition, item: Item, prompt: Prompt, repeat: int, attempt: int
    ) -> Completion:
        timeout = self.limits.timeout_s
        if timeout is None:
            return await self._call(cond, item, prompt, repeat, attempt)
        try:
            # asyncio.timeout cancels the call in place (wait_for would wrap it in a new task).
            async with asyncio.timeout(timeout):
                return await self._call(cond, item, prompt, repeat, attempt)
        except TimeoutError as exc:
            if isinstance(exc, ProviderError):
                raise
            raise ProviderTimeoutError(
                f"condition {cond.name!r}: no answer within timeout_s={timeout:g} s",
                model=self.keys[cond.name],
            ) from None

    async def run(
        self, cond: Condition, item: Item, repeat: int, order: int
    ) -> tuple[dict[str, Any], list[dict[str, Any]]] | None:
        """Run one trial; ``None`` when the budget stopped it before it finished."""
        if not self.trace_trials:
            return await self._attempts(cond, item, repeat, order)
        attributes: dict[str, str | int] = {
            sc.CRUCIBLE_EXPERIMENT_ID: self.experiment_id,
            sc.CRUCIBLE_CONDITION: cond.name,
            sc.CRUCIBLE_ITEM_ID: item.id,
            sc.CRUCIBLE_REPEAT: repeat,
        }
        with _TRACER.start_as_current_span(f"trial {cond.name}", attributes=attributes) as span:
            outcome = await self._attempts(cond, item, repeat, order)
            if outcome is not None and span.is_recording():
                record, _ = outcome
                span.set_attribute(sc.CRUCIBLE_ATTEMPTS, record["attempts"])
                if record["error_type"] is not None:
                    span.set_attribute(sc.ERROR_TYPE, record["error_type"])
                for name in self.experiment.scorer_names:
                    value = record[score_column(name)]
                    if value is not None and math.isfinite(value):
                        record_score(
                            name,
                            value,
                            span=span,
                            item_id=item.id,
                            repeat=repeat,
                            condition=cond.name,
                        )
            return outcome

    async def _attempts(
        self, cond: Condition, item: Item, repeat: int, order: int
    ) -> tuple[dict[str, Any], list[dict[str, Any]]] | None:
        limits = self.limits
        prompt = cond.render(item)
        tokens = prompt_tokens(prompt)
        cost_model = self.costs[cond.name]
        limiter = self.limiters.get(self.keys[cond.name])
        attempts: list[dict[str, Any]] = []
        started = _now()
        t_start = time.perf_counter()
        completion: Completion | None = None
        error: BaseException | None = None
        attempt = 0
        while True:
            estimate = cost_model.estimate(tokens)
            if not self.guard.reserve(estimate):
                return None
            waited = await limiter.acquire(estimate.tokens) if limiter is not None else 0.0
            at = _now()
            t0 = time.perf_counter()
            try:
                completion = await self._timed(cond, item, prompt, repeat, attempt)
            except (CrucibleError, Exception) as exc:
                self.guard.settle(estimate, None, 0)
                if limiter is not None:
                    limiter.settle(estimate.tokens, 0)
                error = exc
            else:
                usage = completion.usage
                used = usage.input_tokens + usage.output_tokens + usage.reasoning_tokens
                self.guard.settle(estimate, completion.cost_usd, used)
                cost_model.observe(completion)
                if limiter is not None:
                    limiter.settle(estimate.tokens, used)
                    limiter.succeeded()
                error = None
            retryable = isinstance(error, ProviderError) and error.retryable
            retry_after = getattr(error, "retry_after_s", None)
            attempts.append(
                {
                    "condition": cond.name,
                    "item_id": item.id,
                    "repeat": repeat,
                    "attempt": attempt,
                    "error_type": None if error is None else type(error).__name__,
                    "error_message": None if error is None else str(error)[:2000],
                    "retryable": None if error is None else retryable,
                    "retry_after_s": retry_after,
                    "waited_s": waited,
                    "duration_ms": (time.perf_counter() - t0) * 1000.0,
                    "started_at": at,
                    "session": self.session,
                }
            )
            if error is None or not retryable or attempt >= limits.max_retries:
                break
            if isinstance(error, RateLimitError) and limiter is not None:
                limiter.rate_limited(retry_after)
            if retry_after is not None:
                if retry_after > limits.max_retry_after_s:
                    break
                delay = float(retry_after)
            else:
                delay = backoff_delay(
                    attempt + 1, limits.backoff_base_s, limits.backoff_max_s, self.rng
                )
            if delay > 0:
                await asyncio.sleep(delay)
            attempt += 1
        record = self._record(cond, item, repeat, order, completion, error, attempt + 1)
        record["started_at"] = started
        record["wall_ms"] = (time.perf_counter() - t_start) * 1000.0
        return record, attempts

    def _record(
        self,
        cond: Condition,
        item: Item,
        repeat: int,
        order: int,
        completion: Completion | None,
        error: BaseException | None,
        attempts: int,
    ) -> dict[str, Any]:
        scores: dict[str, float | None] = {
            score_column(s): None for s in self.experiment.scorer_names
        }
        error_type = None if error is None else type(error).__name__
        error_message = None if error is None else str(error)[:2000]
        if completion is not None:
            for scorer in self.experiment.scorers:
                try:
                    scores[score_column(scorer.name)] = score_value(
                        scorer(completion.text, item), scorer.name
                    )
                except Exception as exc:
                    error_type = f"ScorerError:{type(exc).__name__}"
                    error_message = f"scorer {scorer.name!r}: {exc}"[:2000]
        usage = completion.usage if completion is not None else Usage()
        return {
            "condition": cond.name,
            "item_id": item.id,
            "repeat": repeat,
            "order": order,
            "prediction": None if completion is None else completion.text,
            **scores,
            "model": None if completion is None else completion.model,
            "provider": None if completion is None else completion.provider,
            "finish_reason": None if completion is None else completion.finish_reason,
            "input_tokens": usage.input_tokens,
            "output_tokens": usage.output_tokens,
            "cached_input_tokens": usage.cached_input_tokens,
            "reasoning_tokens": usage.reasoning_tokens,
            "cost_usd": None if completion is None else completion.cost_usd,
            "latency_ms": None if completion is None else completion.latency_ms,
            "ttft_ms": None if completion is None else completion.ttft_ms,
            "wall_ms": 0.0,
            "error_type": error_type,
            "error_message": error_message,
            "attempts": attempts,
            "started_at": None,
            "finished_at": _now(),
            "session": self.session,
            "consensus": None if completion is None else consensus_of(completion),
        }
