"""Hedging policies: when to send the next copy of a slow request.

A policy answers one question, "how many milliseconds after the call started does hedge number
``level`` fire?", and learns from what it observes. Single-delay policies fire hedge ``k`` at
``k * delay`` (successive delays); :func:`tiered` states each level's delay explicitly.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from enum import StrEnum
from typing import Protocol, runtime_checkable

import attrs

from crucible.core import ConfigurationError
from crucible.hedging._window import LatencyWindow

__all__ = [
    "FixedDelay",
    "HedgePolicy",
    "Observation",
    "PercentileDelay",
    "PolicyName",
    "Tiered",
    "Work",
    "WorkloadAwareDelay",
    "fixed",
    "percentile",
    "tiered",
    "workload_aware",
]


class PolicyName(StrEnum):
    """The built-in hedging policies."""

    FIXED = "fixed"
    PERCENTILE = "percentile"
    ADAPTIVE = "adaptive"
    WORKLOAD_AWARE = "workload_aware"
    TIERED = "tiered"


@attrs.frozen(slots=True)
class Work:
    """How much work a request asks for, for :func:`workload_aware` delays.

    Attributes:
        prompt_tokens: input tokens (estimate: characters / 4).
        max_tokens: the output cap, when the request sets one.
        model: the model's name (``"gpt-4"``), for per-model factors.
    """

    prompt_tokens: int = 0
    max_tokens: int | None = None
    model: str | None = None


@attrs.frozen(slots=True)
class Observation:
    """One attempt's outcome, as a policy sees it.

    Attributes:
        latency_ms: time from the attempt's launch to its answer or, when ``completed`` is
            False, to the moment it was cancelled (a lower bound: a censored observation).
        completed: whether the attempt answered.
        attempt: 0 for the primary, ``k`` for hedge ``k``.
        work: the request's work estimate, when known.
    """

    latency_ms: float
    completed: bool
    attempt: int = 0
    work: Work | None = None


@runtime_checkable
class HedgePolicy(Protocol):
    """When to hedge. ``delay_ms`` may return ``math.inf`` for "do not hedge (yet)"."""

    @property
    def name(self) -> str:
        """The policy's name (a :class:`PolicyName` value for built-ins)."""
        ...

    def delay_ms(self, level: int, work: Work | None = None) -> float:
        """Milliseconds after the call started at which hedge ``level`` (1-based) fires."""
        ...

    def observe(self, observation: Observation) -> None:
        """Learn from one attempt's outcome."""
        ...


def _nonneg_ms(name: str, value: float) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float) or not value >= 0:
        raise ConfigurationError(f"`{name}` must be a number of milliseconds >= 0, got {value!r}")
    return float(value)


def _percent(value: float) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float) or not 0 < value < 100:
        raise ConfigurationError(f"`p` must be a percentile in (0, 100), e.g. 95; got {value!r}")
    return float(value)


def _min_samples(value: int) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise ConfigurationError(f"`min_samples` must be an int >= 1, got {value!r}")
    return value


def _check_level(level: int) -> None:
    if level < 1:
        raise ConfigurationError(f"hedge `level` is 1-based, got {level}")


@attrs.define(slots=True)
class FixedDelay:
    """Hedge ``k`` fires ``k * delay_ms`` after the call started."""

    delay: float

    @property
    def name(self) -> str:
        return PolicyName.FIXED.value

    def delay_ms(self, level: int, work: Work | None = None) -> float:
        _check_level(level)
        return self.delay * level

    def observe(self, observation: Observation) -> None:
        """A fixed delay learns nothing."""


def fixed(delay_ms: float) -> FixedDelay:
    """Hedge after a fixed delay (hedge ``k`` at ``k * delay_ms``).

    Raises:
        ConfigurationError: if ``delay_ms`` is negative or not a number.

    Example:
        >>> fixed(250).delay_ms(2)
        500.0
    """
    return FixedDelay(_nonneg_ms("delay_ms", delay_ms))


@attrs.define(slots=True)
class PercentileDelay:
    """Hedge at the ``p``-th percentile of the primary's recent latencies (Dean & Barroso, 2013).

    Until ``min_samples`` primaries were observed the delay is ``initial_delay_ms`` (``inf``:
    no hedging until the percentile is known).

    Censoring: when a hedge wins, the primary is cancelled at time ``c`` after launch, and it is
    recorded as ``c``. Since ``c`` is beyond the hedge delay (close to the percentile itself),
    the count of observations *below* the percentile, which is all an empirical quantile depends
    on, stays right: ignoring cancelled primaries would drop exactly the slow ones and drag the
    delay down, a feedback loop that ends in hedging everything.
    """

    p: float
    window: LatencyWindow
    min_samples: int
    initial_delay_ms: float

    @property
    def name(self) -> str:
        return PolicyName.PERCENTILE.value

    @property
    def learned(self) -> bool:
        """Whether enough latencies were seen to use the percentile."""
        return len(self.window) >= self.min_samples

    def current_ms(self) -> float:
        """The current single-hedge delay."""
        if not self.learned:
            return self.initial_delay_ms
        return self.window.quantile(self.p / 100.0)

    def delay_ms(self, level: int, work: Work | None = None) -> float:
        _check_level(level)
        return self.current_ms() * level

    def observe(self, observation: Observation) -> None:
        if observation.attempt == 0:
            self.window.add(observation.latency_ms)


def percentile(
    p: float = 95.0,
    *,
    window: int = 1000,
    min_samples: int = 50,
    initial_delay_ms: float = math.inf,
) -> PercentileDelay:
    """Hedge at the ``p``-th percentile of recent primary latencies, learned online.

    Args:
        p: the percentile (0-100) of primary latency at which to hedge; P95 hedges about 5 % of
            calls.
        window: how many recent latencies to keep (bounded memory; old ones drop out).
        min_samples: observations needed before the percentile is used.
        initial_delay_ms: the delay before that (default: no hedging until learned).

    Example:
        >>> policy = percentile(90, min_samples=10)
        >>> for ms in range(100, 1100, 100):
        ...     policy.observe(Observation(float(ms), completed=True))
        >>> policy.delay_ms(1)
        900.0
    """
    return PercentileDelay(
        _percent(p),
        LatencyWindow(window),
        _min_samples(min_samples),
        _nonneg_ms("initial_delay_ms", initial_delay_ms),
    )


@attrs.define(slots=True)
class WorkloadAwareDelay:
    """Delay = a learned percentile of (latency / expected latency) times the request's expected
    latency, where expected latency is ``factor(model) * (base + a * prompt + b * max_tokens)``.

    A long generation is not a straggler just because it takes longer than a short one: scaling
    by expected work hedges the request that is slow *for its size*.
    """

    p: float
    base_ms: float
    ms_per_prompt_token: float
    ms_per_output_token: float
    default_max_tokens: int
    model_factors: dict[str, float]
    initial_multiplier: float
    min_samples: int
    window: LatencyWindow

    @property
    def name(self) -> str:
        return PolicyName.WORKLOAD_AWARE.value

    def expected_ms(self, work: Work | None) -> float:
        """The expected latency of a request of this size."""
        w = work if work is not None else Work()
        max_tokens = w.max_tokens if w.max_tokens is not None else self.default_max_tokens
        factor = self.model_factors.get(w.model or "", 1.0)
        return factor * (
            self.base_ms
            + self.ms_per_prompt_token * w.prompt_tokens
            + self.ms_per_output_token * max_tokens
        )

    def multiplier(self) -> float:
        """The current percentile of observed latency / expected latency."""
        if len(self.window) < self.min_samples:
            return self.initial_multiplier
        return self.window.quantile(self.p / 100.0)

    def delay_ms(self, level: int, work: Work | None = None) -> float:
        _check_level(level)
        return self.multiplier() * self.expected_ms(work) * level

    def observe(self, observation: Observation) -> None:
        if observation.attempt != 0:
            return
        expected = self.expected_ms(observation.work)
        if expected > 0:
            self.window.add(observation.latency_ms / expected)


def workload_aware(
    p: float = 95.0,
    *,
    base_ms: float = 250.0,
    ms_per_prompt_token: float = 0.2,
    ms_per_output_token: float = 15.0,
    default_max_tokens: int = 256,
    model_factors: Mapping[str, float] | None = None,
    initial_multiplier: float = 3.0,
    window: int = 1000,
    min_samples: int = 50,
) -> WorkloadAwareDelay:
    """Hedge at a delay scaled by the request's expected work (prompt tokens, max tokens, model).

    Args:
        p: the percentile of latency / expected latency at which to hedge.
        base_ms, ms_per_prompt_token, ms_per_output_token: the expected-latency model.
        default_max_tokens: output tokens assumed when a request sets no ``max_tokens``.
        model_factors: per-model slowness factors (``{"gpt-4": 1.5}``), 1 for unlisted models.
        initial_multiplier: delay / expected latency until ``min_samples`` were observed.

    Example:
        >>> policy = workload_aware(base_ms=100, ms_per_prompt_token=0, ms_per_output_token=10)
        >>> policy.delay_ms(1, Work(max_tokens=10)), policy.delay_ms(1, Work(max_tokens=90))
        (600.0, 3000.0)
    """
    for name, value in (
        ("base_ms", base_ms),
        ("ms_per_prompt_token", ms_per_prompt_token),
        ("ms_per_output_token", ms_per_output_token),
        ("initial_multiplier", initial_multiplier),
    ):
        _nonneg_ms(name, value)
    if isinstance(default_max_tokens, bool) or not isinstance(default_max_tokens, int):
        raise ConfigurationError(f"`default_max_tokens` must be an int, got {default_max_tokens!r}")
    factors = dict(model_factors or {})
    for model, factor in factors.items():
        if not isinstance(factor, int | float) or not factor > 0:
            raise ConfigurationError(
                f"`model_factors[{model!r}]` must be a number > 0, got {factor!r}"
            )
    return WorkloadAwareDelay(
        _percent(p),
        float(base_ms),
        float(ms_per_prompt_token),
        float(ms_per_output_token),
        default_max_tokens,
        {k: float(v) for k, v in factors.items()},
        float(initial_multiplier),
        _min_samples(min_samples),
        LatencyWindow(window),
    )


@attrs.define(slots=True)
class Tiered:
    """Multi-level hedging: level ``k`` fires at its own delay (ms from the call's start)."""

    levels: tuple[float | HedgePolicy, ...]

    @property
    def name(self) -> str:
        return PolicyName.TIERED.value

    def delay_ms(self, level: int, work: Work | None = None) -> float:
        _check_level(level)
        if level > len(self.levels):
            return math.inf
        spec = self.levels[level - 1]
        return float(spec) if isinstance(spec, int | float) else spec.delay_ms(1, work)

    def observe(self, observation: Observation) -> None:
        for spec in self.levels:
            if not isinstance(spec, int | float):
                spec.observe(observation)


def tiered(*levels: float | HedgePolicy) -> Tiered:
    """Multi-level hedging: hedge ``k`` fires at ``levels[k-1]`` ms after the call started (a
    number) or at that policy's single-hedge delay. Pair it with a list of calls (same model, a
    faster model, another provider) so each level reaches a different backend.

    Raises:
        ConfigurationError: if no level is given, a number is negative, or a level is neither a
            number nor a policy.

    Example:
        >>> tiered(500, 1500, 4000).delay_ms(2)
        1500.0
    """
    if not levels:
        raise ConfigurationError("`tiered` needs at least one level delay (ms) or policy")
    checked: list[float | HedgePolicy] = []
    for i, spec in enumerate(levels):
        if isinstance(spec, int | float) and not isinstance(spec, bool):
            checked.append(_nonneg_ms(f"levels[{i}]", spec))
        elif isinstance(spec, HedgePolicy):
            checked.append(spec)
        else:
            raise ConfigurationError(
                f"`levels[{i}]` must be a delay in ms or a hedging policy, got {spec!r}"
            )
    return Tiered(tuple(checked))
