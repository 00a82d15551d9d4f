"""OTLP/HTTP export of captured spans (the ``otlp`` extra, imported only when asked for)."""

from __future__ import annotations

from opentelemetry.sdk.trace import SpanProcessor

from crucible.telemetry._errors import TelemetryError

__all__ = ["otlp_processor"]


def otlp_processor(endpoint: str, *, headers: dict[str, str] | None = None) -> SpanProcessor:
    """A batch span processor sending spans to ``{endpoint}/v1/traces`` as OTLP protobuf.

    Raises:
        TelemetryError: the ``otlp`` extra is not installed, or ``endpoint`` is not an http(s) URL.
    """
    if not isinstance(endpoint, str) or not endpoint.startswith(("http://", "https://")):
        raise TelemetryError(
            f"`otlp_endpoint` must be an http(s) URL such as 'http://localhost:4318', got {endpoint!r}"
        )
    try:
        from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter
    except ImportError as exc:
        raise TelemetryError(
            'OTLP export needs the `otlp` extra: pip install "crucible-telemetry[otlp]"'
        ) from exc
    from opentelemetry.sdk.trace.export import BatchSpanProcessor

    url = endpoint.rstrip("/")
    if not url.endswith("/v1/traces"):
        url += "/v1/traces"
    return BatchSpanProcessor(OTLPSpanExporter(endpoint=url, headers=headers, timeout=10))
