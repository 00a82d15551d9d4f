"""Evaluation scores as ``gen_ai.evaluation.result`` events, visible to any OpenTelemetry backend."""

from __future__ import annotations

from typing import Any

from opentelemetry import trace
from opentelemetry.util.types import AttributeValue

from crucible.core import semconv as sc
from crucible.telemetry._errors import TelemetryError
from crucible.telemetry._schema import EVALUATION_EVENT

__all__ = ["record_score"]


def record_score(
    name: str,
    score: float,
    *,
    label: str | None = None,
    span: trace.Span | None = None,
    item_id: str | None = None,
    repeat: int | None = None,
    condition: str | None = None,
    model: str | None = None,
    attributes: dict[str, AttributeValue] | None = None,
) -> None:
    """Record an evaluation score as a ``gen_ai.evaluation.result`` span event.

    The event goes on ``span`` (default: the current span) while that span is still open, as
    the OpenTelemetry GenAI conventions ask; when it has ended (the usual case: you score the
    completion after the call returned), a short span ``evaluation {name}`` is opened as its
    child to carry the event. Under :func:`capture` the event becomes a row named
    ``gen_ai.evaluation.result`` with ``evaluation``, ``score`` and ``score_label`` set, which
    :func:`metrics` uses for accuracy and cost per correct answer.

    Args:
        name: the evaluation (``"exact_match"``, ``"f1"``).
        score: the numeric score (``1.0`` correct, ``0.0`` wrong, or any real value).
        label: a categorical verdict (``"pass"``, ``"fail"``).
        span: the span of the evaluated call (default: the current span).
        item_id, repeat, condition, model: identify the evaluated trial when the span does not.

    Raises:
        TelemetryError: ``name`` is empty or ``score`` is not a finite number.

    Example::

        completion = await model.generate(item.input, item=item)
        record_score("exact_match", float(completion.text == item.expected), item_id=item.id)
    """
    if not isinstance(name, str) or not name:
        raise TelemetryError(f"`name` must be a non-empty string, got {name!r}")
    if isinstance(score, bool) or not isinstance(score, int | float) or score != score:
        raise TelemetryError(f"`score` must be a finite number, got {score!r}")
    if score in (float("inf"), float("-inf")):
        raise TelemetryError(f"`score` must be a finite number, got {score!r}")
    attrs: dict[str, Any] = dict(attributes or {})
    attrs[sc.GEN_AI_EVALUATION_NAME] = name
    attrs[sc.GEN_AI_EVALUATION_SCORE_VALUE] = float(score)
    if label is not None:
        attrs[sc.GEN_AI_EVALUATION_SCORE_LABEL] = label
    for key, value in (
        (sc.CRUCIBLE_ITEM_ID, item_id),
        (sc.CRUCIBLE_REPEAT, repeat),
        (sc.CRUCIBLE_CONDITION, condition),
        (sc.GEN_AI_REQUEST_MODEL, model),
    ):
        if value is not None:
            attrs[key] = value
    target = span if span is not None else trace.get_current_span()
    if target.is_recording():
        target.add_event(EVALUATION_EVENT, attrs)
        return
    tracer = trace.get_tracer(__name__.rsplit(".", 1)[0])
    parent = trace.set_span_in_context(target) if target.get_span_context().is_valid else None
    with tracer.start_as_current_span(f"evaluation {name}", context=parent) as carrier:
        carrier.add_event(EVALUATION_EVENT, attrs)
