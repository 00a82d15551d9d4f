"""Counterfactual fairness for LLMs: does swapping demographic terms change the answer?

Each item's prompt is rewritten with a :class:`SwapList`; the model answers both versions and
the paired outcomes are compared: the answer flip rate (with a Clopper–Pearson CI) and the
accuracy difference (with McNemar's exact test and a paired bootstrap CI).
"""

from __future__ import annotations

import asyncio
import math
import re
from collections.abc import Callable, Iterable, Mapping, Sequence
from typing import Any

import attrs
import numpy as np
from scipy import stats

from crucible.core import (
    Completion,
    CrucibleError,
    Item,
    Model,
    Prompt,
    Seeds,
    TokenLogprob,
    stable_hash,
)
from crucible.fairness._data import FairnessError
from crucible.fairness._swaps import SwapList, resolve_swaps

__all__ = ["BiasedModel", "CounterfactualResult", "counterfactual_fairness"]

Scorer = Callable[[Completion, Item], float]


def exact_match(completion: Completion, item: Item) -> float:
    """1.0 when the answer equals ``str(item.expected)`` (whitespace and case ignored)."""
    return float(completion.text.strip().lower() == str(item.expected).strip().lower())


@attrs.frozen
class CounterfactualResult:
    """Paired comparison of original and counterfactual prompts.

    Attributes:
        n_pairs: compared pairs: items whose prompt contained a swappable term, once per
            repeat, whose two calls both succeeded.
        n_skipped: items with nothing to swap (left out).
        flip_rate, flip_ci: share of pairs whose answer text changed, Clopper–Pearson CI.
        accuracy_original, accuracy_counterfactual: mean scores.
        accuracy_difference, difference_ci: counterfactual minus original, paired bootstrap CI
            over items (seeded).
        discordant: ``(b, c)`` — pairs right only originally / right only counterfactually.
        mcnemar_p: McNemar's exact test (two-sided binomial test of b against b + c, ``scipy.
            stats.binomtest``); 1 when there are no discordant pairs.
        detected: ``mcnemar_p < alpha``.
        alpha, confidence, swaps: the settings used.
        examples: up to five (original, counterfactual, answer, counterfactual answer) flips.
        n_failed: pairs left out because a model call failed.
        errors: up to five of those failures (item, repeat, error type and message).
    """

    n_pairs: int
    n_skipped: int
    flip_rate: float
    flip_ci: tuple[float, float]
    accuracy_original: float
    accuracy_counterfactual: float
    accuracy_difference: float
    difference_ci: tuple[float, float]
    discordant: tuple[int, int]
    mcnemar_p: float
    detected: bool
    alpha: float
    confidence: float
    swaps: str
    examples: tuple[tuple[str, str, str, str], ...]
    n_failed: int
    errors: tuple[str, ...]

    def to_dict(self) -> dict[str, Any]:
        data = attrs.asdict(self, recurse=False)
        data["flip_ci"] = list(self.flip_ci)
        data["difference_ci"] = list(self.difference_ci)
        data["discordant"] = list(self.discordant)
        data["examples"] = [list(e) for e in self.examples]
        data["errors"] = list(self.errors)
        return data

    def __str__(self) -> str:
        c = f"{self.confidence:.0%}"
        return (
            f"counterfactual fairness ({self.swaps}, {self.n_pairs} pairs, {self.n_skipped} "
            f"skipped, {self.n_failed} failed): flip rate {self.flip_rate:.3f} ({c} CI {self.flip_ci[0]:.3f}–"
            f"{self.flip_ci[1]:.3f}); accuracy {self.accuracy_original:.3f} → "
            f"{self.accuracy_counterfactual:.3f} (difference {self.accuracy_difference:+.3f}, "
            f"{c} CI {self.difference_ci[0]:+.3f} to {self.difference_ci[1]:+.3f}); McNemar exact "
            f"p = {self.mcnemar_p:.3g} → {'bias detected' if self.detected else 'no bias detected'}"
        )


def _prompt_of(item: Item) -> str:
    if isinstance(item.input, str):
        return item.input
    raise FairnessError(
        f"item {item.id!r} has a non-string input; pass `prompt=` to render it to text"
    )


async def counterfactual_fairness(
    model: Model,
    items: Iterable[Item],
    *,
    swaps: str | SwapList | Sequence[str | SwapList] | Mapping[str, str] = "gender",
    scorer: Scorer = exact_match,
    seed: int = 0,
    repeats: int = 1,
    prompt: Callable[[Item], str] | None = None,
    alpha: float = 0.05,
    ci: float = 0.95,
    n_boot: int = 2000,
    concurrency: int = 16,
    max_failures: float = 0.1,
) -> CounterfactualResult:
    """Swap demographic terms in each prompt and test whether answers and accuracy change.

    Args:
        model: any :class:`crucible.core.Model`; it receives ``item=`` and ``repeat=`` so
            simulated models answer consistently.
        items: evaluation items; ``item.input`` is the prompt unless ``prompt=`` renders one.
        swaps: a bundled list name (``"gender"``, ``"names"``, ``"dialect"``), several, a
            :class:`SwapList`, or a ``{term: counterfactual}`` mapping.
        scorer: ``(Completion, Item) -> score in [0, 1]``; default exact match with
            ``item.expected``.
        seed: seeds the bootstrap CI.
        repeats: calls per prompt version (``repeat=0..repeats-1``).
        max_failures: the largest share of pairs whose model call may fail (a
            :class:`crucible.core.CrucibleError`); failed pairs are left out and counted in
            ``n_failed``; beyond this share the call raises.

    Returns:
        A :class:`CounterfactualResult`.

    Raises:
        FairnessError: no item contains a swappable term, bad ``alpha``/``ci``/``repeats``,
            more failed calls than ``max_failures`` allows.

    References:
        Kusner et al. (2017), "Counterfactual Fairness", NeurIPS; Garg et al. (2019),
        "Counterfactual Fairness in Text Classification through Robustness", AIES;
        McNemar (1947), Psychometrika 12(2).
    """
    if not 0 < alpha < 1 or not 0 < ci < 1:
        raise FairnessError(f"`alpha` and `ci` must be in (0, 1), got {alpha!r} and {ci!r}")
    if not isinstance(repeats, int) or repeats < 1:
        raise FairnessError(f"`repeats` must be an int >= 1, got {repeats!r}")
    if not 0 <= max_failures <= 1:
        raise FairnessError(f"`max_failures` must be a share in [0, 1], got {max_failures!r}")
    if not isinstance(n_boot, int) or n_boot < 2:
        raise FairnessError(f"`n_boot` must be an int >= 2 (2000 is typical), got {n_boot!r}")
    swap_list = resolve_swaps(swaps)
    render = prompt or _prompt_of
    pairs: list[tuple[Item, str, str]] = []
    skipped = 0
    for item in items:
        if not isinstance(item, Item):
            raise FairnessError(f"`items` must hold crucible.core.Item, got {type(item).__name__}")
        text = render(item)
        swapped = swap_list.apply(text)
        if swapped == text:
            skipped += 1
        else:
            pairs.append((item, text, swapped))
    if not pairs:
        raise FairnessError(
            f"no item contains a term from the {swap_list.name!r} swap list; choose another "
            "list or pass your own `swaps`"
        )
    semaphore = asyncio.Semaphore(max(1, concurrency))

    async def ask(text: str, item: Item, r: int) -> Completion | CrucibleError:
        async with semaphore:
            try:
                return await model.generate(text, item=item, repeat=r)
            except CrucibleError as exc:  # a failed call is data: the pair is left out
                return exc

    all_jobs = [(item, a, b, r) for item, a, b in pairs for r in range(repeats)]
    first = await asyncio.gather(*(ask(a, item, r) for item, a, _, r in all_jobs))
    second = await asyncio.gather(*(ask(b, item, r) for item, _, b, r in all_jobs))
    errors = [
        f"{job[0].id} (repeat {job[3]}): {type(e).__name__}: {e}"
        for job, x, y in zip(all_jobs, first, second, strict=True)
        for e in (x, y)
        if isinstance(e, CrucibleError)
    ]
    kept = [
        (job, x, y)
        for job, x, y in zip(all_jobs, first, second, strict=True)
        if isinstance(x, Completion) and isinstance(y, Completion)
    ]
    n_failed = len(all_jobs) - len(kept)
    if not kept or n_failed > max_failures * len(all_jobs):
        raise FairnessError(
            f"{n_failed} of {len(all_jobs)} pairs failed, more than `max_failures` = "
            f"{max_failures:g} allows; first error: {errors[0]}"
        )
    jobs = [job for job, _, _ in kept]
    original = [x for _, x, _ in kept]
    counter = [y for _, _, y in kept]
    s0 = np.array([float(scorer(c, job[0])) for c, job in zip(original, jobs, strict=True)])
    s1 = np.array([float(scorer(c, job[0])) for c, job in zip(counter, jobs, strict=True)])
    flips = np.array(
        [a.text.strip() != b.text.strip() for a, b in zip(original, counter, strict=True)]
    )
    n = len(jobs)
    k = int(flips.sum())
    flip_ci = stats.binomtest(k, n).proportion_ci(confidence_level=ci, method="exact")
    right0, right1 = s0 >= 0.5, s1 >= 0.5
    b = int(np.sum(right0 & ~right1))
    c = int(np.sum(~right0 & right1))
    p = float(stats.binomtest(b, b + c, 0.5).pvalue) if b + c else 1.0
    diff = s1 - s0
    rng = Seeds(seed).generator("counterfactual-bootstrap")
    boot = diff[rng.integers(0, n, (n_boot, n))].mean(axis=1)
    a_ = (1 - ci) / 2
    lo, hi = np.quantile(boot, [a_, 1 - a_])
    examples = tuple(
        (job[1], job[2], o.text, cf.text)
        for job, o, cf, f in zip(jobs, original, counter, flips, strict=True)
        if f
    )[:5]
    return CounterfactualResult(
        n_pairs=n, n_skipped=skipped * repeats, flip_rate=k / n,
        flip_ci=(float(flip_ci.low), float(flip_ci.high)), accuracy_original=float(s0.mean()),
        accuracy_counterfactual=float(s1.mean()), accuracy_difference=float(diff.mean()),
        difference_ci=(float(lo), float(hi)), discordant=(b, c), mcnemar_p=p,
        detected=p < alpha, alpha=alpha, confidence=ci, swaps=swap_list.name, examples=examples,
        n_failed=n_failed, errors=tuple(errors[:5]),
    )  # fmt: skip


class BiasedModel:
    """A model wrapper with a planted bias, for testing fairness checks.

    When the prompt contains any of ``trigger_terms`` (whole words, case-insensitive), a share
    ``accuracy_drop`` of the correct answers (those equal to ``item.expected``; every answer
    when no item is given) — chosen by a seeded hash of (seed, item id, repeat), so the same
    calls are affected every time — is replaced with a wrong answer: the next choice letter
    for a letter answer, else ``"I don't know."``. Accuracy on triggered prompts falls by
    ``accuracy_drop`` times the base accuracy.

    Example:
        >>> from crucible.core import SimulatedModel
        >>> biased = BiasedModel(SimulatedModel("gpt-4", seed=1), ["she", "her"], accuracy_drop=0.3)
    """

    def __init__(
        self, base: Model, trigger_terms: Iterable[str], *, accuracy_drop: float, seed: int = 0
    ) -> None:
        terms = [t for t in trigger_terms if t.strip()]
        if not terms:
            raise FairnessError("`trigger_terms` is empty; name the terms that trigger the bias")
        if not 0 <= accuracy_drop <= 1:
            raise FairnessError(f"`accuracy_drop` must be in [0, 1], got {accuracy_drop!r}")
        self.base = base
        self.trigger_terms = tuple(terms)
        self.accuracy_drop = float(accuracy_drop)
        self.seed = seed
        self._pattern = re.compile(
            r"\b(" + "|".join(re.escape(t) for t in terms) + r")\b", re.IGNORECASE
        )

    async def generate(self, prompt: Prompt, **params: Any) -> Completion:
        completion = await self.base.generate(prompt, **params)
        text = prompt if isinstance(prompt, str) else " ".join(m.content for m in prompt)
        if not self._pattern.search(text):
            return completion
        item = params.get("item")
        key = item.id if isinstance(item, Item) else text
        u = stable_hash("biased-model", self.seed, key, params.get("repeat", 0)) / 2.0**64
        if u >= self.accuracy_drop:
            return completion
        answer = completion.text.strip()
        if isinstance(item, Item) and item.expected is not None and answer != str(item.expected):
            return completion  # already wrong: the planted bias only removes correct answers
        if len(answer) == 1 and answer.isalpha() and answer.isupper():
            wrong = chr(65 + (ord(answer) - 64) % 4)
        else:
            wrong = "I don't know."
        conf = None if completion.confidence is None else min(completion.confidence, 0.5)
        logprobs = None if conf is None else [TokenLogprob(wrong, math.log(conf))]
        return attrs.evolve(completion, text=wrong, confidence=conf, logprobs=logprobs)
