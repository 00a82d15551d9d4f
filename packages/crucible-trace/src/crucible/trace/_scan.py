"""Finding ``<event>`` blocks and their child tags in text, CDATA-aware; and removing them."""

from __future__ import annotations

import bisect
import html
import re

from crucible.trace._errors import TraceParseError

__all__ = [
    "ATTR",
    "BULLET",
    "child_tags",
    "decode_text",
    "event_block_end",
    "event_blocks",
    "extract_code",
    "line_offsets",
    "locate",
    "mask_cdata",
]

_OPEN = re.compile(r"<event\b(?P<attrs>[^<>\n]*)(?P<gt>>)?", re.IGNORECASE)
_CLOSE = re.compile(r"</event\s*>", re.IGNORECASE)
_CHAIN_TAG = re.compile(r"</?chain\b[^<>]*>", re.IGNORECASE)
ATTR = re.compile(r"""([A-Za-z_][\w.-]*)\s*=\s*(?:"([^"]*)"|'([^']*)'|([^\s"'>/]+))""")
_CDATA = re.compile(r"<!\[CDATA\[(.*?)(?:\]\]>|\Z)", re.DOTALL)
_FIELDS = (
    "decision",
    "alternatives",
    "alternative",
    "reasoning",
    "confidence",
    "code_section",
    "spec_reference",
    "metadata",
    "type",
    "id",
    "time",
    "trace_id",
    "span_id",
)
_CHILD_OPEN = re.compile(r"<(" + "|".join(_FIELDS) + r")\b[^<>]*>", re.IGNORECASE)
BULLET = re.compile(r"^\s*(?:[-*•]|\d+[.)])\s+")


def mask_cdata(text: str) -> str:
    """``text`` with CDATA contents blanked (same length), so tags inside them are not seen."""

    def blank(m: re.Match[str]) -> str:
        inner_start, inner_end = m.span(1)
        return (
            m.group(0)[: inner_start - m.start()]
            + " " * (inner_end - inner_start)
            + m.group(0)[inner_end - m.start() :]
        )

    return _CDATA.sub(blank, text)


def decode_text(raw: str) -> str:
    """Content text: CDATA kept verbatim, everything else entity-decoded."""
    out: list[str] = []
    pos = 0
    for m in _CDATA.finditer(raw):
        out.append(html.unescape(raw[pos : m.start()]))
        out.append(m.group(1))
        pos = m.end()
    out.append(html.unescape(raw[pos:]))
    return "".join(out).strip()


def line_offsets(text: str) -> list[int]:
    return [0, *(m.end() for m in re.finditer("\n", text))]


def locate(starts: list[int], index: int) -> tuple[int, int]:
    line = bisect.bisect_right(starts, index)
    return line, index - starts[line - 1] + 1


def event_blocks(masked: str) -> list[tuple[re.Match[str], int, int, bool]]:
    """Each event block: its opening-tag match, body start and end, and whether it was closed."""
    opens = list(_OPEN.finditer(masked))
    blocks = []
    for i, m in enumerate(opens):
        limit = opens[i + 1].start() if i + 1 < len(opens) else len(masked)
        close = _CLOSE.search(masked, m.end(), limit)
        if close is not None:
            blocks.append((m, m.end(), close.start(), True))
            continue
        # Unclosed: the body ends after the last closed child tag before the next event.
        region = masked[m.end() : limit]
        ends = [c.end() for c in re.finditer(r"</(?:" + "|".join(_FIELDS) + r")\s*>", region, re.I)]
        if ends:
            end = m.end() + max(ends)
        else:
            para = re.search(r"\n\s*\n", region)
            end = m.end() + (para.start() if para else len(region))
        blocks.append((m, m.end(), end, False))
    return blocks


def event_block_end(masked: str, block: tuple[re.Match[str], int, int, bool]) -> int:
    _, _, end, closed = block
    if closed:
        close = _CLOSE.match(masked, end)
        return close.end() if close else end
    return end


def child_tags(masked: str, raw: str) -> tuple[dict[str, list[str]], list[str]]:
    """Child tag contents by name (decoded later), and notes about unclosed children."""
    found: dict[str, list[str]] = {}
    notes: list[str] = []
    opens = list(_CHILD_OPEN.finditer(masked))
    skip_until = -1
    for i, m in enumerate(opens):
        if m.start() < skip_until:
            continue
        name = m.group(1).lower()
        close = re.compile(rf"</{name}\s*>", re.IGNORECASE).search(masked, m.end())
        if name == "alternatives":
            end = close.start() if close else len(masked)
            if close is None:
                notes.append("unclosed <alternatives> tag")
            found.setdefault(name, []).append(raw[m.end() : end])
            skip_until = close.end() if close else len(masked)
            continue
        following = [o.start() for o in opens[i + 1 :] if o.start() >= m.end()]
        nxt = following[0] if following else len(masked)
        if close is not None and close.start() <= nxt:
            found.setdefault(name, []).append(raw[m.end() : close.start()])
            skip_until = close.end()
        else:
            notes.append(f"unclosed <{name}> tag")
            found.setdefault(name, []).append(raw[m.end() : nxt])
    return found, notes


def extract_code(text: str) -> str:
    """``text`` without its ``<event>`` blocks and ``<chain>`` tags: the answer or code the
    model wrote around its reasoning events.

    >>> extract_code('<event type="pattern_applied"><decision>x</decision></event>\\ndef f(): ...')
    'def f(): ...'
    """
    if not isinstance(text, str):
        raise TraceParseError(f"`text` must be a string, got {type(text).__name__}")
    masked = mask_cdata(text)
    cuts = [(b[0].start(), event_block_end(masked, b)) for b in event_blocks(masked)]
    cuts += [(m.start(), m.end()) for m in _CLOSE.finditer(masked)]
    cuts += [(m.start(), m.end()) for m in _CHAIN_TAG.finditer(masked)]
    keep: list[str] = []
    pos = 0
    for start, end in sorted(cuts):
        if start < pos:
            pos = max(pos, end)
            continue
        keep.append(text[pos:start])
        pos = end
    keep.append(text[pos:])
    out = "".join(keep)
    out = re.sub(r"[ \t]+\n", "\n", out)
    out = re.sub(r"\n{3,}", "\n\n", out)
    return out.strip("\n")
