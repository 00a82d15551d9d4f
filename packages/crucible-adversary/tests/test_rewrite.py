from __future__ import annotations

import pytest

from crucible.adversary import rewrite
from crucible.core import ConfigurationError, ValidationError, get_model


async def test_paraphrase_is_the_model_answer(scripted) -> None:  # type: ignore[no-untyped-def]
    model = scripted(lambda text: "  Which city is the capital of France?  ")
    a = await rewrite("What is the capital of France?", "paraphrase", model=model, seed=4)
    assert a.text == "Which city is the capital of France?"
    assert "Paraphrase the following text" in model.seen[0]
    assert model.params[0]["seed"] == 4 and model.params[0]["temperature"] == 0.7
    assert a.options["model"] == "test:scripted"


async def test_back_translation_pivots(scripted) -> None:  # type: ignore[no-untyped-def]
    replies = iter(["Quelle est la capitale?", "What's the capital?"])
    model = scripted(lambda text: next(replies))
    a = await rewrite(
        "What is the capital?", "back_translation", model=model, seed=1, language="German"
    )
    assert a.text == "What's the capital?" and a.options["pivot"] == "Quelle est la capitale?"
    assert "into German" in model.seen[0] and "into English" in model.seen[1]


async def test_formality_style(scripted) -> None:  # type: ignore[no-untyped-def]
    model = scripted(lambda text: "hey, what's up")
    a = await rewrite("Good afternoon.", "formality", model=model, seed=1, style="informal")
    assert a.text == "hey, what's up" and "informal register" in model.seen[0]
    with pytest.raises(ValidationError, match="formal, informal"):
        await rewrite("Good afternoon.", "formality", model=model, seed=1, style="pirate")


async def test_empty_rewrite_is_an_error(scripted) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(ValidationError, match="empty text"):
        await rewrite("Hello there.", "paraphrase", model=scripted(lambda t: "  "), seed=1)


async def test_rewrite_argument_errors() -> None:
    with pytest.raises(ConfigurationError, match="needs no model"):
        await rewrite("Hello.", "char_swap", model=get_model("sim:gpt-4"), seed=1)
    with pytest.raises(ConfigurationError, match=r"Model\.generate"):
        await rewrite("Hello.", "paraphrase", model=object(), seed=1)  # type: ignore[arg-type]
