"""Normalisers: turn a member's free text into a comparable vote (or ``None``: no usable answer)."""

from __future__ import annotations

import re
from collections.abc import Callable
from decimal import Decimal, InvalidOperation
from enum import StrEnum

from crucible.core import ConfigurationError

__all__ = [
    "Normalizer",
    "NormalizerName",
    "normalize_boolean",
    "normalize_letter",
    "normalize_number",
    "normalize_text",
    "resolve_normalizer",
]

Normalizer = Callable[[str], str | None]


class NormalizerName(StrEnum):
    """The built-in normalisers."""

    LETTER = "letter"
    NUMBER = "number"
    BOOLEAN = "boolean"
    LOWERCASE_TRIM = "lowercase_trim"


_BARE_LETTER = re.compile(r"^\(?([A-Ja-j])\)?[.:)]?$")
_ANSWER_LETTER = re.compile(
    r"\b(?:answer|option|choice)\s*(?:is|:|=)?\s*(?:option\s*)?\(?([A-J])\b\)?", re.IGNORECASE
)
_LEADING_LETTER = re.compile(r"^\(?([A-J])[).:]\s")
_NUMBER = re.compile(r"-?\$?\d[\d,]*(?:\.\d+)?|-?\$?\.\d+")
_TRUE = frozenset({"yes", "true", "correct", "y"})
_FALSE = frozenset({"no", "false", "incorrect", "n"})
_WORD = re.compile(r"[a-z]+")
_SPACE = re.compile(r"\s+")


def normalize_letter(text: str) -> str | None:
    """A multiple-choice letter A-J from ``"B"``, ``"(b)"``, ``"C."``, ``"The answer is D"`` or
    ``"A) Paris"``; ``None`` when no letter is found.

    Example:
        >>> [normalize_letter(t) for t in ("b", "(C)", "The answer is D.", "A) Paris", "none")]
        ['B', 'C', 'D', 'A', None]
    """
    stripped = text.strip()
    for pattern in (_BARE_LETTER, _ANSWER_LETTER, _LEADING_LETTER):
        match = pattern.search(stripped)
        if match is not None:
            return match.group(1).upper()
    return None


def normalize_number(text: str) -> str | None:
    """The last number in the text, canonical (``"1,234.50"`` -> ``"1234.5"``, ``"$7"`` -> ``"7"``).

    Example:
        >>> [normalize_number(t) for t in ("42", "It costs $1,234.50.", "x = -0.250", "none")]
        ['42', '1234.5', '-0.25', None]
    """
    found = _NUMBER.findall(text)
    if not found:
        return None
    token = found[-1].replace(",", "").replace("$", "")
    try:
        value = Decimal(token)
    except InvalidOperation:
        return None
    if value == value.to_integral_value():
        return str(int(value))
    return format(value.normalize(), "f")


def normalize_boolean(text: str) -> str | None:
    """``"true"`` / ``"false"`` from the first yes/no/true/false/correct/incorrect word.

    Example:
        >>> [normalize_boolean(t) for t in ("Yes.", "FALSE", "It is incorrect", "maybe")]
        ['true', 'false', 'false', None]
    """
    for word in _WORD.findall(text.lower()):
        if word in _TRUE:
            return "true"
        if word in _FALSE:
            return "false"
    return None


def normalize_text(text: str) -> str | None:
    """Lower-case, collapse whitespace, drop trailing ``.!`` and surrounding quotes; empty -> None.

    Example:
        >>> normalize_text("  Paris. "), normalize_text("New   York!"), normalize_text("  ")
        ('paris', 'new york', None)
    """
    cleaned = _SPACE.sub(" ", text.strip().lower()).strip().strip("\"'").rstrip(".!").strip()
    return cleaned or None


_BUILTIN: dict[NormalizerName, Normalizer] = {
    NormalizerName.LETTER: normalize_letter,
    NormalizerName.NUMBER: normalize_number,
    NormalizerName.BOOLEAN: normalize_boolean,
    NormalizerName.LOWERCASE_TRIM: normalize_text,
}


def resolve_normalizer(normalizer: NormalizerName | str | Normalizer) -> tuple[str, Normalizer]:
    """``(name, function)`` for a built-in name or a custom callable ``str -> str | None``.

    Raises:
        ConfigurationError: for an unknown name (the message lists the valid ones) or a value
            that is neither a name nor callable.
    """
    valid = ", ".join(repr(n.value) for n in NormalizerName)
    if isinstance(normalizer, str):
        try:
            name = NormalizerName(normalizer)
        except ValueError:
            raise ConfigurationError(
                f"unknown `normalizer` {normalizer!r}; valid: {valid}, or a callable str -> str | None"
            ) from None
        return name.value, _BUILTIN[name]
    if callable(normalizer):
        return getattr(normalizer, "__name__", "custom"), normalizer
    raise ConfigurationError(
        f"`normalizer` must be one of {valid} or a callable str -> str | None, got {normalizer!r}"
    )
