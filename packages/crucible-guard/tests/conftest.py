"""Shared fixtures: a scripted model that records what it was sent."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from crucible.core import BaseModel, Completion, Message, Prompt, Usage, prompt_text


class ScriptedModel(BaseModel):
    """Answers with ``reply(prompt_text)`` and records every prompt it receives."""

    provider = "test"

    def __init__(self, reply: Callable[[str], str] = lambda text: f"echo: {text}") -> None:
        super().__init__("scripted")
        self.reply = reply
        self.seen: list[str] = []

    async def _generate(
        self, prompt: Prompt, messages: list[Message], params: dict[str, Any]
    ) -> Completion:
        text = prompt_text(prompt)
        self.seen.append(text)
        return Completion(self.reply(text), self.name, self.provider, Usage(1, 1), latency_ms=1.0)


@pytest.fixture
def scripted() -> type[ScriptedModel]:
    return ScriptedModel
