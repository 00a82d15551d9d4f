"""Redaction of PII and secrets, and restoring what a reversible redaction replaced."""

from __future__ import annotations

import hashlib
import re
import secrets
from collections.abc import Callable, Iterable, Mapping
from enum import StrEnum
from typing import Any

import attrs

from crucible.core import ValidationError
from crucible.guard._pii import Finding, find_pii
from crucible.guard._values import check_text

__all__ = ["Redaction", "Strategy", "redact", "restore"]


class Strategy(StrEnum):
    """How a found value is replaced."""

    PLACEHOLDER = "placeholder"  #: ``[EMAIL_1]``; the same value gets the same placeholder
    MASK = "mask"  #: ``*`` for every character
    PARTIAL = "partial"  #: ``*`` except the last four letters or digits (``***...1111``)
    HASH = "hash"  #: ``[EMAIL:<salted SHA-256, 16 letters>]``; the same value, the same hash


#: A replacement function: (kind, value) -> replacement text.
Replacer = Callable[[str, str], str]
StrategyLike = Strategy | str | Replacer
_HASH_ALPHABET = str.maketrans("0123456789", "ghijklmnop")
_PLACEHOLDER = re.compile(r"\[([A-Z0-9_]+)_(\d+)\]")


@attrs.frozen
class Redaction:
    """A redacted text and how to undo it.

    Attributes:
        text: the text with every found value replaced.
        mapping: replacement -> original value, for the replacements that are unique to one value
            (placeholders, hashes, and callables that return distinct strings); mask and partial
            replacements are one-way and are not listed.
        findings: what was replaced, at offsets of the *original* text.
    """

    text: str
    mapping: dict[str, str]
    findings: tuple[Finding, ...] = ()

    def to_dict(self) -> dict[str, Any]:
        return {
            "text": self.text,
            "mapping": dict(self.mapping),
            "findings": [f.to_dict() for f in self.findings],
        }

    def __str__(self) -> str:
        return self.text


def _partial(value: str) -> str:
    tail = "".join(c for c in value if c.isalnum())[-4:]
    return "*" * max(len(value) - len(tail), 1) + tail


def _resolve(strategy: StrategyLike, name: str) -> Strategy | Replacer:
    if callable(strategy) and not isinstance(strategy, str):
        return strategy
    try:
        return Strategy(strategy)
    except ValueError:
        valid = ", ".join(s.value for s in Strategy)
        raise ValidationError(
            f"`{name}` must be one of {valid}, a callable (kind, value) -> str, or a mapping "
            f"of kind -> strategy; got {strategy!r}"
        ) from None


class _Replacer:
    def __init__(self, text: str, salt: str, mapping: Mapping[str, str] | None) -> None:
        self.salt = salt
        self.mapping: dict[str, str] = dict(mapping or {})
        self.by_value: dict[tuple[str, str], str] = {}
        self.counts: dict[str, int] = {}
        for placeholder, value in self.mapping.items():
            match = _PLACEHOLDER.fullmatch(placeholder)
            if match:
                kind = match.group(1)
                self.by_value[(kind, value)] = placeholder
                self.counts[kind] = max(self.counts.get(kind, 0), int(match.group(2)))
        # Placeholders already in the text are never reused for another value.
        for match in _PLACEHOLDER.finditer(text):
            kind = match.group(1)
            self.counts[kind] = max(self.counts.get(kind, 0), int(match.group(2)))

    def __call__(self, how: Strategy | Replacer, kind: str, value: str) -> str:
        label = kind.upper()
        if how is Strategy.MASK:
            return "*" * len(value)
        if how is Strategy.PARTIAL:
            return _partial(value)
        if how is Strategy.HASH:
            digest = hashlib.sha256(f"{self.salt}\0{value}".encode()).hexdigest()[:16]
            out = f"[{label}:{digest.translate(_HASH_ALPHABET)}]"
        elif how is Strategy.PLACEHOLDER:
            out = self.by_value.get((label, value), "")
            if not out:
                self.counts[label] = self.counts.get(label, 0) + 1
                out = f"[{label}_{self.counts[label]}]"
                self.by_value[(label, value)] = out
        else:
            out = how(kind, value)
            if not isinstance(out, str):
                raise ValidationError(
                    f"a redaction callable must return str, got {type(out).__name__}"
                )
        if out in self.mapping and self.mapping[out] != value:
            return out  # not unique, so not reversible: keep the first value's entry
        self.mapping[out] = value
        return out


def redact(
    text: str,
    *,
    strategy: StrategyLike | Mapping[str, StrategyLike] = Strategy.PLACEHOLDER,
    types: Iterable[str] | None = None,
    salt: str | None = None,
    mapping: Mapping[str, str] | None = None,
) -> Redaction:
    """Replace every PII and secret value in ``text``.

    Args:
        strategy: a :class:`Strategy` name, a callable ``(kind, value) -> str``, or a mapping of
            kind -> strategy (``{"email": "mask", "credit_card": "partial"}``; kinds it does not
            name use ``"*"``'s entry, else placeholders).
        types: the kinds to redact (default: every PII and secret kind).
        salt: the salt of ``hash`` (default: a random one, so hashes do not link across calls).
        mapping: an earlier redaction's mapping, to keep its placeholders (multi-turn chats).

    Returns:
        :class:`Redaction`; :func:`restore` with its ``mapping`` undoes reversible strategies.
        Redaction is idempotent: redacting the result finds nothing more to replace.

    Raises:
        ValidationError: empty or non-string ``text``, unknown strategy or kind.

    Example:
        >>> r = redact("Mail ann@example.org, then ann@example.org again")
        >>> r.text
        'Mail [EMAIL_1], then [EMAIL_1] again'
        >>> restore(r.text, r.mapping)
        'Mail ann@example.org, then ann@example.org again'
    """
    check_text("text", text)
    if isinstance(strategy, Mapping):
        per_kind = {k: _resolve(v, f"strategy[{k!r}]") for k, v in strategy.items()}
        fallback = per_kind.pop("*", Strategy.PLACEHOLDER)
    else:
        per_kind, fallback = {}, _resolve(strategy, "strategy")
    findings = find_pii(text, types)
    replace = _Replacer(text, salt if salt is not None else secrets.token_hex(16), mapping)
    parts: list[str] = []
    cursor = 0
    for f in findings:
        parts.append(text[cursor : f.start])
        parts.append(replace(per_kind.get(f.kind, fallback), f.kind, f.value))
        cursor = f.end
    parts.append(text[cursor:])
    return Redaction("".join(parts), replace.mapping, tuple(findings))


def restore(text: str, mapping: Mapping[str, str]) -> str:
    """Put the original values back for every replacement in ``mapping`` (longest first).

    Example:
        >>> restore("Hi [EMAIL_1]", {"[EMAIL_1]": "ann@example.org"})
        'Hi ann@example.org'
    """
    if not isinstance(text, str):
        raise ValidationError(f"`text` must be a string, got {type(text).__name__}")
    if not mapping:
        return text
    keys = sorted(mapping, key=len, reverse=True)
    pattern = re.compile("|".join(re.escape(k) for k in keys))
    return pattern.sub(lambda m: mapping[m.group()], text)
