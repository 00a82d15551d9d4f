"""Pulling an answer out of free text: normalisation, choice letters, final numbers."""

from __future__ import annotations

import re
import string
import unicodedata
from collections.abc import Sequence
from fractions import Fraction

__all__ = ["extract_choice", "extract_number", "normalize_text", "parse_number"]

_ARTICLES = re.compile(r"\b(a|an|the)\b", re.IGNORECASE)
_PUNCT = set(string.punctuation) | {"“", "”", "‘", "’", "–", "—", "…"}


def normalize_text(
    text: str,
    *,
    case: bool = True,
    whitespace: bool = True,
    punctuation: bool = True,
    articles: bool = True,
) -> str:
    """Normalise ``text`` for comparison (each step optional).

    ``case`` lower-cases, ``punctuation`` drops ASCII and typographic punctuation,
    ``articles`` drops English "a", "an", "the", ``whitespace`` collapses runs of whitespace
    and strips. With every step on this is the SQuAD v1.1 ``normalize_answer``
    (Rajpurkar et al., 2016). Unicode is NFKC-normalised first and last.

    Example:
        >>> normalize_text("  The  Eiffel Tower!")
        'eiffel tower'
    """
    text = unicodedata.normalize("NFKC", text)
    if case:
        text = text.lower()
    if punctuation:
        text = "".join(ch for ch in text if ch not in _PUNCT)
    if articles:
        text = _ARTICLES.sub(" ", text)
    if whitespace:
        text = " ".join(text.split())
    # Removing punctuation can leave combining marks that compose anew ("C:\u0327" -> "ç").
    return unicodedata.normalize("NFKC", text)


def _letters(n_choices: int) -> str:
    return string.ascii_uppercase[:n_choices]


def extract_choice(
    text: str, n_choices: int = 4, choices: Sequence[str] | None = None
) -> str | None:
    """The choice letter a response commits to, or ``None`` when it commits to none (or to
    several different letters without an explicit "answer is ...").

    Understands "The answer is (B)", "Answer: b", "B.", "**B**", "(b) because ...",
    "I'd go with C", and the text of a choice itself (when ``choices`` are given). A capital
    "A" followed by a lower-case word ("A prime number is ...") is read as the article, not
    as the letter.

    Example:
        >>> extract_choice("After checking each option, the answer is (B).")
        'B'
        >>> extract_choice("A good guess would be C")
        'C'
    """
    if not text or n_choices < 1:
        return None
    letters = _letters(n_choices)
    lower = letters.lower()
    body = unicodedata.normalize("NFKC", text).strip()
    # 1. An explicit statement: "answer is B", "answer: (b)", then "correct option is **C**".
    for keyword in ("answer", "option|choice"):
        if (letter := _explicit(body, keyword, letters)) is not None:
            return letter
    # 2. The whole response is one letter with formatting: "B", "b.", "**C**", "(d)".
    if m := re.fullmatch(rf"[\s\(\[\*\"']*([{letters}{lower}])[\s\)\]\*\.\:\"']*", body):
        return m[1].upper()
    # 3. The response starts with a labelled letter: "B. 42", "(c) because", "D) ...".
    if m := re.match(rf"[\(\[\*]*([{letters}{lower}])(?:[\)\]\*]+|[\.:])(?:\s|$)", body):
        return m[1].upper()
    # 4. Wrapped letters anywhere: "(B)", "**B**", "[C]".
    wrapped_letters = re.findall(
        rf"(?:\(([{letters}])\)|\*\*([{letters}])\*\*|\[([{letters}])\])", body
    )
    distinct = {next(g for g in groups if g) for groups in wrapped_letters}
    if len(distinct) == 1:
        return str(distinct.pop())
    # 5. Stand-alone capitals, "A" only when it is not the article.
    capitals = {
        m[1]
        for m in re.finditer(rf"(?<![\w'])([{letters}])(?![\w'])", body)
        if not (m[1] == "A" and _is_article(body, m.start(1)))
    }
    if len(capitals) == 1:
        return capitals.pop()
    # 6. The text of exactly one choice.
    if choices:
        said = normalize_text(body)
        hits = [i for i, c in enumerate(choices) if normalize_text(str(c)) == said]
        if len(hits) == 1 and hits[0] < n_choices:
            return letters[hits[0]]
    return None


def _explicit(body: str, keyword: str, letters: str) -> str | None:
    pattern = re.compile(
        rf"(?:{keyword})\s*(?:is|:|=|would be|should be)?\s*(?:option|choice|letter)?"
        rf"\s*[:\-]?\s*(?P<open>[\(\[\*]*)\s*(?P<letter>[{letters}{letters.lower()}])"
        r"\s*(?P<close>[\)\]\*]*)(?P<after>\s*\S?)",
        re.IGNORECASE,
    )
    found = []
    for match in pattern.finditer(body):
        letter, after = match["letter"], match["after"].strip()
        wrapped = bool(match["open"] or match["close"])
        ends = after == "" or after in ".,;:!)"
        # A capital after "answer is" is the letter even before a word ("A because ...");
        # a lower-case one only when set apart ("(b)", "b.", end of text), else it is "a ...".
        if letter.isupper() or wrapped or ends:
            found.append(letter.upper())
    return found[-1] if found else None


def _is_article(text: str, index: int) -> bool:
    """Whether the capital at ``index`` reads as an English article ("A cat", "A 3-cycle")."""
    if text[index] != "A":
        return False
    rest = text[index + 1 :]
    return bool(re.match(r"\s+(?:[a-z]|\d+-|\d+\s+[a-z])", rest))


_NUMBER = re.compile(
    r"(?<![\w.])(?P<sign>[-−–]?)\s*\$?\s*"
    r"(?P<int>\d{1,3}(?:,\d{3})+|\d+)(?P<frac>\.\d+)?"
    r"(?:\s*/\s*(?P<den>\d+)(?![\d.]))?"
)


def parse_number(text: str) -> Fraction | None:
    """Parse one number ("1,234", "-3", "18.00", "$5", "3/4", "−2") exactly, or ``None``.

    Example:
        >>> parse_number("18.00") == parse_number("18")
        True
    """
    match = _NUMBER.search(str(text))
    return None if match is None else _to_fraction(match)


def _to_fraction(match: re.Match[str]) -> Fraction | None:
    value = Fraction(match["int"].replace(",", "") + (match["frac"] or ""))
    if match["den"]:
        den = int(match["den"])
        if den == 0:
            return None
        value /= den
    return -value if match["sign"] else value


def extract_number(text: str) -> Fraction | None:
    """The final numeric answer of a worked solution (GSM8K style), exactly, or ``None``.

    Looks, in order, for the number after the last ``####`` marker, inside the last
    ``\\boxed{...}``, after the last "answer is" / "Answer:", and otherwise takes the last
    number in the text. Thousands separators, currency signs, units ("18 dollars", "25%"),
    decimals ("18.00" equals 18), fractions ("3/4") and negative numbers ("-5", "−5") are
    understood.

    Example:
        >>> extract_number("She makes 9 * 2 = $18 every day.\\n#### 18")
        Fraction(18, 1)
        >>> extract_number("The answer is 1,250.50 dollars.")
        Fraction(2501, 2)
    """
    if not text:
        return None
    body = unicodedata.normalize("NFKC", str(text)).replace("−", "-")
    for marker in ("####", r"\boxed{"):
        if marker in body:
            tail = body.rsplit(marker, 1)[1]
            if (value := parse_number(tail)) is not None:
                return value
    answer = list(re.finditer(r"answer\s*(?:is|:|=)", body, re.IGNORECASE))
    if answer and (value := parse_number(body[answer[-1].end() :])) is not None:
        return value
    matches = list(_NUMBER.finditer(body))
    for match in reversed(matches):
        value = _to_fraction(match)
        if value is not None:
            return value
    return None
