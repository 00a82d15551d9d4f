"""The evasion-normalising front end every text detector shares.

Attackers hide instructions from pattern matchers with full-width letters, Cyrillic look-alikes,
zero-width joiners, bidi overrides, s p a c e d letters, l33tspeak and encodings. :func:`normalize`
undoes these and returns :class:`Normalized`, a set of *views* of the text (the folded text, its
leetspeak fold, its rot13, and each decoded base64 / hex / URL-encoded payload, recursively) —
each view keeps an offset map, so a match in any view is reported at character offsets of the
original text.
"""

from __future__ import annotations

import base64
import binascii
import codecs
import re
import unicodedata
import urllib.parse
from collections.abc import Iterator
from functools import lru_cache

import attrs

__all__ = ["MAX_DECODE_BYTES", "MAX_DEPTH", "MAX_PAYLOADS", "Normalized", "View", "normalize"]

#: How deep encoded payloads are decoded (a base64 inside a hex inside ... stops here).
MAX_DEPTH = 2
#: How many payloads per text are decoded, and the largest one decoded, so work stays bounded.
MAX_PAYLOADS = 16
MAX_DECODE_BYTES = 65_536

# Characters that render as nothing or reorder text: zero-width, joiners, bidi embeddings,
# overrides and isolates, the soft hyphen, the BOM. (Other "Cf" characters are dropped too.)
_INVISIBLE = frozenset(
    "\u00ad\u034f\u061c\u115f\u1160\u17b4\u17b5\u180e\u200b\u200c\u200d\u200e\u200f"
    "\u202a\u202b\u202c\u202d\u202e\u2060\u2061\u2062\u2063\u2064\u2066\u2067\u2068\u2069"
    "\u3164\ufeff\uffa0"
)

# Look-alike letters NFKC leaves alone (Unicode TR39 confusables, the Latin-looking subset of
# Cyrillic, Greek, Armenian and IPA letters that attackers use), after case folding.
_CONFUSABLES: dict[str, str] = {
    **dict(zip("авсԁеһіјкӏмոорԛѕԝхуԍ", "abcdehijklmnopqswxyg", strict=True)),
    **dict(zip("αβεικνορτυχϲϳ", "abeikvoptuxcj", strict=True)),
    **dict(zip("ɑɡɩʟɴʀꜱʏ", "agilnrsy", strict=True)),
    "ѵ": "v",
}

_LEET = str.maketrans(
    {
        "0": "o",
        "1": "i",
        "3": "e",
        "4": "a",
        "5": "s",
        "7": "t",
        "@": "a",
        "$": "s",
        "!": "i",
        "|": "l",
        "8": "b",
        "9": "g",
        "+": "t",
    }
)
_LEET_TOKEN = re.compile(r"[a-z0-9@$!|+]{2,}")
_LEET_CHARS = frozenset("013457@$!|89+")

# Four or more single letters each followed by one or two separators: "i g n o r e", "d.a.n".
_SPACED = re.compile(r"(?<![^\W_])(?:[^\W\d_][ \t._*/|\-]{1,2}){3,}[^\W\d_](?![^\W_])")
_SPACED_SEP = frozenset(" \t._*/|-")

_BASE64 = re.compile(r"(?<![A-Za-z0-9+/=_-])[A-Za-z0-9+/_-]{16,}={0,2}(?![A-Za-z0-9+/=_-])")
_HEX = re.compile(
    r"(?<![0-9A-Fa-f])(?:[0-9A-Fa-f]{2}){8,}(?![0-9A-Fa-f])"
    r"|(?:\\x[0-9A-Fa-f]{2}){4,}"
    r"|(?<![0-9A-Fa-f])(?:[0-9A-Fa-f]{2} ){7,}[0-9A-Fa-f]{2}(?![0-9A-Fa-f])"
)
_URLENC = re.compile(r"(?:%[0-9A-Fa-f]{2}[^\s%]*){2,}")


@lru_cache(maxsize=8192)
def _fold_char(ch: str) -> str:
    if ch in _INVISIBLE or unicodedata.category(ch) == "Cf":
        return ""
    decomposed = unicodedata.normalize("NFKD", ch)
    stripped = "".join(c for c in decomposed if not unicodedata.combining(c))
    folded = unicodedata.normalize("NFKC", stripped).casefold()
    return "".join(_CONFUSABLES.get(c, c) for c in folded)


class View:
    """One normalised rendering of a text and the map back to the original's offsets.

    ``starts[i]`` / ``ends[i]`` are the original offsets of view character ``i``; a payload view
    maps every character to the whole encoded span it was decoded from.
    """

    __slots__ = ("ends", "name", "starts", "text")

    def __init__(self, name: str, text: str, starts: list[int], ends: list[int]) -> None:
        self.name = name
        self.text = text
        self.starts = starts
        self.ends = ends

    def original_span(self, start: int, end: int) -> tuple[int, int]:
        """The original offsets of view characters ``start:end``."""
        if not self.text:
            return (0, 0)
        end = max(end, start + 1)
        return self.starts[min(start, len(self.starts) - 1)], self.ends[
            min(end, len(self.ends)) - 1
        ]

    def __repr__(self) -> str:
        return f"View({self.name!r}, {self.text[:40]!r})"


@attrs.frozen
class Normalized:
    """A text and its normalised views (see :func:`normalize`)."""

    original: str
    views: tuple[View, ...]

    @property
    def folded(self) -> str:
        """The main view: NFKC, marks stripped, case-folded, look-alikes and invisibles folded."""
        return self.views[0].text

    def __iter__(self) -> Iterator[View]:
        return iter(self.views)


def _fold(text: str) -> tuple[str, list[int], list[int]]:
    if text.isascii():
        chars = list(text.lower())
        starts = list(range(len(text)))
        ends = [i + 1 for i in starts]
    else:
        chars, starts, ends = [], [], []
        for i, ch in enumerate(text):
            for out in _fold_char(ch):
                chars.append(out)
                starts.append(i)
                ends.append(i + 1)
    # Collapse whitespace runs so patterns need only bounded separators.
    keep = [
        k
        for k in range(len(chars))
        if not (chars[k].isspace() and k > 0 and chars[k - 1].isspace())
    ]
    if len(keep) != len(chars):
        chars = [" " if chars[k].isspace() else chars[k] for k in keep]
        starts = [starts[k] for k in keep]
        ends = [ends[k] for k in keep]
    folded = "".join(chars)
    drop: set[int] = set()
    for match in _SPACED.finditer(folded):
        drop.update(k for k in range(match.start(), match.end()) if folded[k] in _SPACED_SEP)
    if drop:
        keep = [k for k in range(len(folded)) if k not in drop]
        folded = "".join(folded[k] for k in keep)
        starts = [starts[k] for k in keep]
        ends = [ends[k] for k in keep]
    return folded, starts, ends


def _leet(folded: str) -> str:
    def fold(match: re.Match[str]) -> str:
        token = match.group()
        if any(c.isalpha() for c in token) and any(c in _LEET_CHARS for c in token):
            return token.translate(_LEET)
        return token

    return _LEET_TOKEN.sub(fold, folded)


def _printable(data: bytes) -> str | None:
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError:
        return None
    if len(text) < 4:
        return None
    good = sum(1 for c in text if c.isprintable() or c in "\n\t\r")
    letters = sum(1 for c in text if c.isalpha())
    if good / len(text) < 0.95 or letters / len(text) < 0.5:
        return None
    return text


def _decode_base64(token: str) -> str | None:
    raw = token.rstrip("=")
    if len(raw) % 4 == 1:
        return None
    padded = raw + "=" * (-len(raw) % 4)
    try:
        if "-" in raw or "_" in raw:
            data = base64.urlsafe_b64decode(padded)
        else:
            data = base64.b64decode(padded, validate=True)
    except (binascii.Error, ValueError):
        return None
    return _printable(data)


def _decode_hex(token: str) -> str | None:
    digits = token.replace("\\x", "").replace(" ", "")
    try:
        return _printable(bytes.fromhex(digits))
    except ValueError:
        return None


def _decode_url(token: str) -> str | None:
    decoded = urllib.parse.unquote(token, errors="strict")
    return decoded if decoded != token else None


_DECODERS = (
    ("base64", _BASE64, _decode_base64),
    ("hex", _HEX, _decode_hex),
    ("url", _URLENC, _decode_url),
)


def _payload_views(text: str, depth: int) -> list[View]:
    views: list[View] = []
    for encoding, pattern, decode in _DECODERS:
        for match in pattern.finditer(text):
            if len(views) >= MAX_PAYLOADS:
                return views
            token = match.group()
            if len(token) > MAX_DECODE_BYTES * 2:
                continue
            try:
                decoded = decode(token)
            except (UnicodeDecodeError, ValueError):
                decoded = None
            if not decoded:
                continue
            start, end = match.span()
            if encoding == "url":
                # The regex starts at the first escape; the token starts at the whitespace.
                while start > 0 and not text[start - 1].isspace():
                    start -= 1
                token = text[start:end]
                decoded = _decode_url(token)
                if not decoded:
                    continue
            for inner in normalize(decoded, _depth=depth + 1).views:
                n = len(inner.text)
                views.append(View(f"{encoding}:{inner.name}", inner.text, [start] * n, [end] * n))
    return views


def normalize(text: str, *, _depth: int = 0) -> Normalized:
    """Fold the evasions out of ``text`` and return its views.

    Views, in order: ``folded`` (NFKC + diacritics stripped + case folded + TR39 look-alikes
    mapped + zero-width and bidi controls removed + whitespace runs collapsed + spaced-out letters
    joined), ``leet`` (leetspeak digits and symbols read as letters, only inside tokens that also
    have letters), ``rot13``, then one view per decoded base64 / hex / URL-encoded payload (itself
    normalised, up to :data:`MAX_DEPTH` levels, :data:`MAX_PAYLOADS` payloads).

    Example:
        >>> normalize("Ｉｇｎ\u200bore  ＰＲＥＶＩＯＵＳ").folded
        'ignore previous'
        >>> normalize("1gn0r3 th3 rul3s").views[1].text
        'ignore the rules'
    """
    folded, starts, ends = _fold(text)
    views = [View("folded", folded, starts, ends)]
    leet = _leet(folded)
    if leet != folded:
        views.append(View("leet", leet, starts, ends))
    views.append(View("rot13", codecs.encode(folded, "rot13"), starts, ends))
    if _depth < MAX_DEPTH:
        views.extend(_payload_views(text, _depth))
    return Normalized(text, tuple(views))
