"""Fixtures for crucible-ensemble's tests: scripted fake models and a small MMLU loader."""

from __future__ import annotations

import asyncio
import csv
import random
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from crucible.core import Completion, Item, Usage

MMLU_TEST = Path("/work/shared/data/mmlu/test")


class FakeModel:
    """Answers ``text`` (or ``by_item[item.id]``) with a given confidence and cost, fails with
    ``error``, or hangs until ``gate`` is set. Records every call's parameters."""

    def __init__(
        self,
        name: str,
        text: str = "A",
        *,
        confidence: float | None = None,
        cost: float | None = 0.001,
        error: Exception | None = None,
        gate: asyncio.Event | None = None,
        hang_first: bool = False,
        by_item: dict[str, str] | None = None,
    ) -> None:
        self.name = name
        self.spec = f"fake:{name}"
        self.text = text
        self.confidence = confidence
        self.cost = cost
        self.error = error
        self.gate = gate
        self.hang_first = hang_first
        self.by_item = by_item or {}
        self.calls: list[dict[str, Any]] = []

    async def generate(self, prompt: Any, **params: Any) -> Completion:
        self.calls.append(params)
        if self.gate is not None:
            await self.gate.wait()
        if self.hang_first and len(self.calls) == 1:
            await asyncio.Event().wait()
        if self.error is not None:
            raise self.error
        item = params.get("item")
        text = self.by_item.get(item.id, self.text) if item is not None else self.text
        return Completion(
            text=text,
            model=self.name,
            provider="fake",
            usage=Usage(50, 5),
            cost_usd=self.cost,
            latency_ms=10.0,
            confidence=self.confidence,
        )


@pytest.fixture
def fake() -> type[FakeModel]:
    return FakeModel


def load_mmlu(limit: int, seed: int = 0) -> list[Item]:
    """A seeded sample of ``limit`` rows of the bundled MMLU test split (all eight subjects)."""
    items: list[Item] = []
    for path in sorted(MMLU_TEST.glob("*_test.csv")):
        subject = path.name.removesuffix("_test.csv")
        with path.open(newline="", encoding="utf-8") as handle:
            for i, (question, a, b, c, d, answer) in enumerate(csv.reader(handle)):
                items.append(
                    Item(
                        f"{subject}-{i}",
                        question,
                        expected=answer.strip(),
                        metadata={"choices": [a, b, c, d], "subject": subject},
                    )
                )
    return random.Random(seed).sample(items, limit)


@pytest.fixture(scope="session")
def mmlu() -> Callable[[int], list[Item]]:
    return load_mmlu


@pytest.fixture(autouse=True)
def _isolated(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """No real keys, no user crucible.toml."""
    for var in ("OPENAI_API_KEY", "ANTHROPIC_API_KEY", "GEMINI_API_KEY", "CRUCIBLE_CONFIG"):
        monkeypatch.delenv(var, raising=False)
    monkeypatch.chdir(tmp_path)
