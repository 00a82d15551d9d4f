"""Run limits and budgets: concurrency, timeouts, retries, rate limits, dollars and tokens."""

from __future__ import annotations

import math
from collections.abc import Mapping
from enum import StrEnum
from typing import Any

import attrs

from crucible.harness._errors import ExperimentError

__all__ = ["Budget", "Limits", "OnExceed", "RateLimit"]


def _positive_or_none(instance: object, attribute: attrs.Attribute[Any], value: Any) -> None:
    if value is None:
        return
    if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
        raise ExperimentError(
            f"{type(instance).__name__} `{attribute.name}` must be a positive number or None, "
            f"got {value!r}"
        )
    if value <= 0:
        raise ExperimentError(
            f"{type(instance).__name__} `{attribute.name}` must be > 0, got {value!r}"
            + ("; omit it (None) for no limit" if attribute.name in ("usd", "tokens") else "")
        )


def _nonneg(instance: object, attribute: attrs.Attribute[Any], value: Any) -> None:
    if isinstance(value, bool) or not isinstance(value, int | float) or not value >= 0:
        raise ExperimentError(
            f"{type(instance).__name__} `{attribute.name}` must be a number >= 0, got {value!r}"
        )


@attrs.frozen(slots=True)
class RateLimit:
    """A provider's request and token rate limits for one model (or all models of a provider).

    Attributes:
        rpm: requests per minute (a token bucket of one minute's requests).
        tpm: tokens per minute; each call takes its estimated tokens before it starts and the
            bucket is corrected by the actual usage afterwards.
        adaptive: on a 429, halve the request rate and recover it additively on successes
            (AIMD, as TCP congestion control; Jacobson 1988).

    Example:
        >>> RateLimit(rpm=500, tpm=200_000).rpm
        500
    """

    rpm: float | None = attrs.field(default=None, validator=_positive_or_none)
    tpm: float | None = attrs.field(default=None, validator=_positive_or_none)
    adaptive: bool = True

    def to_dict(self) -> dict[str, Any]:
        return {"rpm": self.rpm, "tpm": self.tpm, "adaptive": self.adaptive}


def _rate_limits(value: Mapping[str, RateLimit | Mapping[str, Any]]) -> dict[str, RateLimit]:
    if not isinstance(value, Mapping):
        raise ExperimentError(
            "Limits `rate_limits` must map 'provider' or 'provider:model' to RateLimit"
        )
    out: dict[str, RateLimit] = {}
    for key, limit in value.items():
        out[str(key)] = limit if isinstance(limit, RateLimit) else RateLimit(**dict(limit))
    return out


def _concurrency(instance: object, attribute: attrs.Attribute[Any], value: Any) -> None:
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise ExperimentError(f"Limits `concurrency` must be an int >= 1, got {value!r}")


def _retries(instance: object, attribute: attrs.Attribute[Any], value: Any) -> None:
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        raise ExperimentError(f"Limits `max_retries` must be an int >= 0, got {value!r}")


def _fail_on_error(instance: object, attribute: attrs.Attribute[Any], value: Any) -> None:
    if value is None:
        return
    if isinstance(value, bool) or not isinstance(value, int | float) or value <= 0:
        raise ExperimentError(
            "Limits `fail_on_error` must be a count >= 1, a fraction in (0, 1), or None; "
            f"got {value!r}"
        )


@attrs.frozen(slots=True)
class Limits:
    """How hard the runner may push: concurrency, per-call timeout, retries and rate limits.

    Attributes:
        concurrency: trials in flight at once.
        timeout_s: per-call timeout (``None``: wait as long as the model takes).
        max_retries: retries of a transient failure (``ProviderError.retryable``) per trial.
        backoff_base_s, backoff_max_s: exponential backoff with full jitter between retries:
            a delay drawn from U(0, min(max, base * 2**(n-1))) (Brooker 2015).
        max_retry_after_s: a provider's ``Retry-After`` longer than this is not waited: the
            attempt fails instead.
        rate_limit: the default :class:`RateLimit` of every model.
        rate_limits: per ``"provider"`` or ``"provider:model"`` limits (the most specific wins).
        fail_on_error: stop the run once this many trials (int) or this fraction of finished
            trials (float < 1, after 20 trials) ended in an error.
    """

    concurrency: int = attrs.field(default=16, validator=_concurrency)
    timeout_s: float | None = attrs.field(default=60.0, validator=_positive_or_none)
    max_retries: int = attrs.field(default=4, validator=_retries)
    backoff_base_s: float = attrs.field(default=0.5, validator=_nonneg)
    backoff_max_s: float = attrs.field(default=30.0, validator=_nonneg)
    max_retry_after_s: float = attrs.field(default=120.0, validator=_nonneg)
    rate_limit: RateLimit | None = None
    rate_limits: dict[str, RateLimit] = attrs.field(factory=dict, converter=_rate_limits)
    fail_on_error: int | float | None = attrs.field(default=None, validator=_fail_on_error)

    def rate_limit_for(self, key: str) -> RateLimit | None:
        """The limit of ``provider:model`` key: exact key, then provider, then the default."""
        if key in self.rate_limits:
            return self.rate_limits[key]
        provider = key.partition(":")[0]
        return self.rate_limits.get(provider, self.rate_limit)

    def to_dict(self) -> dict[str, Any]:
        return {
            "concurrency": self.concurrency,
            "timeout_s": self.timeout_s,
            "max_retries": self.max_retries,
            "backoff_base_s": self.backoff_base_s,
            "backoff_max_s": self.backoff_max_s,
            "max_retry_after_s": self.max_retry_after_s,
            "rate_limit": None if self.rate_limit is None else self.rate_limit.to_dict(),
            "rate_limits": {k: v.to_dict() for k, v in self.rate_limits.items()},
            "fail_on_error": self.fail_on_error,
        }


class OnExceed(StrEnum):
    """What a run does when its budget would be exceeded."""

    STOP = "stop"  # stop launching calls, finish in-flight ones, return a partial result
    RAISE = "raise"  # the same, then raise BudgetExceededError carrying the partial result


def _on_exceed(value: OnExceed | str) -> OnExceed:
    try:
        return OnExceed(value)
    except ValueError:
        raise ExperimentError(
            f"Budget `on_exceed` must be one of {', '.join(e.value for e in OnExceed)}, got {value!r}"
        ) from None


@attrs.frozen(slots=True)
class Budget:
    """Spending limits of a run.

    Before each call the runner reserves the call's estimated cost; a call that could take the
    spend (committed + reserved) past the budget is not launched. Calls in flight finish, so a
    run overshoots by at most what the in-flight calls cost beyond their estimates.

    Attributes:
        usd: the most a run may spend, in USD (``None``: no limit).
        tokens: the most tokens (input + output + reasoning) a run may use.
        on_exceed: ``"stop"`` (partial result) or ``"raise"`` (:class:`BudgetExceededError`).
        confirm_above_usd: ``crux run`` asks before starting a run whose estimated billable
            (non-simulated) cost exceeds this (``None``: never ask).

    Example:
        >>> Budget(usd=5.0).on_exceed
        <OnExceed.STOP: 'stop'>
    """

    usd: float | None = attrs.field(default=None, validator=_positive_or_none)
    tokens: int | None = attrs.field(default=None, validator=_positive_or_none)
    on_exceed: OnExceed = attrs.field(default=OnExceed.STOP, converter=_on_exceed)
    confirm_above_usd: float | None = attrs.field(default=1.0)

    def __attrs_post_init__(self) -> None:
        value = self.confirm_above_usd
        if value is not None and (
            isinstance(value, bool) or not isinstance(value, int | float) or value < 0
        ):
            raise ExperimentError(
                f"Budget `confirm_above_usd` must be a number >= 0 or None, got {value!r}"
            )

    @property
    def limited(self) -> bool:
        return self.usd is not None or self.tokens is not None

    def to_dict(self) -> dict[str, Any]:
        return {
            "usd": self.usd,
            "tokens": self.tokens,
            "on_exceed": self.on_exceed.value,
            "confirm_above_usd": self.confirm_above_usd,
        }
