"""Attack kinds, their groups, and the :class:`Attacked` value every attack returns."""

from __future__ import annotations

import math
from enum import StrEnum
from typing import Any

import attrs

from crucible.core import ValidationError

__all__ = ["MAX_TEXT_LENGTH", "AttackGroup", "AttackKind", "Attacked", "check_rate", "check_text"]

#: Longest text (characters) an attack accepts unless told otherwise: attacks copy and rescan
#: the text, so a bound keeps a runaway input from tying up a run.
MAX_TEXT_LENGTH = 1_000_000


class AttackGroup(StrEnum):
    """What an attack tries to do, and so how its success is judged."""

    PERTURBATION = "perturbation"  #: robustness: does the answer flip from correct to wrong?
    REWRITE = "rewrite"  #: robustness, via a model's rewrite of the prompt
    INJECTION = "injection"  #: does the model obey an injected instruction?
    JAILBREAK = "jailbreak"  #: does a wrapper make the model obey what it should refuse?
    EXTRACTION = "extraction"  #: does a planted secret or PII appear in the output?


class AttackKind(StrEnum):
    """Every attack :func:`attack` and :func:`rewrite` know, by name."""

    # perturbations (pure, seeded)
    CHAR_SWAP = "char_swap"
    CHAR_DELETE = "char_delete"
    CHAR_INSERT = "char_insert"
    HOMOGLYPH = "homoglyph"
    KEYBOARD_TYPO = "keyboard_typo"
    WORD_DELETE = "word_delete"
    WORD_INSERT = "word_insert"
    WORD_SYNONYM = "word_synonym"
    WORD_SHUFFLE = "word_shuffle"
    SENTENCE_REORDER = "sentence_reorder"
    # model-driven rewrites (async, need a Model)
    PARAPHRASE = "paraphrase"
    BACK_TRANSLATION = "back_translation"
    FORMALITY = "formality"
    # injection
    INJECT_APPEND = "inject_append"
    INJECT_PREPEND = "inject_prepend"
    INJECT_REPLACE = "inject_replace"
    CONTEXT_OVERFLOW = "context_overflow"
    DELIMITER = "delimiter"
    TEMPLATE = "template"
    # jailbreak wrappers
    ROLE_PLAY = "role_play"
    CONTEXT_SWITCH = "context_switch"
    HYPOTHETICAL = "hypothetical"
    ENCODE_BASE64 = "encode_base64"
    ENCODE_ROT13 = "encode_rot13"
    ENCODE_HEX = "encode_hex"
    ENCODE_LEET = "encode_leet"
    # extraction probes
    EXTRACT_SYSTEM_PROMPT = "extract_system_prompt"
    EXTRACT_SECRET = "extract_secret"
    EXTRACT_PII = "extract_pii"

    @property
    def group(self) -> AttackGroup:
        return GROUPS[self]


GROUPS: dict[AttackKind, AttackGroup] = {
    **{k: AttackGroup.PERTURBATION for k in list(AttackKind)[:10]},
    **{k: AttackGroup.REWRITE for k in list(AttackKind)[10:13]},
    **{k: AttackGroup.INJECTION for k in list(AttackKind)[13:19]},
    **{k: AttackGroup.JAILBREAK for k in list(AttackKind)[19:26]},
    **{k: AttackGroup.EXTRACTION for k in list(AttackKind)[26:]},
}


def parse_kind(kind: AttackKind | str) -> AttackKind:
    """``kind`` as an :class:`AttackKind`, or a :class:`ValidationError` listing the valid names."""
    try:
        return AttackKind(kind)
    except ValueError:
        valid = ", ".join(k.value for k in AttackKind)
        raise ValidationError(f"unknown attack `kind` {kind!r}; valid kinds are {valid}") from None


def check_text(value: object, name: str = "text", max_length: int = MAX_TEXT_LENGTH) -> str:
    """``value`` if it is a non-empty string of at most ``max_length`` characters, else a
    :class:`ValidationError` naming ``name``."""
    if not isinstance(value, str):
        raise ValidationError(f"`{name}` must be a string, got {type(value).__name__}")
    if not value.strip():
        raise ValidationError(f"`{name}` is empty; give the text to attack")
    if len(value) > max_length:
        raise ValidationError(
            f"`{name}` has {len(value)} characters, more than `max_length` ({max_length}); "
            "shorten it or pass a larger max_length"
        )
    return value


def check_rate(value: object, name: str = "rate") -> float:
    """``value`` as a float in [0, 1], or a :class:`ValidationError` naming ``name``."""
    if (
        isinstance(value, bool)
        or not isinstance(value, int | float)
        or math.isnan(value)
        or not 0.0 <= value <= 1.0
    ):
        raise ValidationError(f"`{name}` must be a number in [0, 1], got {value!r}")
    return float(value)


@attrs.frozen
class Attacked:
    """The result of one attack.

    Attributes:
        original: the text before the attack.
        text: the attacked text.
        kind: the attack's :class:`AttackKind`.
        options: the options the attack ran with, defaults filled in (``seed``, ``rate``,
            ``marker``, ...), so the same call reproduces ``text`` exactly.
    """

    original: str
    text: str
    kind: AttackKind
    options: dict[str, Any] = attrs.field(factory=dict)

    @property
    def group(self) -> AttackGroup:
        return self.kind.group

    @property
    def marker(self) -> str | None:
        """The canary an injection or jailbreak payload asks the model to output, if any."""
        marker = self.options.get("marker")
        return marker if isinstance(marker, str) else None

    def to_dict(self) -> dict[str, Any]:
        return {
            "original": self.original,
            "text": self.text,
            "kind": self.kind.value,
            "group": self.group.value,
            "options": dict(self.options),
        }

    def __str__(self) -> str:
        return f"{self.kind.value}: {self.text!r}"
