"""Fixtures for crucible-hedging's tests: scripted calls that answer, fail or hang on cue."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from pathlib import Path

import pytest

from crucible.core import Completion, Usage


def completion(text: str, cost: float | None = 0.001, model: str = "fake") -> Completion:
    return Completion(
        text=text, model=model, provider="fake", usage=Usage(10, 2), cost_usd=cost, latency_ms=1.0
    )


class Script:
    """Call factories whose behaviour a test controls; records cancellations."""

    def __init__(self) -> None:
        self.cancelled: list[str] = []
        self.started: list[str] = []

    def answer(self, text: str, cost: float | None = 0.001) -> Callable[[], Awaitable[Completion]]:
        async def call() -> Completion:
            self.started.append(text)
            return completion(text, cost)

        return call

    def after(
        self, seconds: float, text: str, cost: float | None = 0.001
    ) -> Callable[[], Awaitable[Completion]]:
        """Answers after ``seconds`` (use on a virtual clock)."""

        async def call() -> Completion:
            self.started.append(text)
            try:
                await asyncio.sleep(seconds)
            except asyncio.CancelledError:
                self.cancelled.append(text)
                raise
            return completion(text, cost)

        return call

    def hang(
        self, text: str, until: asyncio.Event | None = None
    ) -> Callable[[], Awaitable[Completion]]:
        async def call() -> Completion:
            self.started.append(text)
            try:
                await (until or asyncio.Event()).wait()
            except asyncio.CancelledError:
                self.cancelled.append(text)
                raise
            return completion(text)

        return call

    def fail(self, error: Exception) -> Callable[[], Awaitable[Completion]]:
        async def call() -> Completion:
            self.started.append(type(error).__name__)
            raise error

        return call


@pytest.fixture
def script() -> Script:
    return Script()


@pytest.fixture(autouse=True)
def _isolated(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """No real keys, no user crucible.toml."""
    for var in ("OPENAI_API_KEY", "ANTHROPIC_API_KEY", "GEMINI_API_KEY", "CRUCIBLE_CONFIG"):
        monkeypatch.delenv(var, raising=False)
    monkeypatch.chdir(tmp_path)
