"""BLEU and ROUGE-L, computed by the reference implementations.

BLEU comes from sacrebleu (Post, 2018), whose tokenisation and smoothing are the standard
the field reports; ROUGE-L from Google's rouge-score package (the implementation behind
published ROUGE numbers since Lin, 2004 was re-implemented in Python). Re-implementing either
would only invite small, hard-to-spot differences from the figures papers report.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from crucible.core import Item, ValidationError
from crucible.datasets._scoring import BaseScorer, Score, references

__all__ = ["Bleu", "RougeL"]


class Bleu(BaseScorer):
    """Sentence BLEU from sacrebleu (``value`` in [0, 1], i.e. sacrebleu's score / 100,
    clipped at 1 against floating-point overshoot such as 100.00000000000004).

    ``score_batch`` returns sentence scores; :meth:`corpus` gives corpus BLEU, which is what
    papers report for a test set.

    Example:
        >>> Bleu()("the cat is on the mat", Item("1", "?", "the cat is on the mat")).value
        1.0
    """

    name = "bleu"

    def __init__(self, *, tokenize: str = "13a", smooth_method: str = "exp") -> None:
        import sacrebleu

        self.tokenize = tokenize
        self.smooth_method = smooth_method
        self._sacrebleu = sacrebleu

    def __call__(self, prediction: Any, item: Item) -> Score:
        refs = [str(r) for r in references(item)]
        result = self._sacrebleu.sentence_bleu(
            "" if prediction is None else str(prediction),
            refs,
            tokenize=self.tokenize,
            smooth_method=self.smooth_method,
        )
        return Score(min(result.score / 100.0, 1.0), {"bleu": str(result), "bp": result.bp})

    def corpus(self, predictions: Sequence[Any], items: Sequence[Item]) -> Score:
        """Corpus BLEU over all pairs (references padded per sacrebleu's convention)."""
        if len(predictions) != len(items):
            raise ValidationError(
                f"`predictions` has {len(predictions)} entries but `items` has {len(items)}"
            )
        refs = [[str(r) for r in references(it)] for it in items]
        width = max(len(r) for r in refs)
        streams = [[r[i] if i < len(r) else "" for r in refs] for i in range(width)]
        result = self._sacrebleu.corpus_bleu(
            ["" if p is None else str(p) for p in predictions],
            streams,
            tokenize=self.tokenize,
            smooth_method=self.smooth_method,
        )
        return Score(min(result.score / 100.0, 1.0), {"bleu": str(result), "bp": result.bp})


class RougeL(BaseScorer):
    """ROUGE-L F-measure from rouge-score, the maximum over references.

    Example:
        >>> round(RougeL()("the cat sat", Item("1", "?", "the cat sat down")).value, 4)
        0.8571
    """

    name = "rouge_l"

    def __init__(self, *, use_stemmer: bool = False) -> None:
        from rouge_score import rouge_scorer

        self._scorer = rouge_scorer.RougeScorer(["rougeL"], use_stemmer=use_stemmer)

    def __call__(self, prediction: Any, item: Item) -> Score:
        text = "" if prediction is None else str(prediction)
        best: tuple[float, float, float] = (0.0, 0.0, 0.0)
        for ref in references(item):
            s = self._scorer.score(str(ref), text)["rougeL"]
            if s.fmeasure >= best[0]:
                best = (s.fmeasure, s.precision, s.recall)
        return Score(best[0], {"precision": best[1], "recall": best[2]})
