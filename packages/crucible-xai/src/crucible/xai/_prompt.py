"""Prompt attribution: which parts of a prompt an LLM's answer depends on.

Segments of the prompt are players; a coalition is the prompt with the other segments removed;
its value is a score of the model's answer to that prompt. Shapley values over segments come
from exact enumeration (few segments) or Kernel SHAP (many), as for tabular models.
"""

from __future__ import annotations

import asyncio
import html
import math
import re
from collections.abc import Awaitable, Callable, Mapping, Sequence
from enum import StrEnum
from typing import Any, Literal

import attrs
import numpy as np
import polars as pl

from crucible.core import Completion, Model, Seeds
from crucible.xai._model import XAIError
from crucible.xai._shap import _sample_coalitions, _solve_constrained, all_masks, shapley_from_table

__all__ = ["PromptAttribution", "Segmentation", "prompt_attribution"]

#: Exact enumeration of all 2^k coalitions up to this many segments when n_samples="auto".
EXACT_MAX_SEGMENTS = 10

Scorer = Callable[[Completion], float]


class Segmentation(StrEnum):
    """How a prompt is split into attributed segments."""

    SENTENCE = "sentence"
    LINE = "line"
    WORD = "word"


_SENTENCE = re.compile(r"(?<=[.!?])\s+")


def split_prompt(prompt: str, how: Segmentation) -> list[str]:
    """Segments that concatenate back to ``prompt`` (whitespace stays with the segment before)."""
    if how is Segmentation.LINE:
        parts = prompt.splitlines(keepends=True)
    elif how is Segmentation.WORD:
        parts = re.findall(r"\S+\s*", prompt)
        lead = prompt[: len(prompt) - len(prompt.lstrip())]
        if lead and parts:
            parts[0] = lead + parts[0]
    else:
        parts, last = [], 0
        for m in _SENTENCE.finditer(prompt):
            parts.append(prompt[last : m.end()])
            last = m.end()
        parts.append(prompt[last:])
    return [p for p in parts if p]


@attrs.frozen
class PromptAttribution:
    """Shapley values of prompt segments for one answer.

    Attributes:
        segments: the prompt's segments, in order.
        values: one attribution per segment; they sum to ``full_score − base_score``.
        base_score: the score with every segment removed.
        full_score: the score of the full prompt.
        answer: the model's answer to the full prompt (the reference for the default scorer).
        scorer: what the score measures.
        method: enumeration or sampled Kernel SHAP, with the number of coalitions.
        n_calls: distinct model calls made.
    """

    segments: tuple[str, ...]
    values: np.ndarray = attrs.field(eq=False)
    base_score: float
    full_score: float
    answer: str
    scorer: str
    method: str
    n_calls: int

    def to_table(self) -> pl.DataFrame:
        """One row per segment: ``index, segment, value, share`` (share of Σ|values|)."""
        total = float(np.abs(self.values).sum()) or 1.0
        return pl.DataFrame({
            "index": list(range(len(self.segments))), "segment": [s.strip() for s in self.segments],
            "value": self.values, "share": np.abs(self.values) / total,
        })  # fmt: skip

    def to_html(self) -> str:
        """The prompt with each segment highlighted: green raises the score, red lowers it."""
        top = float(np.abs(self.values).max()) or 1.0
        spans = []
        for seg, v in zip(self.segments, self.values, strict=True):
            alpha = min(1.0, abs(float(v)) / top) * 0.8
            rgb = "40,160,80" if v >= 0 else "210,50,50"
            spans.append(
                f"<span title='{float(v):+.4f}' style='background:rgba({rgb},{alpha:.2f})'>"
                f"{html.escape(seg)}</span>"
            )
        return (
            "<div class='crucible-prompt-attribution' style='font-family:sans-serif;"
            "white-space:pre-wrap;line-height:1.6'>" + "".join(spans) + "</div>"
            f"<p style='font-family:sans-serif;font-size:90%'>answer: <b>{html.escape(self.answer)}"
            f"</b>; {html.escape(self.scorer)}: full {self.full_score:.4f}, none "
            f"{self.base_score:.4f}; {html.escape(self.method)}</p>"
        )

    def to_dict(self) -> dict[str, Any]:
        data = attrs.asdict(self, recurse=False)
        data["segments"] = list(self.segments)
        data["values"] = self.values.tolist()
        return data

    def __str__(self) -> str:
        lines = [
            f"answer {self.answer!r}; {self.scorer}: full {self.full_score:.4f}, none {self.base_score:.4f}"
        ]
        for seg, v in zip(self.segments, self.values, strict=True):
            lines.append(f"  {float(v):+.4f}  {seg.strip()[:70]}")
        return "\n".join(lines)


def _default_scorer(reference: str, has_probability: bool) -> tuple[Scorer, str]:
    ref = reference.strip()
    if has_probability:

        def prob(c: Completion) -> float:
            if c.text.strip() != ref:
                return 0.0
            if c.confidence is not None:
                return float(c.confidence)
            if c.logprobs:
                return float(math.exp(sum(lp.logprob for lp in c.logprobs)))
            return 0.0

        return prob, "probability of the full-prompt answer (0 when the answer changes)"

    def match(c: Completion) -> float:
        return float(c.text.strip() == ref)

    return match, "exact match with the full-prompt answer"


async def prompt_attribution(
    model: Model,
    prompt: str,
    *,
    segments: Segmentation | Literal["sentence", "line", "word"] | Sequence[str] = "sentence",
    scorer: Scorer | None = None,
    n_samples: int | Literal["auto"] = "auto",
    seed: int = 0,
    mask: str = "",
    empty_prompt: str = "…",
    concurrency: int = 8,
    params: Mapping[str, Any] | None = None,
) -> PromptAttribution:
    """Explain a model's answer over prompt segments with Shapley values.

    Args:
        model: any :class:`crucible.core.Model`.
        prompt: the prompt text.
        segments: ``"sentence"`` (default), ``"line"``, ``"word"``, or the segments themselves
            (they must concatenate to ``prompt``).
        scorer: ``Completion -> float``. By default the probability of the full prompt's answer
            when the model reports ``confidence`` or ``logprobs`` (0 when the answer changes),
            else exact match with that answer (a task score).
        n_samples: ``"auto"`` enumerates all 2^k coalitions for k ≤ 10 segments, else uses
            Kernel SHAP with ``2·k + 256`` coalitions; an int sets the coalition budget.
        mask: text that replaces a removed segment (default: nothing).
        empty_prompt: the prompt sent when every segment is removed.
        params: extra keyword arguments for ``model.generate`` (``item=``, ``temperature=``...).

    Returns:
        A :class:`PromptAttribution`; ``sum(values) == full_score − base_score``.

    Raises:
        XAIError: an empty prompt, segments that do not rebuild the prompt, a bad budget.
        crucible.core.ProviderError: a model call failed; every coalition's score is needed,
            so wrap flaky models with retries before attributing.
    """
    if not isinstance(prompt, str) or not prompt.strip():
        raise XAIError("`prompt` must be a non-empty string")
    if isinstance(segments, str):
        try:
            how = Segmentation(segments)
        except ValueError:
            raise XAIError(
                f"`segments` must be one of {[s.value for s in Segmentation]} or a list of strings, "
                f"got {segments!r}"
            ) from None
        parts = split_prompt(prompt, how)
    else:
        parts = [str(s) for s in segments]
        if "".join(parts) != prompt:
            raise XAIError(
                "`segments` must concatenate exactly to `prompt`; include the whitespace"
            )
    k = len(parts)
    extra = dict(params or {})
    semaphore = asyncio.Semaphore(max(1, concurrency))
    cache: dict[str, Awaitable[Completion]] = {}

    async def call(text: str) -> Completion:
        async with semaphore:
            return await model.generate(text, **extra)

    def completion_for(present: np.ndarray) -> Awaitable[Completion]:
        text = "".join(p if keep else mask for p, keep in zip(parts, present, strict=True))
        if not text.strip():
            text = empty_prompt
        if text not in cache:
            cache[text] = asyncio.ensure_future(call(text))
        return cache[text]

    full = await completion_for(np.ones(k, bool))
    if scorer is None:
        has_prob = full.confidence is not None or bool(full.logprobs)
        score_fn, scorer_name = _default_scorer(full.text, has_prob)
    else:
        score_fn, scorer_name = scorer, getattr(scorer, "__name__", "custom scorer")

    async def values_for(masks: np.ndarray) -> np.ndarray:
        done = await asyncio.gather(*(completion_for(m) for m in masks))
        return np.array([float(score_fn(c)) for c in done])

    exact = (n_samples == "auto" and k <= EXACT_MAX_SEGMENTS) or k == 1
    if not exact:
        budget = 2 * k + 256 if n_samples == "auto" else n_samples
        if not isinstance(budget, int) or isinstance(budget, bool) or budget < 2 * k:
            raise XAIError(
                f'`n_samples` must be "auto" or an int >= 2·k = {2 * k}, got {n_samples!r}'
            )
        exact = budget >= 2**k - 2
    if exact:
        v = await values_for(all_masks(k))
        phi = shapley_from_table(v, k)
        v0, v1 = float(v[0]), float(v[-1])
        method = f"exact Shapley over {2**k} coalitions"
    else:
        masks, weights = _sample_coalitions(
            k, int(budget), Seeds(seed).generator("prompt_attribution")
        )
        ends = await values_for(np.array([np.zeros(k, bool), np.ones(k, bool)]))
        v0, v1 = float(ends[0]), float(ends[1])
        phi = _solve_constrained(masks, weights, await values_for(masks), v0, v1)
        method = f"Kernel SHAP over {len(masks)} coalitions"
    return PromptAttribution(tuple(parts), phi, v0, v1, full.text, scorer_name, method, len(cache))
