"""Streaming (server-sent events) for every provider: text, usage, and the time to first token."""

from __future__ import annotations

from typing import Any

import pytest

from crucible.core import BadResponseError, RateLimitError, get_model
from crucible.core._http import HTTPModel
from crucible.core.testing import Reply, ScriptedServer

KEY = "sk-stream-test"


def model(spec: str, server: ScriptedServer, suffix: str, **options: Any) -> HTTPModel:
    options.setdefault("max_retries", 2)
    m = get_model(spec, api_key=KEY, base_url=server.base_url + suffix, retry_seed=0, **options)
    assert isinstance(m, HTTPModel)

    async def no_wait(delay: float) -> None:
        return None

    m._sleep = no_wait
    return m


def openai_chunks() -> list[dict[str, Any]]:
    base = {
        "id": "chatcmpl-9",
        "object": "chat.completion.chunk",
        "model": "gpt-4o-mini-2024-07-18",
    }
    return [
        {
            **base,
            "choices": [
                {"index": 0, "delta": {"role": "assistant", "content": ""}, "finish_reason": None}
            ],
        },
        {**base, "choices": [{"index": 0, "delta": {"content": "Hel"}, "finish_reason": None}]},
        {**base, "choices": [{"index": 0, "delta": {"content": "lo"}, "finish_reason": None}]},
        {**base, "choices": [{"index": 0, "delta": {}, "finish_reason": "stop"}]},
        {
            **base,
            "choices": [],
            "usage": {
                "prompt_tokens": 11,
                "completion_tokens": 2,
                "prompt_tokens_details": {"cached_tokens": 0},
            },
        },
    ]


async def test_openai_stream_measures_ttft(provider_server: ScriptedServer) -> None:
    provider_server.script(Reply(events=openai_chunks(), event_delay_s=0.02))
    async with model("openai:gpt-4o-mini", provider_server, "/v1") as m:
        c = await m.generate("Say hello", stream=True)
    body = provider_server.requests[0].json
    assert body["stream"] is True and body["stream_options"] == {"include_usage": True}
    assert c.text == "Hello"
    assert c.finish_reason == "stop"
    assert (c.usage.input_tokens, c.usage.output_tokens) == (11, 2)
    assert c.ttft_ms is not None and c.latency_ms is not None
    assert 0 < c.ttft_ms < c.latency_ms  # the first text arrived before the stream ended
    assert c.cost_usd == pytest.approx((11 * 0.15 + 2 * 0.60) / 1e6)
    assert c.raw["streamed"] is True
    assert c.raw["usage_estimated"] is False


async def test_completions_stream(provider_server: ScriptedServer) -> None:
    chunks = [
        {
            "id": "c",
            "model": "gemma",
            "choices": [{"text": " 4", "index": 0, "finish_reason": None}],
        },
        {
            "id": "c",
            "model": "gemma",
            "choices": [{"text": "", "index": 0, "finish_reason": "length"}],
        },
    ]
    provider_server.script(Reply(events=chunks))
    async with model(
        "openai-compatible:gemma", provider_server, "/v1", endpoint="completions"
    ) as m:
        c = await m.generate("Q: 2+2?\nA:", stream=True, max_tokens=1)
    assert provider_server.requests[0].path == "/v1/completions"
    assert c.text == " 4" and c.finish_reason == "length"
    assert c.ttft_ms is not None
    # No usage in the stream (as llama.cpp): estimated, flagged, and never billed.
    assert c.raw["usage_estimated"] is True
    assert (c.usage.input_tokens, c.usage.output_tokens) == (3, 1)
    assert c.cost_usd is None


async def test_stream_cut_short_is_retried_then_reported(provider_server: ScriptedServer) -> None:
    provider_server.script(Reply(events=openai_chunks()[:3], done=False))
    async with model("openai:gpt-4o-mini", provider_server, "/v1") as m:
        with pytest.raises(BadResponseError, match="stream ended") as info:
            await m.generate("x", stream=True)
    assert info.value.attempts == 3


async def test_stream_http_error_and_in_stream_error(provider_server: ScriptedServer) -> None:
    provider_server.script(
        Reply({"error": {"message": "slow down"}}, 429, {"Retry-After": "1"}),
        Reply(
            events=[
                {"type": "error", "error": {"type": "overloaded_error", "message": "Overloaded"}}
            ]
        ),
        Reply(
            events=[{"type": "error", "error": {"type": "rate_limit_error", "message": "limited"}}]
        ),
    )
    async with model("anthropic:claude-haiku-4-5", provider_server, "") as m:
        with pytest.raises(RateLimitError, match="limited") as info:
            await m.generate("x", stream=True)
    # 429 before the stream, then an overload error inside one (retried), then a rate-limit event.
    assert info.value.attempts == 3
    assert len(provider_server.requests) == 3


async def test_anthropic_stream(provider_server: ScriptedServer) -> None:
    events = [
        {
            "type": "message_start",
            "message": {
                "id": "msg_1",
                "model": "claude-haiku-4-5-20251001",
                "usage": {"input_tokens": 20, "cache_read_input_tokens": 100, "output_tokens": 1},
            },
        },
        {"type": "content_block_start", "index": 0, "content_block": {"type": "text", "text": ""}},
        {"type": "ping"},
        {"type": "content_block_delta", "index": 0, "delta": {"type": "text_delta", "text": "Bon"}},
        {
            "type": "content_block_delta",
            "index": 0,
            "delta": {"type": "text_delta", "text": "jour"},
        },
        {"type": "content_block_stop", "index": 0},
        {
            "type": "message_delta",
            "delta": {"stop_reason": "end_turn"},
            "usage": {"output_tokens": 7},
        },
        {"type": "message_stop"},
    ]
    provider_server.script(Reply(events=events, done=False))
    async with model("anthropic:claude-haiku-4-5", provider_server, "") as m:
        c = await m.generate("hello in French", stream=True)
    assert c.text == "Bonjour" and c.finish_reason == "end_turn"
    assert (c.usage.input_tokens, c.usage.cached_input_tokens, c.usage.output_tokens) == (
        120,
        100,
        7,
    )
    assert c.ttft_ms is not None


async def test_gemini_stream(provider_server: ScriptedServer) -> None:
    events = [
        {
            "candidates": [{"content": {"role": "model", "parts": [{"text": "4"}]}}],
            "usageMetadata": {"promptTokenCount": 5},
            "modelVersion": "gemini-2.5-flash",
        },
        {
            "candidates": [
                {"content": {"role": "model", "parts": [{"text": "2"}]}, "finishReason": "STOP"}
            ],
            "usageMetadata": {
                "promptTokenCount": 5,
                "candidatesTokenCount": 2,
                "thoughtsTokenCount": 3,
            },
        },
    ]
    provider_server.script(Reply(events=events, done=False))
    async with model("gemini:gemini-2.5-flash", provider_server, "/v1beta") as m:
        c = await m.generate("6*7", stream=True)
    assert (
        provider_server.requests[0].path == "/v1beta/models/gemini-2.5-flash:streamGenerateContent"
    )
    assert "stream" not in provider_server.requests[0].json
    assert c.text == "42" and c.finish_reason == "stop"
    assert c.usage.to_dict() == {
        "input_tokens": 5,
        "output_tokens": 2,
        "cached_input_tokens": 0,
        "reasoning_tokens": 3,
    }


async def test_priced_stream_without_usage_is_never_billed_as_zero(
    provider_server: ScriptedServer,
) -> None:
    provider_server.script(Reply(events=openai_chunks()[:4]))
    async with model("openai:gpt-4o-mini", provider_server, "/v1") as m:
        c = await m.generate("Say hello", stream=True)
    assert c.text == "Hello"
    assert c.usage.output_tokens == 2
    assert c.cost_usd is None
    assert c.raw["usage_estimated"] is True
