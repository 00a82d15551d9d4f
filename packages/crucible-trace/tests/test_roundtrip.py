"""Laws: parse(render(chain)) == chain, and JSON and the store round-trip too."""

from __future__ import annotations

import json
import string
from datetime import UTC

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from crucible.trace import CORE_TYPES, Chain, Event, extract_code, parse, render

# Any printable or control text except surrogates (which no encoding can hold).
TEXT = st.text(st.characters(blacklist_categories=("Cs",)), max_size=40)
NONEMPTY = TEXT.filter(lambda s: s.strip() != "")
TYPES = st.one_of(
    st.sampled_from(sorted(CORE_TYPES)),
    st.from_regex(r"[a-z][a-z0-9_]{0,15}", fullmatch=True),
)
JSON = st.recursive(
    st.none()
    | st.booleans()
    | st.integers(-(2**53), 2**53)
    | st.floats(allow_nan=False, allow_infinity=False)
    | TEXT,
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(TEXT, inner, max_size=3),
    max_leaves=6,
)
HEX = string.hexdigits[:16]
EVENTS = st.builds(
    Event,
    type=TYPES,
    decision=NONEMPTY,
    alternatives=st.lists(TEXT, max_size=3),
    reasoning=TEXT,
    confidence=st.none() | st.floats(0, 1),
    code_section=st.none() | TEXT,
    spec_reference=st.none() | TEXT,
    metadata=st.dictionaries(TEXT, JSON, max_size=3),
    trace_id=st.none() | st.text(HEX, min_size=32, max_size=32),
    span_id=st.none() | st.text(HEX, min_size=16, max_size=16),
    time=st.datetimes(timezones=st.just(UTC)),
)
CHAINS = st.builds(
    Chain,
    name=TEXT,
    events=st.lists(EVENTS, max_size=4),
    created=st.datetimes(timezones=st.just(UTC)),
    metadata=st.dictionaries(TEXT, JSON, max_size=2),
)

FAST = settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])


@FAST
@given(CHAINS)
def test_parse_of_render_is_identity(chain: Chain) -> None:
    result = parse(render(chain))
    assert result.ok, result.problems
    assert result.chain() == chain


@FAST
@given(st.lists(EVENTS, max_size=3), TEXT)
def test_extract_code_removes_exactly_the_events(events: list[Event], code: str) -> None:
    code = code.replace("<", "").replace("&", "").strip("\n")
    text = f"{render(events)}\n{code}" if events else code
    assert extract_code(text).strip() == extract_code(code).strip()
    assert "<event" not in extract_code(text)


@FAST
@given(CHAINS)
def test_json_round_trip(chain: Chain) -> None:
    assert Chain.from_dict(json.loads(json.dumps(chain.to_dict()))) == chain


@FAST
@given(EVENTS)
def test_confidence_is_a_probability(event: Event) -> None:
    assert event.confidence is None or 0.0 <= event.confidence <= 1.0
