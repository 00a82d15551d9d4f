"""The HTTP machinery shared by real providers: sessions, timeouts, retries and typed errors.

Retries use exponential backoff with full jitter (delay ~ U(0, min(cap, base * 2**(n-1)))),
and honour the provider's ``Retry-After`` (seconds or HTTP-date), ``retry-after-ms`` and
Google's ``RetryInfo.retryDelay`` when given. Only transient failures are retried: 429, 5xx,
timeouts, dropped connections and malformed bodies; 400/401/403/404 are raised at once.
"""

from __future__ import annotations

import asyncio
import email.utils
import json
import os
import random
import time
from abc import ABC, abstractmethod
from collections.abc import Awaitable, Callable, Mapping
from typing import Any, ClassVar

import aiohttp

from crucible.core._config import Config, load_config
from crucible.core._errors import (
    AuthenticationError,
    BadRequestError,
    BadResponseError,
    ConfigurationError,
    ProviderConnectionError,
    ProviderError,
    ProviderTimeoutError,
    RateLimitError,
    ServerError,
)
from crucible.core._model import BaseModel
from crucible.core._pricing import Pricing

__all__ = ["HTTPModel", "Secret", "StreamConsumer", "parse_retry_after"]


class StreamConsumer(ABC):
    """Accumulates a streamed response; providers subclass it to parse their event shapes.

    ``feed`` returns True when the event carried visible text (for the time to first token);
    ``complete`` says whether the stream reached its final event.
    """

    def __init__(self) -> None:
        self.reset()

    def reset(self) -> None:
        self.text_parts: list[str] = []
        self.ttft_ms: float | None = None
        self.complete = False
        self.finish_reason: str | None = None
        self.usage: Any = None
        self.model: str | None = None
        self.response_id: str | None = None
        self.logprobs: list[Any] = []
        self.text_events = 0

    @property
    def text(self) -> str:
        return "".join(self.text_parts)

    @abstractmethod
    def feed(self, event: Any) -> bool:
        """Take one decoded event; return True if it carried visible text."""

    def raw(self) -> dict[str, Any]:
        return {
            "id": self.response_id,
            "model": self.model,
            "streamed": True,
            "usage": self.usage,
            "finish_reason": self.finish_reason,
        }


def _stream_error_status(error: Any) -> int:
    """The HTTP-like status of an error delivered inside a stream (500 when unknown)."""
    if isinstance(error, Mapping):
        for key in ("code", "status"):
            value = error.get(key)
            if isinstance(value, int) and 400 <= value < 600:
                return value
        kind = str(error.get("type", ""))
        if "rate_limit" in kind:
            return 429
        if "overloaded" in kind:
            return 529
        if "authentication" in kind or "permission" in kind:
            return 401
        if "invalid_request" in kind:
            return 400
    return 500


class Secret:
    """An API key that never shows itself in reprs, logs or error messages."""

    __slots__ = ("_value",)

    def __init__(self, value: str) -> None:
        self._value = value

    def reveal(self) -> str:
        return self._value

    def __repr__(self) -> str:
        return "Secret('***')"

    __str__ = __repr__

    def __bool__(self) -> bool:
        return bool(self._value)


def parse_retry_after(
    headers: Mapping[str, str], body: Any = None, *, now: float | None = None
) -> float | None:
    """Seconds to wait from ``retry-after-ms``, ``Retry-After`` (seconds or HTTP-date) or a Google
    ``RetryInfo`` detail in the error body; ``None`` when the provider gave no hint.

    Example:
        >>> parse_retry_after({"Retry-After": "2.5"})
        2.5
    """
    lowered = {k.lower(): v for k, v in headers.items()}
    ms = lowered.get("retry-after-ms")
    if ms is not None:
        try:
            return max(0.0, float(ms) / 1000.0)
        except ValueError:
            pass
    value = lowered.get("retry-after")
    if value is not None:
        value = value.strip()
        try:
            return max(0.0, float(value))
        except ValueError:
            try:
                when = email.utils.parsedate_to_datetime(value)
            except (TypeError, ValueError):
                when = None
            if when is not None:
                current = time.time() if now is None else now
                return max(0.0, when.timestamp() - current)
    if isinstance(body, Mapping):
        details = (
            (body.get("error") or {}).get("details")
            if isinstance(body.get("error"), Mapping)
            else None
        )
        for detail in details or ():
            delay = detail.get("retryDelay") if isinstance(detail, Mapping) else None
            if isinstance(delay, str) and delay.endswith("s"):
                try:
                    return max(0.0, float(delay[:-1]))
                except ValueError:
                    continue
    return None


def _positive_float(name: str) -> Callable[[Any], float]:
    def cast(value: Any) -> float:
        number = float(value)
        if not number > 0:
            raise ValueError(f"`{name}` must be > 0")
        return number

    return cast


def _nonneg_int(value: Any) -> int:
    number = int(value)
    if number < 0:
        raise ValueError("must be >= 0")
    return number


class HTTPModel(BaseModel):
    """A provider reached over HTTP with aiohttp (one pooled session per event loop).

    Options (each also read from ``CRUCIBLE_<PROVIDER>_<NAME>`` / ``CRUCIBLE_<NAME>`` and
    ``crucible.toml``): ``api_key`` (else the provider's usual environment variable),
    ``base_url``, ``timeout_s`` (per attempt, default 60), ``max_retries`` (default 4),
    ``backoff_base_s`` (0.5), ``backoff_max_s`` (30), ``max_retry_after_s`` (120: a longer
    ``Retry-After`` is raised instead of waited).
    """

    api_key_env: ClassVar[tuple[str, ...]] = ()
    default_base_url: ClassVar[str | None] = None
    requires_key: ClassVar[bool] = True

    def __init__(
        self,
        name: str,
        *,
        api_key: str | None = None,
        base_url: str | None = None,
        timeout_s: float | None = None,
        max_retries: int | None = None,
        backoff_base_s: float | None = None,
        backoff_max_s: float | None = None,
        max_retry_after_s: float | None = None,
        headers: Mapping[str, str] | None = None,
        pricing: Pricing | None = None,
        capture_content: bool | None = None,
        config: Config | None = None,
        retry_seed: int | None = None,
    ) -> None:
        cfg = config if config is not None else load_config()
        super().__init__(
            name,
            pricing=pricing if pricing is not None else cfg.pricing(),
            capture_content=capture_content,
        )
        get = cfg.get
        value = cfg.value
        p = self.provider
        self.base_url: str = (
            get("base_url", base_url, provider=p, cast=str, default=self.default_base_url) or ""
        )
        if not self.base_url:
            raise ConfigurationError(
                f"provider {p!r} needs `base_url` (e.g. base_url='http://127.0.0.1:8080/v1'), "
                f"or CRUCIBLE_{p.upper().replace('-', '_')}_BASE_URL"
            )
        if not self.base_url.startswith(("http://", "https://")):
            raise ConfigurationError(
                f"`base_url` must start with http:// or https://, got {self.base_url!r}"
            )
        self.timeout_s: float = value(
            "timeout_s", timeout_s, provider=p, cast=_positive_float("timeout_s"), default=60.0
        )
        self.max_retries: int = value(
            "max_retries", max_retries, provider=p, cast=_nonneg_int, default=4
        )
        self.backoff_base_s: float = value(
            "backoff_base_s",
            backoff_base_s,
            provider=p,
            cast=_positive_float("backoff_base_s"),
            default=0.5,
        )
        self.backoff_max_s: float = value(
            "backoff_max_s",
            backoff_max_s,
            provider=p,
            cast=_positive_float("backoff_max_s"),
            default=30.0,
        )
        self.max_retry_after_s: float = value(
            "max_retry_after_s",
            max_retry_after_s,
            provider=p,
            cast=_positive_float("max_retry_after_s"),
            default=120.0,
        )
        key = api_key if api_key is not None else get("api_key", None, provider=p, cast=str)
        if key is None:
            key = next((v for v in map(os.environ.get, self.api_key_env) if v), None)
        if self.requires_key and not key:
            names = (
                " or ".join(self.api_key_env) or f"CRUCIBLE_{p.upper().replace('-', '_')}_API_KEY"
            )
            raise ConfigurationError(
                f"no API key for provider {p!r}: pass api_key=... or set {names}"
            )
        self._key = Secret(key or "")
        self._extra_headers = dict(headers or {})
        self._rng = random.Random(retry_seed)
        self._session: aiohttp.ClientSession | None = None
        self._session_loop: asyncio.AbstractEventLoop | None = None
        self._sleep: Callable[[float], Awaitable[None]] = asyncio.sleep

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.spec!r}, base_url={self.base_url!r})"

    # --- subclass hooks --------------------------------------------------------------------
    def _auth_headers(self, key: str) -> dict[str, str]:
        return {"Authorization": f"Bearer {key}"} if key else {}

    # --- transport -------------------------------------------------------------------------
    async def _get_session(self) -> aiohttp.ClientSession:
        loop = asyncio.get_running_loop()
        if self._session is None or self._session.closed or self._session_loop is not loop:
            self._session = aiohttp.ClientSession(
                connector=aiohttp.TCPConnector(limit=256, limit_per_host=0),
                json_serialize=json.dumps,
            )
            self._session_loop = loop
        return self._session

    async def aclose(self) -> None:
        """Close the pooled HTTP session."""
        if self._session is not None and not self._session.closed:
            await self._session.close()
        self._session = None

    async def _post_json(
        self, path: str, body: Mapping[str, Any], stream: StreamConsumer | None = None
    ) -> tuple[Any, float, int]:
        """POST ``body`` with retries; returns (parsed JSON, wall ms incl. retries, attempts).

        With ``stream``, the response is read as server-sent events fed to the consumer, which is
        returned in place of the JSON (and records the time to first token).
        """
        url = self.base_url.rstrip("/") + path
        start = time.perf_counter()
        attempt = 0
        while True:
            attempt += 1
            try:
                if stream is not None:
                    stream.reset()
                data = await self._attempt(url, body, stream, start)
                return data, (time.perf_counter() - start) * 1000.0, attempt
            except ProviderError as exc:
                exc.attempts = attempt
                if not exc.retryable or attempt > self.max_retries:
                    raise
                delay = self._delay(attempt, exc)
                if delay is None:
                    raise
                await self._sleep(delay)

    def _delay(self, attempt: int, exc: ProviderError) -> float | None:
        retry_after = getattr(exc, "retry_after_s", None)
        if retry_after is not None:
            return None if retry_after > self.max_retry_after_s else float(retry_after)
        cap = min(self.backoff_max_s, self.backoff_base_s * 2 ** (attempt - 1))
        return self._rng.uniform(0.0, cap)

    async def _attempt(
        self, url: str, body: Mapping[str, Any], stream: StreamConsumer | None, start: float
    ) -> Any:
        session = await self._get_session()
        headers = {
            "Content-Type": "application/json",
            **self._extra_headers,
            **self._auth_headers(self._key.reveal()),
        }
        where: dict[str, Any] = {"provider": self.provider, "model": self.name}
        timeout = (
            aiohttp.ClientTimeout(total=self.timeout_s)
            if stream is None
            else aiohttp.ClientTimeout(
                total=None, sock_connect=self.timeout_s, sock_read=self.timeout_s
            )
        )
        raw = b""
        try:
            async with session.post(url, json=body, headers=headers, timeout=timeout) as response:
                status = response.status
                resp_headers = dict(response.headers)
                if stream is None or status >= 400:
                    raw = await response.read()
                else:
                    await self._read_events(response, stream, start)
                    return stream
        except TimeoutError as exc:
            raise ProviderTimeoutError(
                f"{self.spec}: no response within timeout_s={self.timeout_s:g} s; raise `timeout_s` or retry later",
                **where,
            ) from exc
        except aiohttp.ClientPayloadError as exc:
            raise BadResponseError(
                f"{self.spec}: response body was truncated ({exc})", **where
            ) from exc
        except (aiohttp.ClientConnectionError, aiohttp.ClientOSError) as exc:
            raise ProviderConnectionError(
                f"{self.spec}: cannot reach {self.base_url} ({type(exc).__name__}); check `base_url` "
                "and that the server is running",
                **where,
            ) from exc
        text = raw.decode("utf-8", errors="replace")
        parsed: Any = None
        try:
            parsed = json.loads(text) if text else None
        except json.JSONDecodeError:
            parsed = None
        if status >= 400:
            raise self._http_error(status, resp_headers, parsed, text)
        if parsed is None:
            raise BadResponseError(
                f"{self.spec}: response is not valid JSON (HTTP {status}, {len(raw)} bytes): {self._snippet(text)}",
                status=status,
                **where,
            )
        return parsed

    async def _read_events(
        self, response: aiohttp.ClientResponse, stream: StreamConsumer, start: float
    ) -> None:
        """Feed server-sent events (``data: {...}`` lines) to ``stream`` until ``[DONE]`` or EOF."""
        where: dict[str, Any] = {"provider": self.provider, "model": self.name}
        async for raw_line in response.content:
            line = raw_line.decode("utf-8", errors="replace").strip()
            if not line.startswith("data:"):
                continue
            payload = line[5:].strip()
            if payload == "[DONE]":
                break
            try:
                event = json.loads(payload)
            except json.JSONDecodeError:
                raise BadResponseError(
                    f"{self.spec}: stream event is not valid JSON: {self._snippet(payload)}",
                    **where,
                ) from None
            error = event.get("error") if isinstance(event, Mapping) else None
            if error is not None:
                raise self._http_error(_stream_error_status(error), {}, event, payload)
            if stream.feed(event):
                stream.text_events += 1
                if stream.ttft_ms is None:
                    stream.ttft_ms = (time.perf_counter() - start) * 1000.0
        if not stream.complete:
            raise BadResponseError(
                f"{self.spec}: stream ended before the response was complete", **where
            )

    def _snippet(self, text: str, limit: int = 200) -> str:
        key = self._key.reveal()
        if key:
            text = text.replace(key, "***")
        return repr(text[:limit] + ("..." if len(text) > limit else ""))

    def _http_error(
        self, status: int, headers: Mapping[str, str], body: Any, text: str
    ) -> ProviderError:
        where: dict[str, Any] = {"provider": self.provider, "model": self.name, "status": status}
        detail = self._error_message(body) or self._snippet(text)
        if status == 429:
            retry_after = parse_retry_after(headers, body)
            hint = f"; retry after {retry_after:g} s" if retry_after is not None else ""
            return RateLimitError(
                f"{self.spec}: rate limited (429){hint}: {detail}",
                retry_after_s=retry_after,
                **where,
            )
        if status in (401, 403):
            return AuthenticationError(
                f"{self.spec}: authentication failed ({status}): {detail}; check the API key "
                f"({' or '.join(self.api_key_env) or 'api_key='})",
                **where,
            )
        if status == 408:
            return ProviderTimeoutError(f"{self.spec}: server timed out (408): {detail}", **where)
        if status >= 500:
            return ServerError(f"{self.spec}: server error ({status}): {detail}", **where)
        return BadRequestError(f"{self.spec}: request rejected ({status}): {detail}", **where)

    def _error_message(self, body: Any) -> str | None:
        if isinstance(body, Mapping):
            err = body.get("error")
            if isinstance(err, Mapping) and isinstance(err.get("message"), str):
                return self._snippet(err["message"])
            if isinstance(err, str):
                return self._snippet(err)
        return None

    def _bad_shape(self, what: str, data: Any) -> BadResponseError:
        return BadResponseError(
            f"{self.spec}: unexpected response shape ({what}): {self._snippet(json.dumps(data)[:400])}",
            provider=self.provider,
            model=self.name,
        )
