"""Normalisers turn free text into comparable votes."""

from __future__ import annotations

import pytest

from crucible.core import ConfigurationError
from crucible.ensemble import (
    normalize_boolean,
    normalize_letter,
    normalize_number,
    normalize_text,
    resolve_normalizer,
)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("B", "B"),
        (" c ", "C"),
        ("(D)", "D"),
        ("A.", "A"),
        ("The answer is C.", "C"),
        ("Answer: (b)", "B"),
        ("B) 42", "B"),
        ("I cannot tell", None),
        ("", None),
    ],
)
def test_letter(text: str, expected: str | None) -> None:
    assert normalize_letter(text) == expected


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("42", "42"),
        ("42.0", "42"),
        ("-3.50", "-3.5"),
        ("$1,234", "1234"),
        ("so 3 apples plus 4 is 7.", "7"),
        ("#### 18", "18"),
        ("no digits", None),
    ],
)
def test_number(text: str, expected: str | None) -> None:
    assert normalize_number(text) == expected


@pytest.mark.parametrize(
    ("text", "expected"),
    [("Yes", "true"), ("TRUE.", "true"), ("no way", "false"), ("Incorrect", "false"), ("?", None)],
)
def test_boolean(text: str, expected: str | None) -> None:
    assert normalize_boolean(text) == expected


def test_lowercase_trim() -> None:
    assert normalize_text("  The  Eiffel Tower. ") == "the eiffel tower"
    assert normalize_text('"Paris"') == "paris"
    assert normalize_text("   ") is None


def test_resolve_builtin_and_custom() -> None:
    assert resolve_normalizer("number")[0] == "number"

    def first_word(text: str) -> str | None:
        return text.split()[0].lower() if text.split() else None

    name, fn = resolve_normalizer(first_word)
    assert (name, fn("Paris is nice")) == ("first_word", "paris")
    with pytest.raises(
        ConfigurationError,
        match="unknown `normalizer` 'roman'; valid: 'letter', 'number', 'boolean', 'lowercase_trim'",
    ):
        resolve_normalizer("roman")
    with pytest.raises(ConfigurationError, match="`normalizer` must be one of"):
        resolve_normalizer(3)  # type: ignore[arg-type]
