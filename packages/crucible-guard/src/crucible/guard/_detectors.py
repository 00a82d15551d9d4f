"""Detectors: small objects with a ``name``, the ``categories`` they report and ``detect``.

A detector is anything that satisfies :class:`Detector` (or :class:`AsyncDetector` for ones that
call a model). The built-ins here — prompt injection, jailbreak, PII and secrets — run their
patterns over every view of the shared normalising front end (:func:`normalize`), so evasions
are folded once for all of them, and report character offsets of the original text.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from functools import lru_cache
from typing import Any, Protocol, runtime_checkable

from crucible.core import ValidationError
from crucible.guard._jailbreak_rules import JAILBREAK_RULES
from crucible.guard._normalize import Normalized, normalize
from crucible.guard._pii import PII_TYPES, SECRET_TYPES, check_types, find_pii
from crucible.guard._rules import INJECTION_RULES, Rule
from crucible.guard._values import Detection, Stage

__all__ = [
    "AsyncDetector",
    "Detector",
    "JailbreakDetector",
    "PIIDetector",
    "PromptInjectionDetector",
    "RuleDetector",
    "SecretsDetector",
    "normalized",
]

Context = Mapping[str, Any] | None
BOTH = frozenset({Stage.INPUT, Stage.OUTPUT})


@runtime_checkable
class Detector(Protocol):
    """Anything that finds problems in text.

    ``detect`` returns detections with character offsets into ``text``. An optional ``stages``
    attribute (a set of ``"input"`` / ``"output"``) says where a :class:`Guard` runs it; without
    it, it runs on both sides.
    """

    @property
    def name(self) -> str:
        """The detector's name, reported on each detection."""
        ...

    @property
    def categories(self) -> Sequence[str]:
        """The categories it can report."""
        ...

    def detect(self, text: str, context: Context = None) -> list[Detection]:
        """The detections in ``text``."""
        ...


@runtime_checkable
class AsyncDetector(Protocol):
    """A detector that awaits something (a judge model); guards call it from ``acheck_*``."""

    @property
    def name(self) -> str:
        """The detector's name, reported on each detection."""
        ...

    @property
    def categories(self) -> Sequence[str]:
        """The categories it can report."""
        ...

    async def adetect(self, text: str, context: Context = None) -> list[Detection]:
        """The detections in ``text``."""
        ...


@lru_cache(maxsize=32)
def normalized(text: str) -> Normalized:
    """:func:`normalize`, cached so every detector of one check shares the work."""
    return normalize(text)


class RuleDetector:
    """A detector driven by a rule table (see :mod:`crucible.guard._rules`).

    A match in an evasion view (leetspeak, rot13, a decoded payload) is reported with the view
    named in the evidence and the offsets of the original characters it came from.
    """

    stages: frozenset[Stage] = frozenset({Stage.INPUT})

    def __init__(self, name: str, rules: Sequence[Rule]) -> None:
        self.name = name
        self.rules = tuple(rules)
        self.categories: tuple[str, ...] = tuple(dict.fromkeys(r.category for r in self.rules))

    def __repr__(self) -> str:
        return f"{type(self).__name__}({len(self.rules)} rules)"

    def detect(self, text: str, context: Context = None) -> list[Detection]:
        best: dict[tuple[str, int, int], Detection] = {}
        for view in normalized(text):
            for rule in self.rules:
                for match in rule.regex.finditer(view.text):
                    start, end = view.original_span(*match.span())
                    evidence = f"{rule.reason}: {match.group()[:80]!r}"
                    if view.name != "folded":
                        evidence += f" (via {view.name})"
                    key = (rule.category, start, end)
                    found = best.get(key)
                    if found is None or found.confidence < rule.confidence:
                        best[key] = Detection(
                            self.name, rule.category, rule.confidence, start, end, evidence
                        )
        return sorted(best.values(), key=lambda d: (d.start, d.end, d.category))


class PromptInjectionDetector(RuleDetector):
    """Instruction override, system-prompt extraction, delimiter and special-token injection,
    mode switching, role manipulation and authority escalation (``INJECTION_RULES``)."""

    def __init__(self, rules: Sequence[Rule] = INJECTION_RULES) -> None:
        super().__init__("prompt_injection", rules)


class JailbreakDetector(RuleDetector):
    """Personas (DAN and kin), hypothetical and fiction framing, prefix and format manipulation,
    emotional manipulation and encoded instructions (``JAILBREAK_RULES``)."""

    def __init__(self, rules: Sequence[Rule] = JAILBREAK_RULES) -> None:
        super().__init__("jailbreak", rules)


class _FindingDetector:
    name: str = ""
    stages: frozenset[Stage] = BOTH

    def __init__(self, types: Iterable[str] | None, allowed: Sequence[str]) -> None:
        wanted = check_types(allowed if types is None else types)
        self.categories: tuple[str, ...] = tuple(t for t in allowed if t in wanted)
        stray = wanted - set(allowed)
        if stray:
            raise ValidationError(
                f"`types` {sorted(stray)} do not belong to the {self.name} detector; valid: "
                f"{', '.join(allowed)}"
            )

    def __repr__(self) -> str:
        return f"{type(self).__name__}({list(self.categories)})"

    def detect(self, text: str, context: Context = None) -> list[Detection]:
        return [
            Detection(
                self.name, f.kind, f.confidence, f.start, f.end, f"{f.kind} ({len(f.value)} chars)"
            )
            for f in find_pii(text, self.categories)
        ]


class PIIDetector(_FindingDetector):
    """Emails, phone numbers (libphonenumber-validated, national US and international), credit
    cards (Luhn), US SSNs (valid area/group/serial), IPv4/IPv6, URLs and IBANs (mod-97)."""

    name = "pii"

    def __init__(self, types: Iterable[str] | None = None) -> None:
        super().__init__(types, PII_TYPES)


class SecretsDetector(_FindingDetector):
    """API keys (OpenAI, Anthropic, Google, GitHub, Slack, Stripe, Hugging Face), AWS access
    keys, private-key blocks and JWTs."""

    name = "secrets"

    def __init__(self, types: Iterable[str] | None = None) -> None:
        super().__init__(types, SECRET_TYPES)
