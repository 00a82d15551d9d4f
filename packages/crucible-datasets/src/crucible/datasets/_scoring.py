"""Scorers: ``(prediction, item) -> Score``.

Every scorer is a small object with ``__call__(prediction, item)`` and
``score_batch(predictions, items)``; options are constructor arguments. Names and lookup live
in :mod:`crucible.datasets._registry`.
"""

from __future__ import annotations

import re
import string
from abc import ABC, abstractmethod
from collections import Counter
from collections.abc import Callable, Mapping, Sequence
from typing import Any

import attrs
import polars as pl

from crucible.core import Item, ValidationError
from crucible.datasets._extract import extract_choice, extract_number, normalize_text, parse_number

__all__ = [
    "BaseScorer",
    "CustomScorer",
    "ExactMatch",
    "MultipleChoice",
    "NumericMatch",
    "RegexMatch",
    "Score",
    "TokenF1",
    "references",
    "token_f1",
]


def _details(value: Mapping[str, Any]) -> dict[str, Any]:
    return dict(value)


@attrs.frozen(slots=True)
class Score:
    """One scored prediction.

    Attributes:
        value: the score, usually in [0, 1] (1 = correct).
        details: what the scorer saw (the extracted answer, the reference matched, ...).
    """

    value: float = attrs.field(converter=float)
    details: dict[str, Any] = attrs.field(factory=dict, converter=_details)

    @property
    def correct(self) -> bool:
        return self.value >= 1.0

    def to_dict(self) -> dict[str, Any]:
        return {"value": self.value, "details": dict(self.details)}

    def __str__(self) -> str:
        extra = ", ".join(f"{k}={v!r}" for k, v in self.details.items())
        return f"Score({self.value:g}{', ' + extra if extra else ''})"


_ASCII_PUNCT = "[" + "".join(f"\\x{ord(c):02x}" for c in string.punctuation) + "]"


def references(item: Item) -> list[Any]:
    """The accepted answers of an item: ``expected`` itself, or its elements if a list."""
    expected = item.expected
    if isinstance(expected, list | tuple):
        return list(expected)
    return [expected]


class BaseScorer(ABC):
    """Common behaviour: a ``name`` and a ``score_batch`` that checks lengths."""

    name: str = "scorer"

    @abstractmethod
    def __call__(self, prediction: Any, item: Item) -> Score:
        """Score one prediction against its item."""

    def score_batch(self, predictions: Sequence[Any], items: Sequence[Item]) -> list[Score]:
        """Score ``predictions[i]`` against ``items[i]`` for every ``i``."""
        if len(predictions) != len(items):
            raise ValidationError(
                f"`predictions` has {len(predictions)} entries but `items` has {len(items)}: "
                "pass one prediction per item"
            )
        return [self(p, it) for p, it in zip(predictions, items, strict=True)]

    def __repr__(self) -> str:
        return f"{type(self).__name__}()"


class ExactMatch(BaseScorer):
    """1 when the prediction equals a reference after normalisation.

    Each normalisation step of :func:`normalize_text` can be switched off: ``case``,
    ``whitespace``, ``punctuation``, ``articles``.

    Example:
        >>> ExactMatch()("The Beatles!", Item("1", "?", "beatles")).value
        1.0
        >>> ExactMatch(case=False)("paris", Item("1", "?", "Paris")).value
        0.0
    """

    name = "exact_match"

    def __init__(
        self,
        *,
        case: bool = True,
        whitespace: bool = True,
        punctuation: bool = True,
        articles: bool = True,
    ) -> None:
        self.options = {
            "case": case,
            "whitespace": whitespace,
            "punctuation": punctuation,
            "articles": articles,
        }

    def normalize(self, text: Any) -> str:
        return normalize_text("" if text is None else str(text), **self.options)

    def __call__(self, prediction: Any, item: Item) -> Score:
        said = self.normalize(prediction)
        for ref in references(item):
            if said == self.normalize(ref):
                return Score(1.0, {"normalized": said, "matched": ref})
        return Score(0.0, {"normalized": said, "matched": None})

    def normalize_many(self, texts: Sequence[Any]) -> list[str]:
        """:meth:`normalize` over many texts at once, as polars string expressions.

        ASCII texts (the usual case) are normalised column-wise; the rare non-ASCII ones go
        through :func:`normalize_text`, whose Unicode rules (NFKC, ``\\b`` around combining
        marks) polars' regex engine does not share. Both give identical results.
        """
        values = ["" if t is None else str(t) for t in texts]
        series = pl.Series("text", values, dtype=pl.String)
        expr = pl.col("text")
        if self.options["case"]:
            expr = expr.str.to_lowercase()
        if self.options["punctuation"]:
            expr = expr.str.replace_all(_ASCII_PUNCT, "")
        if self.options["articles"]:
            expr = expr.str.replace_all(r"(?i)\b(a|an|the)\b", " ")
        if self.options["whitespace"]:
            # str.split() also splits on the ASCII separators \x1c-\x1f.
            expr = expr.str.replace_all(r"[\s\x1c-\x1f]+", " ").str.strip_chars(" ")
        frame = series.to_frame().select(
            expr.alias("normalized"), pl.col("text").str.contains(r"^[\x00-\x7f]*$").alias("ascii")
        )
        out = frame["normalized"].to_list()
        for index in (~frame["ascii"]).arg_true().to_list():
            out[index] = self.normalize(values[index])
        return out

    def score_batch(self, predictions: Sequence[Any], items: Sequence[Item]) -> list[Score]:
        """Vectorised: every prediction and reference is normalised in one polars pass."""
        if len(predictions) != len(items):
            raise ValidationError(
                f"`predictions` has {len(predictions)} entries but `items` has {len(items)}: "
                "pass one prediction per item"
            )
        refs = [references(item) for item in items]
        said = self.normalize_many(predictions)
        flat = self.normalize_many([r for group in refs for r in group])
        scores, position = [], 0
        for text, group in zip(said, refs, strict=True):
            normalized = flat[position : position + len(group)]
            position += len(group)
            if text in normalized:
                matched = group[normalized.index(text)]
                scores.append(Score(1.0, {"normalized": text, "matched": matched}))
            else:
                scores.append(Score(0.0, {"normalized": text, "matched": None}))
        return scores


def token_f1(prediction: str, reference: str) -> tuple[float, float, float]:
    """SQuAD v1.1 token F1 (Rajpurkar et al., 2016): (f1, precision, recall) of normalised
    bag-of-tokens overlap."""
    pred = normalize_text(prediction).split()
    gold = normalize_text(reference).split()
    if not pred or not gold:
        same = float(pred == gold)
        return same, same, same
    common = sum((Counter(pred) & Counter(gold)).values())
    if common == 0:
        return 0.0, 0.0, 0.0
    precision = common / len(pred)
    recall = common / len(gold)
    return 2 * precision * recall / (precision + recall), precision, recall


class TokenF1(BaseScorer):
    """SQuAD-style token F1, the maximum over references.

    Example:
        >>> round(TokenF1()("the cat sat", Item("1", "?", "a cat sat down")).value, 4)
        0.8
    """

    name = "f1"

    def __call__(self, prediction: Any, item: Item) -> Score:
        best = (0.0, 0.0, 0.0, None)
        for ref in references(item):
            f1, p, r = token_f1("" if prediction is None else str(prediction), str(ref))
            if best[3] is None or f1 > best[0]:
                best = (f1, p, r, ref)
        return Score(best[0], {"precision": best[1], "recall": best[2], "matched": best[3]})


class MultipleChoice(BaseScorer):
    """1 when the letter extracted from the prediction is the expected letter.

    The number of options comes from ``item.metadata["choices"]`` (default 4).

    Example:
        >>> MultipleChoice()("I'm fairly sure the answer is (c).", Item("1", "?", "C")).value
        1.0
    """

    name = "multiple_choice"

    def __call__(self, prediction: Any, item: Item) -> Score:
        choices = item.metadata.get("choices")
        n = len(choices) if isinstance(choices, list | tuple) else 4
        letter = extract_choice("" if prediction is None else str(prediction), n, choices)
        expected = str(item.expected).strip().upper()
        return Score(float(letter == expected), {"extracted": letter, "expected": expected})


class NumericMatch(BaseScorer):
    """1 when the final number of the prediction equals the expected number (exactly, as
    fractions, or within ``tolerance`` when given).

    Example:
        >>> NumericMatch()("So she makes $18.00 a day.", Item("1", "?", "18")).value
        1.0
    """

    name = "numeric"

    def __init__(self, *, tolerance: float = 0.0) -> None:
        if tolerance < 0:
            raise ValidationError(f"`tolerance` must be >= 0, got {tolerance}")
        self.tolerance = tolerance

    def __call__(self, prediction: Any, item: Item) -> Score:
        got = extract_number("" if prediction is None else str(prediction))
        for ref in references(item):
            want = parse_number(str(ref))
            if want is None:
                raise ValidationError(
                    f"item {item.id!r}: expected value {ref!r} is not a number; NumericMatch "
                    "needs numeric references"
                )
            if got is not None and abs(float(got - want)) <= self.tolerance:
                return Score(1.0, {"extracted": str(got), "expected": str(want)})
        shown = None if got is None else str(got)
        return Score(0.0, {"extracted": shown, "expected": str(item.expected)})


class RegexMatch(BaseScorer):
    """Match a regular expression.

    Without ``group``, scores 1 when ``pattern`` is found in the prediction. With ``group``
    (a number or name), the captured text is compared to the references with
    :class:`ExactMatch` normalisation.

    Example:
        >>> RegexMatch(r"ANSWER:\\s*(\\w+)", group=1)("ANSWER: Paris", Item("1", "?", "paris")).value
        1.0
    """

    name = "regex"

    def __init__(self, pattern: str, *, group: int | str | None = None, flags: int = 0) -> None:
        try:
            self.pattern = re.compile(pattern, flags)
        except re.error as exc:
            raise ValidationError(f"`pattern` {pattern!r} is not a valid regex: {exc}") from None
        self.group = group
        self._exact = ExactMatch()

    def __call__(self, prediction: Any, item: Item) -> Score:
        match = self.pattern.search("" if prediction is None else str(prediction))
        if match is None:
            return Score(0.0, {"match": None})
        if self.group is None:
            return Score(1.0, {"match": match.group(0)})
        captured = match.group(self.group)
        inner = self._exact(captured, item)
        return Score(inner.value, {"match": captured, "matched": inner.details["matched"]})


class CustomScorer(BaseScorer):
    """Wrap a callable ``fn(prediction, item)`` returning a bool, a number or a :class:`Score`.

    Example:
        >>> longer = CustomScorer(lambda p, it: len(p) > 3, name="long")
        >>> longer("hello", Item("1", "?")).value
        1.0
    """

    def __init__(self, fn: Callable[[Any, Item], bool | float | Score], *, name: str | None = None):
        if not callable(fn):
            raise ValidationError(f"`fn` must be callable, got {type(fn).__name__}")
        self.fn = fn
        self.name = name or str(getattr(fn, "__name__", "custom"))

    def __call__(self, prediction: Any, item: Item) -> Score:
        result = self.fn(prediction, item)
        if isinstance(result, Score):
            return result
        if isinstance(result, bool | int | float):
            return Score(float(result))
        raise ValidationError(
            f"custom scorer {self.name!r} returned {type(result).__name__}; "
            "return a bool, a number or a Score"
        )
