"""The openai-compatible provider against a real model served by llama.cpp (scripts/real-model-check)."""

from __future__ import annotations

import asyncio
import os
import statistics

import pytest

from crucible.core import ProviderTimeoutError, get_model

BASE_URL = os.environ.get("CRUCIBLE_REALMODEL_BASE_URL")
NAME = os.environ.get("CRUCIBLE_REALMODEL_NAME", "gemma-3-270m")

pytestmark = [
    pytest.mark.realmodel,
    pytest.mark.skipif(
        BASE_URL is None, reason="needs a llama.cpp server: run scripts/real-model-check"
    ),
]

FEW_SHOT = "Q: What is 2+2?\nA: 4\nQ: What is 3+5?\nA: 8\nQ: What is {a}+{b}?\nA:"


async def test_completions_return_text_usage_latency_and_logprobs() -> None:
    model = get_model(
        f"openai-compatible:{NAME}",
        base_url=BASE_URL,
        endpoint="completions",
        pricing=None,
        timeout_s=120,
    )
    async with model:  # type: ignore[attr-defined]
        results = []
        for a, b in ((1, 1), (2, 3), (4, 4)):
            results.append(
                await model.generate(
                    FEW_SHOT.format(a=a, b=b), max_tokens=4, temperature=0, logprobs=1, stop=["\n"]
                )
            )
    for c in results:
        assert c.provider == "openai-compatible"
        assert c.usage.input_tokens > 20
        assert 1 <= c.usage.output_tokens <= 4
        assert c.latency_ms > 0
        assert c.finish_reason in ("stop", "length")
        assert c.logprobs is not None and len(c.logprobs) >= 1
        assert c.confidence is not None and 0 < c.confidence <= 1
    print(
        "latency ms:",
        [round(c.latency_ms) for c in results],
        "median",
        round(statistics.median(c.latency_ms for c in results)),
    )
    print("answers:", [c.text for c in results])


async def test_concurrent_calls_share_a_session() -> None:
    model = get_model(
        f"openai-compatible:{NAME}", base_url=BASE_URL, endpoint="completions", timeout_s=120
    )
    async with model:  # type: ignore[attr-defined]
        out = await asyncio.gather(
            *(
                model.generate(FEW_SHOT.format(a=i, b=1), max_tokens=2, temperature=0)
                for i in range(3)
            )
        )
    assert len(out) == 3
    assert all(c.usage.output_tokens >= 1 for c in out)


async def test_streaming_measures_time_to_first_token() -> None:
    model = get_model(
        f"openai-compatible:{NAME}", base_url=BASE_URL, endpoint="completions", timeout_s=120
    )
    async with model:  # type: ignore[attr-defined]
        c = await model.generate(
            FEW_SHOT.format(a=2, b=2), max_tokens=8, temperature=0, stream=True
        )
    assert c.text
    assert c.ttft_ms is not None and 0 < c.ttft_ms <= c.latency_ms
    print(
        f"stream: ttft {c.ttft_ms:.0f} ms, total {c.latency_ms:.0f} ms, usage {c.usage.to_dict()}"
    )


async def test_timeout_against_the_real_server() -> None:
    model = get_model(
        f"openai-compatible:{NAME}",
        base_url=BASE_URL,
        endpoint="completions",
        timeout_s=0.001,
        max_retries=1,
        backoff_base_s=0.01,
    )
    async with model:  # type: ignore[attr-defined]
        with pytest.raises(ProviderTimeoutError) as info:
            await model.generate(FEW_SHOT.format(a=9, b=9), max_tokens=64)
    assert info.value.attempts == 2
