"""Scorers: ``scorer(prediction, item) -> Score`` and ``scorer.score_batch(predictions, items)``.

Example:
    >>> from crucible.core import Item
    >>> from crucible.datasets import score
    >>> score.get_scorer("multiple_choice")("The answer is (B).", Item("q1", "?", "B")).value
    1.0
"""

from crucible.datasets._extract import extract_choice, extract_number, normalize_text, parse_number
from crucible.datasets._humaneval import CodeExecution
from crucible.datasets._registry import ScorerName, get_scorer, register_scorer, scorer_names
from crucible.datasets._scoring import (
    BaseScorer,
    CustomScorer,
    ExactMatch,
    MultipleChoice,
    NumericMatch,
    RegexMatch,
    Score,
    TokenF1,
)
from crucible.datasets._text_metrics import Bleu, RougeL

__all__ = [
    "BaseScorer",
    "Bleu",
    "CodeExecution",
    "CustomScorer",
    "ExactMatch",
    "MultipleChoice",
    "NumericMatch",
    "RegexMatch",
    "RougeL",
    "Score",
    "ScorerName",
    "TokenF1",
    "extract_choice",
    "extract_number",
    "get_scorer",
    "normalize_text",
    "parse_number",
    "register_scorer",
    "scorer_names",
]
