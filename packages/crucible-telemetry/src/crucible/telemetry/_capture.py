"""Capture: route GenAI spans from the OpenTelemetry SDK to the experiment active in the context."""

from __future__ import annotations

import asyncio
import contextlib
import contextvars
import threading
from types import TracebackType
from typing import Self

import polars as pl
from opentelemetry import context as otel_context
from opentelemetry import trace
from opentelemetry.sdk.trace import ReadableSpan, Span, SpanProcessor, TracerProvider

from crucible.core import semconv as sc
from crucible.telemetry._errors import StoreClosedError, TelemetryError
from crucible.telemetry._store import MemoryStore, Store

__all__ = ["Capture", "capture"]

_ACTIVE: contextvars.ContextVar[Capture | None] = contextvars.ContextVar(
    "crucible_telemetry_capture", default=None
)


class _Router(SpanProcessor):
    """The one span processor this package adds to a tracer provider.

    ``on_start`` runs in the context that starts the span, so the capture active there is
    remembered for the span; ``on_end`` turns the span into rows for that capture. Spans started
    outside any capture are matched by their ``crucible.experiment_id`` attribute, else ignored.
    """

    def __init__(self) -> None:
        self._routes: dict[int, Capture] = {}
        self._by_experiment: dict[str, Capture] = {}

    def on_start(self, span: Span, parent_context: otel_context.Context | None = None) -> None:
        active = _ACTIVE.get()
        if active is not None:
            self._routes[span.context.span_id] = active

    def on_end(self, span: ReadableSpan) -> None:
        # The SDK hands on_end a new ReadableSpan object: key routes by span id, not identity.
        ctx = span.context
        target = self._routes.pop(ctx.span_id, None) if ctx is not None else None
        attributes = span.attributes
        if target is None:
            if not attributes or not self._by_experiment:
                return
            target = self._by_experiment.get(str(attributes.get(sc.CRUCIBLE_EXPERIMENT_ID)))
            if target is None:
                return
        target._receive(span)

    def shutdown(self) -> None:
        self._routes.clear()

    def force_flush(self, timeout_millis: int = 30000) -> bool:
        return True


_ROUTER = _Router()
_INSTALLED: set[int] = set()
_INSTALL_LOCK = threading.Lock()


def _install(provider: TracerProvider | None) -> TracerProvider:
    with _INSTALL_LOCK:
        if provider is None:
            current = trace.get_tracer_provider()
            if not isinstance(current, TracerProvider):
                if isinstance(current, trace.ProxyTracerProvider):
                    trace.set_tracer_provider(TracerProvider())
                    current = trace.get_tracer_provider()
                if not isinstance(current, TracerProvider):
                    raise TelemetryError(
                        f"the global tracer provider is a {type(current).__name__}, not the "
                        "OpenTelemetry SDK's TracerProvider; pass `tracer_provider=` an SDK "
                        "TracerProvider to capture from"
                    )
            provider = current
        elif not isinstance(provider, TracerProvider):
            raise TelemetryError(
                f"`tracer_provider` must be an opentelemetry.sdk.trace.TracerProvider, got "
                f"{type(provider).__name__}"
            )
        if id(provider) not in _INSTALLED:
            provider.add_span_processor(_ROUTER)
            _INSTALLED.add(id(provider))
        return provider


class Capture:
    """An active capture: spans started in its context are stored as events of ``experiment_id``.

    Use it through :func:`capture` as a ``with`` or ``async with`` block. Attributes:
    ``experiment_id``, ``store``, ``spans_captured`` (spans routed to the store so far) and
    ``dropped`` (spans that ended after the store was closed).
    """

    def __init__(
        self,
        experiment_id: str,
        store: Store,
        tracer_provider: TracerProvider | None,
        forward: SpanProcessor | None,
    ) -> None:
        self.experiment_id = experiment_id
        self.store = store
        self.spans_captured = 0
        self.dropped = 0
        self._provider = tracer_provider
        self._forward = forward
        self._token: contextvars.Token[Capture | None] | None = None
        self._entered = False

    def __repr__(self) -> str:
        return f"Capture({self.experiment_id!r}, store={self.store!r})"

    def _receive(self, span: ReadableSpan) -> None:
        if self._forward is not None:
            self._forward.on_end(span)
        try:
            self.store.append(span, self.experiment_id)
        except StoreClosedError:
            self.dropped += 1
            return
        self.spans_captured += 1

    def frame(self) -> pl.DataFrame:
        """This experiment's committed events as a polars DataFrame."""
        return self.store.frame().filter(pl.col("experiment") == self.experiment_id)

    # --- context management ---------------------------------------------------------------

    def _enter(self) -> Self:
        if self._entered:
            raise TelemetryError(
                f"capture {self.experiment_id!r} is already active; call capture(...) again for a "
                "new block"
            )
        self._entered = True
        _install(self._provider)
        self._token = _ACTIVE.set(self)
        _ROUTER._by_experiment.setdefault(self.experiment_id, self)
        return self

    def _leave(self) -> None:
        if self._token is not None:
            # Left from another context (a task finished elsewhere): nothing to restore there.
            with contextlib.suppress(ValueError):
                _ACTIVE.reset(self._token)
            self._token = None
        if _ROUTER._by_experiment.get(self.experiment_id) is self:
            del _ROUTER._by_experiment[self.experiment_id]

    def _finish(self) -> None:
        if self._forward is not None:
            self._forward.force_flush()
            self._forward.shutdown()
        if not self.store.closed:
            self.store.flush()

    def __enter__(self) -> Self:
        return self._enter()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self._leave()
        self._finish()

    async def __aenter__(self) -> Self:
        return self._enter()

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self._leave()
        # Committing and exporting block on I/O: keep the event loop free meanwhile.
        await asyncio.to_thread(self._finish)


def capture(
    experiment_id: str,
    *,
    store: Store | None = None,
    tracer_provider: TracerProvider | None = None,
    otlp_endpoint: str | None = None,
    otlp_headers: dict[str, str] | None = None,
) -> Capture:
    """Capture the GenAI spans of one experiment into ``store``.

    Every span started inside the block (in this thread or task, and in the tasks and threads
    that inherit its context) and carrying ``gen_ai.*`` or ``crucible.*`` attributes becomes an
    event row of ``experiment_id``; two captures running concurrently in one process never see
    each other's spans. Pending rows are committed when the block exits.

    Args:
        experiment_id: the experiment the events belong to.
        store: where events go (default: a new :class:`MemoryStore`).
        tracer_provider: the SDK provider to capture from (default: the global one; if none is
            set yet, an SDK provider is installed globally).
        otlp_endpoint: also send this capture's spans to an OTLP/HTTP collector at this base URL
            (``http://localhost:4318``); needs ``pip install "crucible-telemetry[otlp]"``.
        otlp_headers: HTTP headers for the collector (authentication).

    Example::

        with capture("exp-1", store=DuckDBStore("run.duckdb")) as cap:
            asyncio.run(model.generate("2+2?"))
        metrics(cap.store)

    Raises:
        TelemetryError: ``experiment_id`` is empty, ``store`` is not a store, or the tracer
            provider is not the OpenTelemetry SDK's.
    """
    if not isinstance(experiment_id, str) or not experiment_id:
        raise TelemetryError(f"`experiment_id` must be a non-empty string, got {experiment_id!r}")
    if store is not None and not isinstance(store, Store):
        raise TelemetryError(
            f"`store` must be a MemoryStore or DuckDBStore, got {type(store).__name__}"
        )
    forward = None
    if otlp_endpoint is not None:
        from crucible.telemetry._otlp import otlp_processor

        forward = otlp_processor(otlp_endpoint, headers=otlp_headers)
    return Capture(
        experiment_id, store if store is not None else MemoryStore(), tracer_provider, forward
    )
