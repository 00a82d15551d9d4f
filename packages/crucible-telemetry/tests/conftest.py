"""Fixtures for crucible-telemetry tests: spans made by hand with GenAI attributes."""

from __future__ import annotations

from typing import Any

import pytest
from opentelemetry import trace
from opentelemetry.trace import Status, StatusCode

from crucible.core import semconv as sc


def emit_call(
    *,
    model: str = "gpt-4o",
    condition: str | None = "A",
    item_id: str | None = "q1",
    repeat: int = 0,
    latency_ms: float = 100.0,
    cost_usd: float = 0.01,
    input_tokens: int = 10,
    output_tokens: int = 20,
    error: str | None = None,
    extra: dict[str, Any] | None = None,
) -> trace.SpanContext:
    """Start and end one span shaped like crucible-core's model call span; return its context."""
    tracer = trace.get_tracer("crucible.telemetry.tests")
    with tracer.start_as_current_span(f"chat {model}") as span:
        span.set_attribute(sc.GEN_AI_OPERATION_NAME, "chat")
        span.set_attribute(sc.GEN_AI_PROVIDER_NAME, "openai")
        span.set_attribute(sc.GEN_AI_REQUEST_MODEL, model)
        if condition is not None:
            span.set_attribute(sc.CRUCIBLE_CONDITION, condition)
        if item_id is not None:
            span.set_attribute(sc.CRUCIBLE_ITEM_ID, item_id)
        span.set_attribute(sc.CRUCIBLE_REPEAT, repeat)
        span.set_attribute(sc.CRUCIBLE_LATENCY_MS, latency_ms)
        if error is None:
            span.set_attribute(sc.CRUCIBLE_COST_USD, cost_usd)
            span.set_attribute(sc.GEN_AI_USAGE_INPUT_TOKENS, input_tokens)
            span.set_attribute(sc.GEN_AI_USAGE_OUTPUT_TOKENS, output_tokens)
        else:
            span.set_attribute(sc.ERROR_TYPE, error)
            span.set_status(Status(StatusCode.ERROR, error))
        for key, value in (extra or {}).items():
            span.set_attribute(key, value)
        return span.get_span_context()


@pytest.fixture
def call() -> Any:
    return emit_call
