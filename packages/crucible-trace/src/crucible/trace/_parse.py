"""Parse ``<event type="...">`` blocks out of model output, tolerating what models get wrong.

Models drop closing tags, forget the ``>``, write ``85%`` or ``1.7`` for a probability, wrap
code in CDATA or escape it with entities. Each block is recovered where the intent is clear and
reported (per event, with line and column) where it is not.
"""

from __future__ import annotations

import html
import json
import re
from datetime import datetime
from typing import Any

import attrs

from crucible.trace._chain import Chain
from crucible.trace._errors import EventValidationError, TraceParseError
from crucible.trace._event import Event, check_type, current_span_ids
from crucible.trace._scan import (
    ATTR,
    BULLET,
    child_tags,
    decode_text,
    event_blocks,
    line_offsets,
    locate,
    mask_cdata,
)

__all__ = ["ParseProblem", "ParseResult", "parse"]


@attrs.frozen
class ParseProblem:
    """Something wrong with one ``<event>`` block.

    ``event`` is the block's position among the blocks found (0-based); ``line`` and ``column``
    (1-based) locate its opening tag; ``recovered`` says whether the event was still kept.
    """

    event: int
    line: int
    column: int
    message: str
    recovered: bool

    def to_dict(self) -> dict[str, Any]:
        return attrs.asdict(self)

    def __str__(self) -> str:
        state = "recovered" if self.recovered else "dropped"
        return (
            f"line {self.line}, column {self.column}: event {self.event}: {self.message} ({state})"
        )


@attrs.frozen
class ParseResult:
    """The events parsed from a text, and every problem met on the way."""

    events: tuple[Event, ...]
    problems: tuple[ParseProblem, ...]
    chain_fields: dict[str, Any] = attrs.field(factory=dict, eq=False)

    def to_dict(self) -> dict[str, Any]:
        """Events and problems as JSON-ready dicts."""
        return {
            "events": [e.to_dict() for e in self.events],
            "problems": [p.to_dict() for p in self.problems],
        }

    def __str__(self) -> str:
        return f"{len(self.events)} events, {len(self.problems)} problems"

    @property
    def ok(self) -> bool:
        """Whether there were no problems at all."""
        return not self.problems

    def chain(self, name: str | None = None, *, strict: bool = False) -> Chain:
        """The events as a :class:`Chain` (with the ``<chain>`` tag's id, name, creation time
        and metadata when the text had one)."""
        fields = dict(self.chain_fields)
        if name is not None:
            fields["name"] = name
        return Chain(events=list(self.events), strict=strict, **fields)

    def raise_on_problems(self) -> ParseResult:
        """Raise :class:`TraceParseError` listing the problems, if any; else return ``self``."""
        if self.problems:
            listed = "; ".join(str(p) for p in self.problems)
            raise TraceParseError(
                f"{len(self.problems)} problem(s) in events: {listed}", self.problems
            )
        return self


def _alternatives(contents: list[str]) -> list[str]:
    out: list[str] = []
    for content in contents:
        masked = mask_cdata(content)
        items, _ = child_tags(masked, content)
        if "alternative" in items:
            out.extend(decode_text(v) for v in items["alternative"])
            continue
        for line in decode_text(content).splitlines():
            item = BULLET.sub("", line).strip()
            if item:
                out.append(item)
    return out


def _confidence(value: str, notes: list[str], errors: list[str]) -> float | None:
    text = value.strip()
    percent = text.endswith("%")
    try:
        number = float(text.rstrip("%").strip())
    except ValueError:
        errors.append(f"confidence {value!r} is not a number; give a probability such as 0.8")
        return None
    if percent:
        number /= 100
        notes.append(f"confidence {value!r} read as {number:g}")
    elif number > 1 and number <= 100 and re.fullmatch(r"\d+", text):
        notes.append(f"confidence {value!r} read as a percentage, {number / 100:g}")
        number /= 100
    if not 0 <= number <= 1:
        errors.append(
            f"confidence {value!r} is outside [0, 1]; give a probability such as 0.8 "
            "(confidence left empty)"
        )
        return None
    return number


def parse(text: str, *, strict: bool = False) -> ParseResult:
    """Extract reasoning events from model output.

    Recognises ``<event type="..." [confidence=".."] [id=".."]>`` blocks with child tags
    ``<decision>``, ``<alternatives>`` (``<alternative>`` items or one per line),
    ``<reasoning>``, ``<confidence>``, ``<code_section>``, ``<spec_reference>`` and
    ``<metadata>`` (a JSON object). Entities are decoded and CDATA kept verbatim. A block with no
    child tags uses its text as the decision. Events carry the trace and span ids of the current
    OpenTelemetry span unless the block names its own.

    Args:
        strict: reject (drop and report) events whose type is not one of the six core types.

    Returns:
        A :class:`ParseResult`; ``problems`` says, per block, what was recovered and what was
        dropped. Call ``.raise_on_problems()`` to turn problems into an error.

    >>> result = parse('<event type="pattern_applied"><decision>memoise</decision></event>')
    >>> result.events[0].decision
    'memoise'
    """
    if not isinstance(text, str):
        raise TraceParseError(f"`text` must be a string, got {type(text).__name__}")
    masked = mask_cdata(text)
    trace_id, span_id = current_span_ids()
    events: list[Event] = []
    problems: list[ParseProblem] = []
    starts = line_offsets(text)
    for index, block in enumerate(event_blocks(masked)):
        m, start, end, closed = block
        line, column = locate(starts, m.start())
        notes: list[str] = []
        errors: list[str] = []
        if not closed:
            notes.append("missing </event>")
        if m.group("gt") is None:
            notes.append("opening <event> tag not closed by '>'")
        event = _build(m, masked[start:end], text[start:end], notes, errors, strict)
        event_fields = event if isinstance(event, dict) else None
        kept: Event | None = None
        if event_fields is not None:
            event_fields.setdefault("trace_id", trace_id)
            event_fields.setdefault("span_id", span_id)
            try:
                kept = Event(**event_fields)
            except EventValidationError as exc:
                errors.append(str(exc))
        for message in errors:
            problems.append(ParseProblem(index, line, column, message, kept is not None))
        for message in notes:
            problems.append(ParseProblem(index, line, column, message, kept is not None))
        if kept is not None:
            events.append(kept)
    return ParseResult(tuple(events), tuple(problems), _chain_fields(text))


def _build(
    m: re.Match[str], masked: str, raw: str, notes: list[str], errors: list[str], strict: bool
) -> dict[str, Any] | None:
    attrs_ = {
        k.lower(): html.unescape(a or b or c) for k, a, b, c in ATTR.findall(m.group("attrs"))
    }
    children, child_notes = child_tags(masked, raw)
    notes.extend(child_notes)
    values = {
        k: decode_text(v[0])
        for k, v in children.items()
        if k not in ("alternatives", "alternative")
    }
    fields: dict[str, Any] = {}
    type_ = attrs_.get("type") or values.get("type")
    if not type_:
        errors.append('no event type; write <event type="hypothesis_formed"> (or another type)')
        return None
    try:
        fields["type"] = check_type(type_, strict=strict)
    except EventValidationError as exc:
        errors.append(str(exc))
        return None
    decision = values.get("decision") or attrs_.get("decision")
    if not decision:
        if children:
            errors.append("no <decision>; say what was decided inside <decision>...</decision>")
            return None
        decision = decode_text(raw)
        if decision:
            notes.append("no <decision> tag; the event's text was used as the decision")
    fields["decision"] = decision
    alternatives = [*children.get("alternatives", []), *children.get("alternative", [])]
    if alternatives:
        if "alternatives" in children:
            fields["alternatives"] = _alternatives(children["alternatives"])
            if "alternative" in children:
                fields["alternatives"] += [decode_text(v) for v in children["alternative"]]
        else:
            fields["alternatives"] = [decode_text(v) for v in children["alternative"]]
    for key in ("reasoning", "code_section", "spec_reference"):
        value = values.get(key) or attrs_.get(key)
        if value:
            fields[key] = value
    confidence = values.get("confidence") or attrs_.get("confidence")
    if confidence:
        fields["confidence"] = _confidence(confidence, notes, errors)
    if values.get("metadata"):
        try:
            metadata = json.loads(values["metadata"])
            if not isinstance(metadata, dict):
                raise ValueError("not an object")
            fields["metadata"] = metadata
        except ValueError:
            errors.append("<metadata> is not a JSON object; it was left out")
    for key in ("id", "trace_id", "span_id"):
        value = attrs_.get(key) or values.get(key)
        if value:
            fields[key] = value
    time = attrs_.get("time") or values.get("time")
    if time:
        try:
            fields["time"] = datetime.fromisoformat(time)
        except ValueError:
            errors.append(f"time {time!r} is not ISO-8601; the parse time was used")
    return fields


def _chain_fields(text: str) -> dict[str, Any]:
    m = re.search(r"<chain\b([^<>]*)>", text, re.IGNORECASE)
    if m is None:
        return {}
    found = {k.lower(): html.unescape(a or b or c) for k, a, b, c in ATTR.findall(m.group(1))}
    fields: dict[str, Any] = {}
    for key in ("id", "name", "created"):
        if key in found:
            fields[key] = found[key]
    if "metadata" in found:
        try:
            metadata = json.loads(found["metadata"])
        except ValueError:
            metadata = None
        if isinstance(metadata, dict):
            fields["metadata"] = metadata
    return fields
