"""The one error hierarchy every Crucible package raises from.

Every message names the argument (or the provider) at fault and says how to fix it.
"""

from __future__ import annotations

__all__ = [
    "AuthenticationError",
    "BadRequestError",
    "BadResponseError",
    "BudgetExceededError",
    "ConfigurationError",
    "CrucibleError",
    "DatasetError",
    "ProviderConnectionError",
    "ProviderError",
    "ProviderTimeoutError",
    "RateLimitError",
    "ServerError",
    "ValidationError",
]


class CrucibleError(Exception):
    """Root of every error raised by a Crucible package."""


class ConfigurationError(CrucibleError, ValueError):
    """A setting, argument or model spec is invalid; the message says which and how to fix it."""


class ValidationError(CrucibleError, ValueError):
    """A value failed validation (bad argument or malformed data)."""


class DatasetError(CrucibleError):
    """A dataset could not be loaded, downloaded or verified."""


class BudgetExceededError(CrucibleError):
    """A cost or token budget would be exceeded."""


class ProviderError(CrucibleError):
    """A model provider call failed.

    Attributes:
        provider: the provider name (``"openai"``, ``"sim"``, ...).
        model: the model name, when known.
        status: the HTTP status code, when there was a response.
        retryable: whether retrying the same request may succeed.
        attempts: how many attempts were made before giving up.
    """

    retryable: bool = False

    def __init__(
        self,
        message: str,
        *,
        provider: str | None = None,
        model: str | None = None,
        status: int | None = None,
        attempts: int = 1,
    ) -> None:
        super().__init__(message)
        self.provider = provider
        self.model = model
        self.status = status
        self.attempts = attempts

    def __reduce__(self) -> tuple[object, ...]:
        # Keep keyword attributes across pickling (process pools, multiprocessing).
        return (
            _rebuild_provider_error,
            (
                type(self),
                str(self),
                self.provider,
                self.model,
                self.status,
                self.attempts,
                getattr(self, "retry_after_s", None),
            ),
        )


def _rebuild_provider_error(
    cls: type[ProviderError],
    message: str,
    provider: str | None,
    model: str | None,
    status: int | None,
    attempts: int,
    retry_after_s: float | None,
) -> ProviderError:
    err = cls.__new__(cls)
    ProviderError.__init__(
        err, message, provider=provider, model=model, status=status, attempts=attempts
    )
    if retry_after_s is not None or isinstance(err, RateLimitError):
        err.retry_after_s = retry_after_s  # type: ignore[attr-defined]
    return err


class RateLimitError(ProviderError):
    """The provider answered 429 (or an equivalent quota error).

    Attributes:
        retry_after_s: the delay the provider asked for in ``Retry-After``, if any.
    """

    retryable = True

    def __init__(
        self, message: str, *, retry_after_s: float | None = None, **kwargs: object
    ) -> None:
        super().__init__(message, **kwargs)  # type: ignore[arg-type]
        self.retry_after_s = retry_after_s


class ProviderTimeoutError(ProviderError, TimeoutError):
    """The provider did not answer within the per-request timeout."""

    retryable = True


class ServerError(ProviderError):
    """The provider answered with a 5xx status (or an overload error)."""

    retryable = True


class ProviderConnectionError(ProviderError):
    """The provider could not be reached (connection refused, reset or DNS failure)."""

    retryable = True


class BadResponseError(ProviderError):
    """The provider's response could not be parsed (truncated, not JSON, wrong shape)."""

    retryable = True


class AuthenticationError(ProviderError):
    """The API key is missing, invalid or lacks permission (401/403)."""


class BadRequestError(ProviderError):
    """The provider rejected the request itself (400/404/422): fix the request, do not retry."""
