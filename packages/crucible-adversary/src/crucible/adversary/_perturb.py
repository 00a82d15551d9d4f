"""Character-, word- and sentence-level perturbations: seeded pure functions of the text.

Each takes a :class:`numpy.random.Generator` and a ``rate`` (the fraction of eligible
characters or words changed; at least one when any is eligible).
"""

from __future__ import annotations

import re

import numpy as np

__all__ = ["PERTURBATIONS"]

_HOMOGLYPHS = {
    "a": "а",
    "c": "с",
    "e": "е",
    "i": "і",
    "j": "ј",
    "o": "о",
    "p": "р",
    "s": "ѕ",
    "x": "х",
    "y": "у",
    "A": "Α",
    "B": "Β",
    "C": "С",
    "E": "Ε",
    "H": "Η",
    "I": "Ι",
    "K": "Κ",
    "M": "Μ",
    "N": "Ν",
    "O": "Ο",
    "P": "Ρ",
    "T": "Τ",
    "X": "Χ",
    "Y": "Υ",
}
_KEYBOARD_ROWS = ("qwertyuiop", "asdfghjkl", "zxcvbnm")
_NEIGHBOURS: dict[str, str] = {}
for _r, _row in enumerate(_KEYBOARD_ROWS):
    for _c, _ch in enumerate(_row):
        near = [_row[j] for j in (_c - 1, _c + 1) if 0 <= j < len(_row)]
        for _dr in (-1, 1):
            if 0 <= _r + _dr < len(_KEYBOARD_ROWS):
                other = _KEYBOARD_ROWS[_r + _dr]
                near += [other[j] for j in (_c - 1, _c, _c + 1) if 0 <= j < len(other)]
        _NEIGHBOURS[_ch] = "".join(near)

_FILLERS = ("really", "actually", "basically", "just", "quite", "simply", "indeed", "perhaps")
# A small thesaurus of everyday words (each entry's alternatives keep the part of speech).
_SYNONYMS: dict[str, tuple[str, ...]] = {
    "big": ("large", "huge"),
    "small": ("little", "tiny"),
    "fast": ("quick", "rapid"),
    "quick": ("fast", "rapid"),
    "happy": ("glad", "cheerful"),
    "sad": ("unhappy", "sorrowful"),
    "begin": ("start", "commence"),
    "start": ("begin", "commence"),
    "end": ("finish", "conclude"),
    "buy": ("purchase", "acquire"),
    "help": ("assist", "aid"),
    "show": ("display", "reveal"),
    "answer": ("reply", "response"),
    "question": ("query", "inquiry"),
    "make": ("create", "build"),
    "use": ("employ", "utilise"),
    "find": ("locate", "discover"),
    "get": ("obtain", "acquire"),
    "give": ("provide", "offer"),
    "tell": ("inform", "notify"),
    "think": ("believe", "reckon"),
    "say": ("state", "declare"),
    "choose": ("select", "pick"),
    "many": ("numerous", "several"),
    "correct": ("right", "accurate"),
    "wrong": ("incorrect", "mistaken"),
    "true": ("accurate", "correct"),
    "false": ("untrue", "incorrect"),
    "total": ("sum", "whole"),
    "each": ("every",),
    "number": ("figure", "amount"),
    "money": ("cash", "funds"),
    "car": ("automobile", "vehicle"),
    "house": ("home", "residence"),
    "child": ("kid", "youngster"),
    "children": ("kids", "youngsters"),
    "student": ("pupil", "learner"),
    "teacher": ("instructor", "tutor"),
    "job": ("work", "task"),
    "idea": ("notion", "concept"),
    "problem": ("issue", "difficulty"),
    "result": ("outcome", "consequence"),
    "important": ("significant", "crucial"),
    "easy": ("simple", "effortless"),
    "hard": ("difficult", "tough"),
    "old": ("aged", "elderly"),
    "new": ("novel", "fresh"),
    "good": ("fine", "decent"),
    "bad": ("poor", "awful"),
    "often": ("frequently", "regularly"),
    "about": ("approximately", "roughly"),
    "enough": ("sufficient", "adequate"),
    "smart": ("clever", "intelligent"),
    "build": ("construct", "assemble"),
    "explain": ("describe", "clarify"),
    "calculate": ("compute", "work out"),
    "during": ("throughout",),
    "shop": ("store",),
    "purchase": ("buy",),
    "each day": ("daily",),
    "earn": ("make", "receive"),
    "spend": ("use", "expend"),
    "walk": ("stroll", "stride"),
    "run": ("sprint", "jog"),
}
_WORD = re.compile(r"\S+")
_LETTERS = re.compile(r"[A-Za-z]")
_SENTENCE = re.compile(r"(?<=[.!?])\s+")


def _count(n: int, rate: float) -> int:
    # Any positive rate changes at least one eligible unit; rate 0 changes nothing.
    return 0 if n == 0 or rate == 0 else max(1, round(n * rate))


def _pick(rng: np.random.Generator, n: int, rate: float) -> list[int]:
    return sorted(int(i) for i in rng.choice(n, size=_count(n, rate), replace=False)) if n else []


def _letters(text: str) -> list[int]:
    return [m.start() for m in _LETTERS.finditer(text)]


def char_swap(text: str, rng: np.random.Generator, rate: float) -> str:
    chars = list(text)
    eligible = [i for i in range(len(text) - 1) if text[i].isalpha() and text[i + 1].isalpha()]
    for k in _pick(rng, len(eligible), rate):
        i = eligible[k]
        chars[i], chars[i + 1] = chars[i + 1], chars[i]
    return "".join(chars)


def char_delete(text: str, rng: np.random.Generator, rate: float) -> str:
    eligible = _letters(text)
    drop = {eligible[k] for k in _pick(rng, len(eligible), rate)}
    return "".join(c for i, c in enumerate(text) if i not in drop)


def char_insert(text: str, rng: np.random.Generator, rate: float) -> str:
    eligible = _letters(text)
    where = {eligible[k] for k in _pick(rng, len(eligible), rate)}
    letters = "abcdefghijklmnopqrstuvwxyz"
    out = []
    for i, c in enumerate(text):
        out.append(c)
        if i in where:
            out.append(letters[int(rng.integers(26))])
    return "".join(out)


def homoglyph(text: str, rng: np.random.Generator, rate: float) -> str:
    eligible = [i for i, c in enumerate(text) if c in _HOMOGLYPHS]
    chars = list(text)
    for k in _pick(rng, len(eligible), rate):
        chars[eligible[k]] = _HOMOGLYPHS[text[eligible[k]]]
    return "".join(chars)


def keyboard_typo(text: str, rng: np.random.Generator, rate: float) -> str:
    eligible = [i for i, c in enumerate(text) if c.lower() in _NEIGHBOURS]
    chars = list(text)
    for k in _pick(rng, len(eligible), rate):
        i = eligible[k]
        near = _NEIGHBOURS[text[i].lower()]
        typo = near[int(rng.integers(len(near)))]
        chars[i] = typo.upper() if text[i].isupper() else typo
    return "".join(chars)


def _words(text: str) -> list[str]:
    return _WORD.findall(text)


def word_delete(text: str, rng: np.random.Generator, rate: float) -> str:
    words = _words(text)
    if len(words) < 2:
        return text
    drop = set(_pick(rng, len(words), rate)[: len(words) - 1])
    return " ".join(w for i, w in enumerate(words) if i not in drop)


def word_insert(text: str, rng: np.random.Generator, rate: float) -> str:
    words = _words(text)
    where = set(_pick(rng, len(words), rate))
    out: list[str] = []
    for i, w in enumerate(words):
        if i in where:
            out.append(_FILLERS[int(rng.integers(len(_FILLERS)))])
        out.append(w)
    return " ".join(out)


def word_synonym(text: str, rng: np.random.Generator, rate: float) -> str:
    words = _words(text)
    eligible = [i for i, w in enumerate(words) if w.lower().strip(".,;:!?") in _SYNONYMS]
    for k in _pick(rng, len(eligible), rate):
        i = eligible[k]
        core = words[i].strip(".,;:!?")
        options = _SYNONYMS[core.lower()]
        choice = options[int(rng.integers(len(options)))]
        if core[:1].isupper():
            choice = choice.capitalize()
        words[i] = words[i].replace(core, choice, 1)
    return " ".join(words)


def word_shuffle(text: str, rng: np.random.Generator, rate: float) -> str:
    words = _words(text)
    if len(words) < 2:
        return text
    for k in _pick(rng, len(words) - 1, rate):
        words[k], words[k + 1] = words[k + 1], words[k]
    return " ".join(words)


def sentence_reorder(text: str, rng: np.random.Generator, rate: float) -> str:
    sentences = [s for s in _SENTENCE.split(text.strip()) if s]
    if len(sentences) < 2 or rate == 0:
        return text
    order = [int(i) for i in rng.permutation(len(sentences))]
    if order == sorted(order):
        order = order[1:] + order[:1]
    return " ".join(sentences[i] for i in order)


PERTURBATIONS = {
    "char_swap": char_swap,
    "char_delete": char_delete,
    "char_insert": char_insert,
    "homoglyph": homoglyph,
    "keyboard_typo": keyboard_typo,
    "word_delete": word_delete,
    "word_insert": word_insert,
    "word_synonym": word_synonym,
    "word_shuffle": word_shuffle,
    "sentence_reorder": sentence_reorder,
}
