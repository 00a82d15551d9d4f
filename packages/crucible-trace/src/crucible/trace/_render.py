"""Write events as ``<event>`` markup (the inverse of :func:`parse`) and ask models for it."""

from __future__ import annotations

import html
import json
from collections.abc import Iterable

from crucible.trace._chain import Chain
from crucible.trace._errors import EventValidationError
from crucible.trace._event import CORE_TYPES, Event, EventType, check_type

__all__ = ["instrument_prompt", "render"]


def _text(value: str) -> str:
    return html.escape(value, quote=False)


def _attr(value: str) -> str:
    return html.escape(value, quote=True)


def _event(event: Event) -> str:
    attrs = [
        f'type="{_attr(event.type)}"',
        f'id="{_attr(event.id)}"',
        f'time="{event.time.isoformat()}"',
    ]
    if event.confidence is not None:
        attrs.append(f'confidence="{event.confidence!r}"')
    if event.trace_id:
        attrs.append(f'trace_id="{event.trace_id}"')
    if event.span_id:
        attrs.append(f'span_id="{event.span_id}"')
    lines = [f"<event {' '.join(attrs)}>", f"<decision>{_text(event.decision)}</decision>"]
    if event.alternatives:
        items = "".join(f"<alternative>{_text(a)}</alternative>" for a in event.alternatives)
        lines.append(f"<alternatives>{items}</alternatives>")
    if event.reasoning:
        lines.append(f"<reasoning>{_text(event.reasoning)}</reasoning>")
    if event.code_section:
        lines.append(f"<code_section>{_text(event.code_section)}</code_section>")
    if event.spec_reference:
        lines.append(f"<spec_reference>{_text(event.spec_reference)}</spec_reference>")
    if event.metadata:
        dumped = json.dumps(event.metadata, sort_keys=True, ensure_ascii=False)
        lines.append(f"<metadata>{_text(dumped)}</metadata>")
    lines.append("</event>")
    return "\n".join(lines)


def render(events: Chain | Event | Iterable[Event]) -> str:
    """``<event>`` markup for events; :func:`parse` reads it back to equal events (and a chain,
    wrapped in a ``<chain>`` tag, to an equal chain).

    >>> text = render(Event(type="pattern_applied", decision="memoise", trace_id=None, span_id=None))
    >>> text.splitlines()[1]
    '<decision>memoise</decision>'
    """
    if isinstance(events, Event):
        return _event(events)
    if isinstance(events, Chain):
        chain = events
        meta = json.dumps(chain.metadata, sort_keys=True, ensure_ascii=False)
        head = (
            f'<chain id="{_attr(chain.id)}" name="{_attr(chain.name)}" '
            f'created="{chain.created.isoformat()}" metadata="{_attr(meta)}">'
        )
        body = [_event(e) for e in chain.events]
        return "\n".join([head, *body, "</chain>"])
    return "\n".join(_event(e) for e in events)


_DESCRIPTIONS = {
    EventType.HYPOTHESIS_FORMED: "you adopt an approach or an explanation to pursue",
    EventType.ALTERNATIVE_REJECTED: "you set an option aside (say which and why)",
    EventType.CONSTRAINT_EVALUATED: "you check a requirement, limit or edge case",
    EventType.PATTERN_APPLIED: "you apply a known technique, idiom or design pattern",
    EventType.AMBIGUITY_FLAGGED: "the specification is unclear and you pick a reading",
    EventType.CONFIDENCE_UPDATED: "your confidence in the solution changes",
}


def instrument_prompt(
    spec: str,
    *,
    types: Iterable[str | EventType] | None = None,
    strict: bool = True,
) -> str:
    """A prompt asking a model to solve ``spec`` and record its reasoning as ``<event>`` blocks.

    Args:
        spec: the task or specification.
        types: the event types to ask for (default: the six core types). Other identifiers are
            allowed unless ``strict``.

    Raises:
        EventValidationError: ``spec`` is empty, or a type is not core under ``strict``.
    """
    if not isinstance(spec, str) or not spec.strip():
        raise EventValidationError("`spec` must be the non-empty task text")
    wanted = [check_type(str(t), strict=strict) for t in (types or list(EventType))]
    lines = []
    for t in wanted:
        description = _DESCRIPTIONS.get(EventType(t)) if t in CORE_TYPES else None
        lines.append(f"- {t}: {description or 'a step of this kind'}")
    listing = "\n".join(lines)
    example = (
        '<event type="alternative_rejected" confidence="0.8">\n'
        "<decision>Use a dictionary for lookups</decision>\n"
        "<alternatives><alternative>Scan the list each time</alternative></alternatives>\n"
        "<reasoning>Lookups happen in a loop; a scan would be quadratic.</reasoning>\n"
        "<code_section>find_duplicates</code_section>\n"
        "<spec_reference>Performance requirement</spec_reference>\n"
        "</event>"
    )
    return (
        f"{spec.strip()}\n\n"
        "While you work, record each significant decision as an event block, placed just "
        "before the code or text it concerns. Event types:\n"
        f"{listing}\n\n"
        "Each block has a type attribute, an optional confidence attribute (a probability "
        "between 0 and 1), a <decision>, and optionally <alternatives> (one <alternative> "
        "each), <reasoning>, <code_section> and <spec_reference>. Escape < and & in text, or "
        "wrap it in <![CDATA[...]]>. Example:\n\n"
        f"{example}\n\n"
        "Then give your answer as usual; the event blocks will be removed from it."
    )
