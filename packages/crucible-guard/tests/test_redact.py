from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from crucible.core import ValidationError
from crucible.guard import find_pii, redact, restore

SAMPLES = [
    "ann@example.org",
    "bob.smith@corp.example.com",
    "4111 1111 1111 1111",
    "123-45-6789",
    "+44 20 7946 0958",
    "(212) 555-0123",
    "192.168.1.20",
    "GB82 WEST 1234 5698 7654 32",
    "AKIAIOSFODNN7EXAMPLE",
    "https://example.com/x",
]


def test_placeholder_same_value_same_placeholder() -> None:
    r = redact("a ann@example.org b bob@example.org c ann@example.org 123-45-6789")
    assert r.text == "a [EMAIL_1] b [EMAIL_2] c [EMAIL_1] [SSN_1]"
    assert r.mapping == {
        "[EMAIL_1]": "ann@example.org",
        "[EMAIL_2]": "bob@example.org",
        "[SSN_1]": "123-45-6789",
    }
    assert (
        restore(r.text, r.mapping)
        == "a ann@example.org b bob@example.org c ann@example.org 123-45-6789"
    )


def test_existing_placeholders_are_not_reused() -> None:
    r = redact("[EMAIL_1] is taken; ann@example.org")
    assert r.text == "[EMAIL_1] is taken; [EMAIL_2]"


def test_mapping_continues_across_calls() -> None:
    first = redact("ann@example.org")
    second = redact("bob@example.org and ann@example.org", mapping=first.mapping)
    assert second.text == "[EMAIL_2] and [EMAIL_1]"


def test_mask_and_partial() -> None:
    assert redact("card 4111 1111 1111 1111", strategy="mask").text == "card " + "*" * 19
    r = redact("card 4111 1111 1111 1111", strategy="partial")
    assert r.text == "card " + "*" * 15 + "1111"
    assert r.mapping == {}


def test_hash_is_salted_and_stable_within_salt() -> None:
    a = redact("ann@example.org", strategy="hash", salt="s1").text
    b = redact("ann@example.org", strategy="hash", salt="s1").text
    c = redact("ann@example.org", strategy="hash", salt="s2").text
    assert a == b != c
    assert a.startswith("[EMAIL:") and not any(ch.isdigit() for ch in a)


def test_callable_and_per_type_strategies() -> None:
    r = redact("ann@example.org 123-45-6789", strategy=lambda kind, value: f"<{kind}>")
    assert r.text == "<email> <ssn>"
    r = redact("ann@example.org 123-45-6789", strategy={"email": "mask", "*": "partial"})
    assert r.text == "*" * 15 + " " + "*******6789"


def test_types_limit_what_is_redacted() -> None:
    assert redact("ann@example.org 123-45-6789", types=["ssn"]).text == "ann@example.org [SSN_1]"


@pytest.mark.parametrize("bad", ["", None, 3])
def test_bad_text(bad: object) -> None:
    with pytest.raises(ValidationError, match="`text`"):
        redact(bad)  # type: ignore[arg-type]


def test_unknown_strategy_lists_valid() -> None:
    with pytest.raises(ValidationError, match="placeholder, mask, partial, hash"):
        redact("ann@example.org", strategy="shred")


def test_unknown_type_lists_valid() -> None:
    with pytest.raises(ValidationError, match="valid kinds are email"):
        redact("ann@example.org", types=["mail"])


words = st.lists(
    st.one_of(
        st.sampled_from(SAMPLES),
        st.text(alphabet="abcdefghij klmnopqrstuvwxyzé😀,.", min_size=1, max_size=12),
    ),
    min_size=1,
    max_size=8,
)


@settings(max_examples=60, deadline=None)
@given(words, st.sampled_from(["placeholder", "mask", "partial", "hash"]))
def test_redaction_is_idempotent_and_leaves_no_value(parts: list[str], strategy: str) -> None:
    text = " ".join(parts)
    once = redact(text, strategy=strategy, salt="x")
    twice = redact(once.text, strategy=strategy, salt="x")
    assert twice.text == once.text
    assert find_pii(once.text) == []
    for f in once.findings:
        assert f.value not in once.text
    if strategy in ("placeholder", "hash"):
        assert restore(once.text, once.mapping) == text


def test_to_dict() -> None:
    data = redact("mail ann@example.org").to_dict()
    assert data["text"] == "mail [EMAIL_1]"
    assert data["findings"] == [
        {"kind": "email", "start": 5, "end": 20, "value": "ann@example.org", "confidence": 0.95}
    ]
