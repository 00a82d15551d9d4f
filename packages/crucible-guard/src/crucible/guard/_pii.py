"""PII and secret finders: one table row per kind, a regex for the shape and a validator for the
checksum or structure (Luhn for cards, mod-97 for IBANs, area/group/serial for SSNs, libphonenumber
for phones, a JSON header for JWTs), so shapes that merely look right are not reported.

Every regex is linear-time: literals, bounded repeats, and no nested unbounded quantifiers.
"""

from __future__ import annotations

import base64
import binascii
import bisect
import ipaddress
import json
import re
from collections.abc import Callable, Iterable
from functools import lru_cache

import attrs
import phonenumbers

from crucible.core import ValidationError

__all__ = ["PII_TYPES", "SECRET_TYPES", "Finding", "find_pii"]


@attrs.frozen
class Finding:
    """One PII or secret value: its kind, character offsets, value and confidence."""

    kind: str
    start: int
    end: int
    value: str
    confidence: float

    def to_dict(self) -> dict[str, object]:
        return attrs.asdict(self)


def _luhn(digits: str) -> bool:
    total = 0
    for i, ch in enumerate(reversed(digits)):
        d = int(ch)
        if i % 2:
            d = d * 2 - 9 if d > 4 else d * 2
        total += d
    return total % 10 == 0


_CARD_PREFIX = re.compile(r"^(?:4|5[1-5]|2[2-7]|3[47]|3[068]|35|6(?:011|5|4[4-9]|22))")


def _card(value: str) -> bool:
    digits = re.sub(r"[ -]", "", value)
    return 13 <= len(digits) <= 19 and bool(_CARD_PREFIX.match(digits)) and _luhn(digits)


def _ssn(value: str) -> bool:
    digits = re.sub(r"[ -]", "", value)
    area, group, serial = int(digits[:3]), int(digits[3:5]), int(digits[5:])
    return 0 < area < 900 and area != 666 and group != 0 and serial != 0


# Lengths of IBANs by country (ISO 13616 registry, the SEPA countries and common others).
_IBAN_LENGTHS = {
    "AD": 24,
    "AE": 23,
    "AL": 28,
    "AT": 20,
    "AZ": 28,
    "BA": 20,
    "BE": 16,
    "BG": 22,
    "BH": 22,
    "BR": 29,
    "CH": 21,
    "CR": 22,
    "CY": 28,
    "CZ": 24,
    "DE": 22,
    "DK": 18,
    "DO": 28,
    "EE": 20,
    "EG": 29,
    "ES": 24,
    "FI": 18,
    "FO": 18,
    "FR": 27,
    "GB": 22,
    "GE": 22,
    "GI": 23,
    "GL": 18,
    "GR": 27,
    "GT": 28,
    "HR": 21,
    "HU": 28,
    "IE": 22,
    "IL": 23,
    "IS": 26,
    "IT": 27,
    "JO": 30,
    "KW": 30,
    "KZ": 20,
    "LB": 28,
    "LI": 21,
    "LT": 20,
    "LU": 20,
    "LV": 21,
    "MC": 27,
    "MD": 24,
    "ME": 22,
    "MK": 19,
    "MR": 27,
    "MT": 31,
    "MU": 30,
    "NL": 18,
    "NO": 15,
    "PK": 24,
    "PL": 28,
    "PS": 29,
    "PT": 25,
    "QA": 29,
    "RO": 24,
    "RS": 22,
    "SA": 24,
    "SE": 24,
    "SI": 19,
    "SK": 24,
    "SM": 27,
    "TN": 24,
    "TR": 26,
    "UA": 29,
    "VG": 24,
    "XK": 20,
}


def _iban(value: str) -> bool:
    compact = value.replace(" ", "").upper()
    if _IBAN_LENGTHS.get(compact[:2]) != len(compact):
        return False
    rearranged = compact[4:] + compact[:4]
    return int("".join(str(int(c, 36)) for c in rearranged)) % 97 == 1


def _ipv6(value: str) -> bool:
    if sum(c.isalnum() for c in value) < 3:
        return False
    try:
        ipaddress.IPv6Address(value)
    except ValueError:
        return False
    return True


@lru_cache(maxsize=4096)
def _phone(value: str) -> bool:
    digits = "".join(c for c in value if c.isdigit())
    if not 7 <= len(digits) <= 15:
        return False
    if not value.startswith("+"):
        # National numbers are read as US (NANP): ten digits, or eleven after a leading 1, with
        # area code and exchange starting 2-9 — checked here before the (slower) full parse.
        national = digits[1:] if len(digits) == 11 and digits[0] == "1" else digits
        if len(national) != 10 or national[0] in "01" or national[3] in "01":
            return False
    try:
        number = phonenumbers.parse(value, None if value.startswith("+") else "US")
    except phonenumbers.NumberParseException:
        return False
    return bool(phonenumbers.is_valid_number(number))


def _jwt(value: str) -> bool:
    header = value.split(".", 1)[0]
    try:
        decoded = json.loads(base64.urlsafe_b64decode(header + "=" * (-len(header) % 4)))
    except (binascii.Error, ValueError, UnicodeDecodeError):
        return False
    return isinstance(decoded, dict) and "alg" in decoded


def _always(value: str) -> bool:
    return True


@attrs.frozen
class _Kind:
    name: str
    pattern: re.Pattern[str]
    confidence: float
    valid: Callable[[str], bool] = _always
    group: int = 0


def _kind(
    name: str,
    pattern: str,
    confidence: float,
    valid: Callable[[str], bool] = _always,
    group: int = 0,
) -> _Kind:
    return _Kind(name, re.compile(pattern), confidence, valid, group)


#: Longest private-key block searched for its END line (a 4096-bit RSA PEM is ~3.3k chars).
_MAX_KEY_BLOCK = 8192
_PHONE_SEP = re.compile(r"[ .-]")
#: Kinds whose greedy candidate may run into a neighbouring number: shorter prefixes are tried.
_SHRINKABLE = frozenset({"phone", "credit_card"})
_NOT_WORD_BEFORE = r"(?<![\w+])"
#: PII kinds, most specific first (on overlap the earlier, more confident finding wins).
_PII_KINDS: tuple[_Kind, ...] = (
    _kind(
        "email",
        r"(?<![\w.%+-])[A-Za-z0-9._%+-]{1,64}@[A-Za-z0-9-]{1,63}(?:\.[A-Za-z0-9-]{1,63}){0,8}\.[A-Za-z]{2,24}(?![\w-])",
        0.95,
    ),
    _kind("iban", r"\b[A-Z]{2}\d{2}(?: ?[A-Z0-9]{4}){2,7}(?: ?[A-Z0-9]{1,3})?\b", 0.95, _iban),
    _kind("credit_card", r"(?<![\w-])(?:\d[ -]?){12,18}\d(?![\w-]|\.\d)", 0.95, _card),
    _kind("ssn", r"(?<![\d-])\d{3}([- ])\d{2}\1\d{4}(?![\d-])", 0.9, _ssn),
    _kind(
        "ssn",
        r"(?i:ssn|social security(?: number| no\.?)?)\W{0,5}(\d{9})(?!\d)",
        0.85,
        _ssn,
        group=1,
    ),
    _kind(
        "ipv4",
        r"(?<![\d.])(?:(?:25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)\.){3}(?:25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)(?!\d|\.\d)",
        0.8,
    ),
    _kind(
        "ipv6", r"(?<![:\w])(?:[0-9A-Fa-f]{1,4}:|:){2,7}(?:[0-9A-Fa-f]{1,4}|:)(?![:\w])", 0.8, _ipv6
    ),
    _kind(
        "phone",
        _NOT_WORD_BEFORE
        + r"(?:\+\d{1,3}[ .-]?(?:\(\d{1,4}\)[ .-]?)?\d{1,4}|(?:\(\d{1,4}\)[ .-]?)?\d{2,4})(?:[ .-]?\d{2,4}){1,4}(?![\w-])",
        0.85,
        _phone,
    ),
    _kind("url", r"\b(?:https?://|www\.)[^\s<>\"'`]{2,2048}", 0.5),
)

#: Secret kinds: API-key shapes of major providers, cloud access keys, private keys, JWTs.
_SECRET_KINDS: tuple[_Kind, ...] = (
    _kind(
        "private_key",
        r"-----BEGIN (?:RSA |EC |DSA |OPENSSH |PGP |ENCRYPTED )?PRIVATE KEY(?: BLOCK)?-----",
        0.99,
    ),
    _kind("anthropic_api_key", r"\bsk-ant-(?:api|admin|oat)\d{2}-[A-Za-z0-9_-]{32,200}", 0.97),
    _kind("openai_api_key", r"\bsk-(?:proj-|svcacct-|admin-)?[A-Za-z0-9_-]{20,200}", 0.9),
    _kind(
        "aws_access_key_id",
        r"\b(?:AKIA|ASIA|ABIA|ACCA|AGPA|AIDA|AROA|ANPA|ANVA|AIPA)[A-Z0-9]{16}\b",
        0.95,
    ),
    _kind(
        "aws_secret_access_key",
        r"(?i:aws_?secret(?:_?access)?_?key)[\"']?\s{0,3}[:=]\s{0,3}[\"']?([A-Za-z0-9/+=]{40})(?![A-Za-z0-9/+=])",
        0.95,
        group=1,
    ),
    _kind(
        "github_token",
        r"\b(?:gh[pousr]_[A-Za-z0-9]{36,255}|github_pat_[A-Za-z0-9_]{60,255})\b",
        0.97,
    ),
    _kind("google_api_key", r"\bAIza[0-9A-Za-z_-]{35}(?![\w-])", 0.95),
    _kind("slack_token", r"\bxox[abposr]-[A-Za-z0-9-]{10,250}", 0.95),
    _kind("stripe_key", r"\b(?:sk|rk|pk)_(?:live|test)_[A-Za-z0-9]{16,250}\b", 0.95),
    _kind("huggingface_token", r"\bhf_[A-Za-z0-9]{30,100}\b", 0.9),
    _kind(
        "jwt",
        r"\beyJ[A-Za-z0-9_-]{8,4096}\.eyJ[A-Za-z0-9_-]{8,8192}\.[A-Za-z0-9_-]{8,4096}",
        0.95,
        _jwt,
    ),
)

PII_TYPES: tuple[str, ...] = tuple(dict.fromkeys(k.name for k in _PII_KINDS))
SECRET_TYPES: tuple[str, ...] = tuple(dict.fromkeys(k.name for k in _SECRET_KINDS))
_ALL = {k.name: k for k in (*_SECRET_KINDS, *_PII_KINDS)}
_ORDER = (*_SECRET_KINDS, *_PII_KINDS)


def check_types(types: Iterable[str] | None) -> frozenset[str]:
    """The requested kinds, validated; ``None`` means every PII and secret kind."""
    if types is None:
        return frozenset(_ALL)
    if isinstance(types, str):
        types = (types,)
    wanted = frozenset(types)
    unknown = wanted - set(_ALL)
    if unknown:
        raise ValidationError(
            f"`types` has unknown kind(s) {sorted(unknown)}; valid kinds are "
            f"{', '.join(PII_TYPES + SECRET_TYPES)}"
        )
    return wanted


def _trim_url(value: str) -> str:
    return value.rstrip(".,;:!?)]}'\"")


def find_pii(text: str, types: Iterable[str] | None = None) -> list[Finding]:
    """Every PII and secret value in ``text`` (character offsets), non-overlapping, by offset.

    Example:
        >>> [(f.kind, f.value) for f in find_pii("mail ann@example.org or 4111 1111 1111 1111")]
        [('email', 'ann@example.org'), ('credit_card', '4111 1111 1111 1111')]
    """
    wanted = check_types(types)
    taken: list[tuple[int, int]] = []
    found: list[Finding] = []
    for kind in _ORDER:
        if kind.name not in wanted:
            continue
        pos = 0
        while (match := kind.pattern.search(text, pos)) is not None:
            # A rejected candidate (bad checksum, overlap) may hide a valid one that starts
            # inside it, so the scan resumes one character later, not after the candidate.
            pos = match.start() + 1
            start, end = match.span(kind.group)
            value = match.group(kind.group)
            if kind.name == "url":
                value = _trim_url(value)
                end = start + len(value)
            elif kind.name == "private_key":
                # The block runs to its END line (searched with str.find, so linear), or is
                # reported as its header when the END line is missing or too far away.
                close = text.find("-----END ", end, end + _MAX_KEY_BLOCK)
                stop = text.find("-----", close + 9, close + 60) if close >= 0 else -1
                if stop >= 0:
                    end = stop + 5
                    value = text[start:end]
            if (
                kind.name == "phone"
                and value[0].isdigit()
                and start >= 2
                and text[start - 1] in " .-"
                and text[start - 2].isdigit()
            ):
                continue  # the tail of a longer run of digit groups (an account number), not a phone
            candidates = [value]
            if kind.name in _SHRINKABLE:
                # A greedy candidate can swallow a neighbouring number ("(212) 555-0123 123-45-6789"):
                # also try it without its trailing groups, longest first.
                cuts = [m.start() for m in _PHONE_SEP.finditer(value)]
                shorter = [value[:c] for c in reversed(cuts)]
                if kind.name == "credit_card":
                    # Only the common card lengths, to keep Luhn's 1-in-10 chance from turning
                    # the head of any long digit run into a "card".
                    shorter = [v for v in shorter if sum(c.isdigit() for c in v) in (15, 16)]
                candidates += shorter
            for value in candidates:
                end = start + len(value)
                # The overlap test is cheap and the validators are not: test it first.
                i = bisect.bisect_left(taken, (start, end))
                if (i > 0 and taken[i - 1][1] > start) or (i < len(taken) and taken[i][0] < end):
                    continue
                if not kind.valid(value):
                    continue
                taken.insert(i, (start, end))
                found.append(Finding(kind.name, start, end, value, kind.confidence))
                pos = max(pos, end)
                break
    found.sort(key=lambda f: f.start)
    return found
