from __future__ import annotations

from typing import Any

import numpy as np
import pytest

from crucible.core import Completion, Item, SimulatedModel
from crucible.xai import XAIError, prompt_attribution
from crucible.xai._prompt import Segmentation, split_prompt


class KeywordModel:
    """Answers 'Paris' with confidence 0.5 + 0.3·[mentions France] + 0.1·[mentions capital]."""

    def __init__(self) -> None:
        self.calls = 0

    async def generate(self, prompt: Any, **params: Any) -> Completion:
        self.calls += 1
        text = str(prompt)
        france, capital = "France" in text, "capital" in text
        answer = "Paris" if france else "Lyon"
        conf = 0.5 + 0.3 * france + 0.1 * capital
        return Completion(text=answer, model="kw", provider="test", confidence=conf)


PROMPT = "You are a geography tutor. The country is France. Name its capital city. Be brief."


async def test_attribution_finds_the_segments_that_matter():
    model = KeywordModel()
    att = await prompt_attribution(model, PROMPT)
    assert [s.strip() for s in att.segments] == [
        "You are a geography tutor.", "The country is France.", "Name its capital city.", "Be brief.",
    ]  # fmt: skip
    # score = P(Paris) = [France] * (0.8 + 0.1 [capital]); exact Shapley by hand:
    # φ_France = 0.8 + 0.1/2 = 0.85, φ_capital = 0.1/2 = 0.05, others 0
    np.testing.assert_allclose(att.values, [0.0, 0.85, 0.05, 0.0], atol=1e-12)
    assert att.values.sum() == pytest.approx(att.full_score - att.base_score)
    assert att.full_score == pytest.approx(0.9)
    assert att.answer == "Paris"
    assert att.n_calls == 16 == model.calls
    table = att.to_table()
    assert table["segment"][1] == "The country is France."
    html = att.to_html()
    assert "rgba(40,160,80,0.80)" in html and "The country is France." in html


async def test_exact_match_scorer_and_sampled_kernel_shap():
    words = " ".join(f"w{i}" for i in range(14)) + " France"

    class NoConfidence(KeywordModel):
        async def generate(self, prompt: Any, **params: Any) -> Completion:
            c = await super().generate(prompt, **params)
            return Completion(text=c.text, model="kw", provider="test")

    att = await prompt_attribution(NoConfidence(), words, segments="word", n_samples=200, seed=1)
    assert att.scorer.startswith("exact match")
    assert "Kernel SHAP" in att.method
    assert int(np.argmax(att.values)) == 14
    assert att.values[14] == pytest.approx(1.0, abs=1e-9)
    assert att.values.sum() == pytest.approx(1.0)


async def test_works_with_a_simulated_model():
    model = SimulatedModel("gpt-4", seed=3)
    item = Item("q1", "What is 2+2?", expected="4")
    att = await prompt_attribution(model, "Think step by step. What is 2+2?", params={"item": item})
    # the simulated model's answer depends on the item, not the wording: nothing to attribute
    np.testing.assert_allclose(att.values, 0.0, atol=1e-12)
    assert att.full_score == pytest.approx(att.base_score)


def test_split_prompt_round_trips():
    text = "  One. Two!  Three?\nFour"
    for how in Segmentation:
        assert "".join(split_prompt(text, how)) == text


async def test_bad_input():
    with pytest.raises(XAIError, match="`prompt` must be a non-empty string"):
        await prompt_attribution(KeywordModel(), "  ")
    with pytest.raises(XAIError, match="concatenate exactly"):
        await prompt_attribution(KeywordModel(), "a b", segments=["a", "b"])
    with pytest.raises(XAIError, match="`segments` must be one of"):
        await prompt_attribution(KeywordModel(), "a b", segments="paragraph")


async def test_model_failures_propagate():
    from crucible.core import ProviderError

    failing = SimulatedModel("gpt-4", seed=0, error_rate=1.0)
    with pytest.raises(ProviderError):
        await prompt_attribution(failing, "One. Two.")
