"""Shared fixtures: a scripted model that records prompts, and arithmetic items."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from crucible.core import BaseModel, Completion, Item, Message, Prompt, Usage, prompt_text


class ScriptedModel(BaseModel):
    """Answers ``reply(prompt_text)`` and records every prompt."""

    provider = "test"

    def __init__(self, reply: Callable[[str], str] = lambda text: text.upper()) -> None:
        super().__init__("scripted")
        self.reply = reply
        self.seen: list[str] = []
        self.params: list[dict[str, Any]] = []

    async def _generate(
        self, prompt: Prompt, messages: list[Message], params: dict[str, Any]
    ) -> Completion:
        text = prompt_text(prompt)
        self.seen.append(text)
        self.params.append(params)
        return Completion(self.reply(text), self.name, self.provider, Usage(1, 1))


@pytest.fixture
def scripted() -> type[ScriptedModel]:
    return ScriptedModel


@pytest.fixture
def items() -> list[Item]:
    return [Item(i, f"What is {i} plus {i + 1}?", expected=str(2 * i + 1)) for i in range(60)]
