"""Real providers against a local server speaking each provider's wire format."""

from __future__ import annotations

import email.utils
import time
from typing import Any

import pytest

from crucible.core import (
    AuthenticationError,
    BadRequestError,
    BadResponseError,
    ConfigurationError,
    ProviderConnectionError,
    ProviderTimeoutError,
    RateLimitError,
    ServerError,
    UnpricedModelWarning,
    get_model,
    parse_retry_after,
)
from crucible.core._http import HTTPModel
from crucible.core.testing import Reply, ScriptedServer

KEY = "sk-test-SECRET-0123456789"

OPENAI_OK = {
    "id": "chatcmpl-123",
    "object": "chat.completion",
    "model": "gpt-4o-2024-08-06",
    "choices": [
        {
            "index": 0,
            "message": {"role": "assistant", "content": "Paris"},
            "finish_reason": "stop",
            "logprobs": {
                "content": [{"token": "Paris", "logprob": -0.105360515, "top_logprobs": []}]
            },
        }
    ],
    "usage": {
        "prompt_tokens": 1200,
        "completion_tokens": 300,
        "total_tokens": 1500,
        "prompt_tokens_details": {"cached_tokens": 1000, "audio_tokens": 0},
        "completion_tokens_details": {"reasoning_tokens": 200, "audio_tokens": 0},
    },
}

ANTHROPIC_OK = {
    "id": "msg_01",
    "type": "message",
    "role": "assistant",
    "model": "claude-sonnet-4-5-20250929",
    "content": [{"type": "thinking", "thinking": "hmm"}, {"type": "text", "text": "Bonjour"}],
    "stop_reason": "end_turn",
    "stop_sequence": None,
    "usage": {
        "input_tokens": 100,
        "cache_creation_input_tokens": 50,
        "cache_read_input_tokens": 2000,
        "output_tokens": 40,
    },
}

GEMINI_OK = {
    "candidates": [
        {
            "content": {
                "role": "model",
                "parts": [{"text": "plan...", "thought": True}, {"text": "42"}],
            },
            "finishReason": "STOP",
            "avgLogprobs": -0.2,
        }
    ],
    "usageMetadata": {
        "promptTokenCount": 800,
        "candidatesTokenCount": 10,
        "cachedContentTokenCount": 600,
        "thoughtsTokenCount": 90,
        "totalTokenCount": 900,
    },
    "modelVersion": "gemini-2.5-flash",
    "responseId": "abc",
}


def model(provider: str, fake: ScriptedServer, name: str = "gpt-4o", **options: Any) -> HTTPModel:
    base = {"openai": "/v1", "anthropic": "", "gemini": "/v1beta", "openai-compatible": "/v1"}[
        provider
    ]
    options.setdefault("api_key", KEY)
    options.setdefault("max_retries", 3)
    options.setdefault("timeout_s", 5)
    m = get_model(f"{provider}:{name}", base_url=fake.base_url + base, retry_seed=1, **options)
    assert isinstance(m, HTTPModel)
    waits: list[float] = []

    async def record(delay: float) -> None:
        waits.append(delay)

    m._sleep = record
    m.waits = waits  # type: ignore[attr-defined]
    return m


async def test_openai_chat_parses_usage_cost_and_logprobs(provider_server: ScriptedServer) -> None:
    provider_server.script(Reply(OPENAI_OK))
    async with model("openai", provider_server) as m:
        c = await m.generate("Capital of France?", temperature=0, max_tokens=5)
    req = provider_server.requests[0]
    assert req.path == "/v1/chat/completions"
    assert req.headers["Authorization"] == f"Bearer {KEY}"
    assert req.json == {
        "model": "gpt-4o",
        "messages": [{"role": "user", "content": "Capital of France?"}],
        "temperature": 0,
        "max_tokens": 5,
    }
    assert c.text == "Paris"
    assert c.model == "gpt-4o-2024-08-06"
    assert c.finish_reason == "stop"
    # completion_tokens include reasoning tokens, reported apart.
    assert (c.usage.input_tokens, c.usage.cached_input_tokens) == (1200, 1000)
    assert (c.usage.output_tokens, c.usage.reasoning_tokens) == (100, 200)
    # gpt-4o: $2.50 in, $1.25 cached, $10 out per 1M; reasoning billed as output.
    expected = (200 * 2.50 + 1000 * 1.25 + 100 * 10.0 + 200 * 10.0) / 1e6
    assert c.cost_usd == pytest.approx(expected, rel=1e-12)
    assert c.confidence == pytest.approx(0.9, rel=1e-6)
    assert c.logprobs is not None and c.logprobs[0].token == "Paris"


async def test_context_params_are_not_sent(provider_server: ScriptedServer) -> None:
    from crucible.core import Item

    provider_server.script(Reply(OPENAI_OK))
    async with model("openai", provider_server) as m:
        await m.generate("hi", item=Item("1", "hi"), repeat=2, attempt=0)
    assert set(provider_server.requests[0].json) == {"model", "messages"}


async def test_retry_after_seconds_is_honoured(provider_server: ScriptedServer) -> None:
    provider_server.script(
        Reply(
            {"error": {"message": "Rate limit reached", "type": "rate_limit"}},
            429,
            {"Retry-After": "7"},
        ),
        Reply(OPENAI_OK),
    )
    async with model("openai", provider_server) as m:
        c = await m.generate("x")
    assert c.text == "Paris"
    assert m.waits == [7.0]  # type: ignore[attr-defined]
    assert len(provider_server.requests) == 2


async def test_retry_after_http_date_and_ms() -> None:
    now = time.time()
    date = email.utils.formatdate(now + 30, usegmt=True)
    assert parse_retry_after({"Retry-After": date}, now=now) == pytest.approx(30, abs=1)
    assert parse_retry_after({"retry-after-ms": "1500", "Retry-After": "9"}) == 1.5
    assert parse_retry_after({"Retry-After": "garbage"}) is None
    body = {
        "error": {
            "code": 429,
            "details": [{"@type": "type.googleapis.com/google.rpc.RetryInfo", "retryDelay": "12s"}],
        }
    }
    assert parse_retry_after({}, body) == 12.0


async def test_retry_after_beyond_cap_raises_at_once(provider_server: ScriptedServer) -> None:
    provider_server.script(Reply({"error": {"message": "slow down"}}, 429, {"Retry-After": "600"}))
    async with model("openai", provider_server, max_retry_after_s=60) as m:
        with pytest.raises(RateLimitError) as info:
            await m.generate("x")
    assert info.value.retry_after_s == 600
    assert info.value.attempts == 1
    assert "retry after 600 s" in str(info.value)


async def test_backoff_is_exponential_with_full_jitter(provider_server: ScriptedServer) -> None:
    provider_server.script(Reply({"error": {"message": "boom"}}, 500))
    async with model(
        "openai", provider_server, max_retries=4, backoff_base_s=0.5, backoff_max_s=3
    ) as m:
        with pytest.raises(ServerError) as info:
            await m.generate("x")
    waits = m.waits  # type: ignore[attr-defined]
    assert len(waits) == 4 and len(provider_server.requests) == 5
    caps = [0.5, 1.0, 2.0, 3.0]
    assert all(0 <= w <= cap for w, cap in zip(waits, caps, strict=True))
    assert info.value.attempts == 5 and info.value.status == 500
    assert "server error (500)" in str(info.value)


async def test_server_error_then_success(provider_server: ScriptedServer) -> None:
    provider_server.script(Reply({"error": {"message": "overloaded"}}, 503), Reply(OPENAI_OK))
    async with model("openai", provider_server) as m:
        c = await m.generate("x")
    assert c.text == "Paris" and len(provider_server.requests) == 2


@pytest.mark.parametrize(
    ("status", "error"),
    [
        (401, AuthenticationError),
        (403, AuthenticationError),
        (400, BadRequestError),
        (404, BadRequestError),
    ],
)
async def test_client_errors_are_not_retried(
    provider_server: ScriptedServer, status: int, error: type
) -> None:
    provider_server.script(Reply({"error": {"message": f"nope {status}"}}, status))
    async with model("openai", provider_server) as m:
        with pytest.raises(error) as info:
            await m.generate("x")
    assert len(provider_server.requests) == 1
    assert info.value.status == status and f"nope {status}" in str(info.value)


async def test_timeout_is_typed_and_retried(provider_server: ScriptedServer) -> None:
    provider_server.script(Reply(OPENAI_OK, hang_s=5))
    async with model("openai", provider_server, timeout_s=0.2, max_retries=1) as m:
        with pytest.raises(ProviderTimeoutError) as info:
            await m.generate("x")
    assert info.value.attempts == 2 and len(provider_server.requests) == 2
    assert "timeout_s=0.2" in str(info.value)


async def test_truncated_body_is_bad_response(provider_server: ScriptedServer) -> None:
    provider_server.script(Reply(OPENAI_OK, truncate=True))
    async with model("openai", provider_server, max_retries=0) as m:
        with pytest.raises(BadResponseError, match="truncated"):
            await m.generate("x")


async def test_truncated_json_then_recovery(provider_server: ScriptedServer) -> None:
    provider_server.script(
        Reply(raw=b'{"choices": [{"message": {"content": "Par'), Reply(OPENAI_OK)
    )
    async with model("openai", provider_server) as m:
        c = await m.generate("x")
    assert c.text == "Paris" and len(provider_server.requests) == 2


async def test_non_json_body(provider_server: ScriptedServer) -> None:
    provider_server.script(Reply(raw=b"<html>Bad Gateway</html>"))
    async with model("openai", provider_server, max_retries=0) as m:
        with pytest.raises(BadResponseError, match="not valid JSON"):
            await m.generate("x")


async def test_wrong_shape(provider_server: ScriptedServer) -> None:
    provider_server.script(Reply({"choices": []}))
    async with model("openai", provider_server, max_retries=0) as m:
        with pytest.raises(BadResponseError, match=r"choices\[0\]"):
            await m.generate("x")


async def test_connection_refused() -> None:
    m = get_model("openai:gpt-4o", api_key=KEY, base_url="http://127.0.0.1:9/v1", max_retries=0)
    async with m:  # type: ignore[attr-defined]
        with pytest.raises(ProviderConnectionError, match="cannot reach"):
            await m.generate("x")


async def test_api_key_never_leaks(provider_server: ScriptedServer, spans: Any) -> None:
    provider_server.script(Reply({"error": {"message": f"Incorrect API key provided: {KEY}"}}, 401))
    m = model("openai", provider_server)
    assert KEY not in repr(m) and KEY not in repr(vars(m))
    async with m:
        with pytest.raises(AuthenticationError) as info:
            await m.generate("x")
    assert KEY not in str(info.value) and "***" in str(info.value)
    for span in spans.get_finished_spans():
        assert KEY not in str(span.to_json())


def test_missing_key_is_a_configuration_error() -> None:
    with pytest.raises(ConfigurationError, match="OPENAI_API_KEY"):
        get_model("openai:gpt-4o")
    with pytest.raises(ConfigurationError, match="ANTHROPIC_API_KEY"):
        get_model("anthropic:claude-sonnet-4-5")
    with pytest.raises(ConfigurationError, match="GEMINI_API_KEY or GOOGLE_API_KEY"):
        get_model("gemini:gemini-2.5-flash")


def test_key_from_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("OPENAI_API_KEY", KEY)
    m = get_model("openai:gpt-4o")
    assert isinstance(m, HTTPModel) and m._key.reveal() == KEY


async def test_anthropic_messages(provider_server: ScriptedServer) -> None:
    from crucible.core import Message

    provider_server.script(
        Reply(
            {"type": "error", "error": {"type": "overloaded_error", "message": "Overloaded"}}, 529
        ),
        Reply(ANTHROPIC_OK),
    )
    async with model("anthropic", provider_server, name="claude-sonnet-4-5") as m:
        c = await m.generate(
            [Message("system", "Be brief."), Message("user", "Say hello in French")], stop="\n"
        )
    req = provider_server.requests[-1]
    assert req.path == "/v1/messages"
    assert req.headers["x-api-key"] == KEY and req.headers["anthropic-version"] == "2023-06-01"
    assert req.json["system"] == "Be brief."
    assert req.json["messages"] == [{"role": "user", "content": "Say hello in French"}]
    assert req.json["max_tokens"] == 1024 and req.json["stop_sequences"] == ["\n"]
    assert c.text == "Bonjour" and c.finish_reason == "end_turn"
    assert (c.usage.input_tokens, c.usage.cached_input_tokens, c.usage.output_tokens) == (
        2150,
        2000,
        40,
    )
    # claude-sonnet-4-5: $3 in, $0.30 cache read, $15 out.
    assert c.cost_usd == pytest.approx((150 * 3 + 2000 * 0.30 + 40 * 15) / 1e6, rel=1e-12)
    assert len(provider_server.requests) == 2


async def test_gemini_generate_content(provider_server: ScriptedServer) -> None:
    provider_server.script(
        Reply(
            {
                "error": {
                    "code": 429,
                    "status": "RESOURCE_EXHAUSTED",
                    "message": "quota",
                    "details": [
                        {"@type": "type.googleapis.com/google.rpc.RetryInfo", "retryDelay": "3s"}
                    ],
                }
            },
            429,
        ),
        Reply(GEMINI_OK),
    )
    async with model("gemini", provider_server, name="gemini-2.5-flash") as m:
        c = await m.generate("6*7?", temperature=0.2, max_tokens=20)
    req = provider_server.requests[-1]
    assert req.path == "/v1beta/models/gemini-2.5-flash:generateContent"
    assert req.headers["x-goog-api-key"] == KEY
    assert req.json["generationConfig"] == {"temperature": 0.2, "maxOutputTokens": 20}
    assert req.json["contents"] == [{"role": "user", "parts": [{"text": "6*7?"}]}]
    assert m.waits == [3.0]  # type: ignore[attr-defined]
    assert c.text == "42" and c.finish_reason == "stop"
    assert c.usage.to_dict() == {
        "input_tokens": 800,
        "output_tokens": 10,
        "cached_input_tokens": 600,
        "reasoning_tokens": 90,
    }
    # gemini-2.5-flash: $0.30 in, $0.075 cached, $2.50 out (thinking billed as output).
    assert c.cost_usd == pytest.approx((200 * 0.30 + 600 * 0.075 + 100 * 2.50) / 1e6, rel=1e-12)
    assert c.confidence == pytest.approx(0.8187307530779818)


async def test_openai_compatible_completions_endpoint(provider_server: ScriptedServer) -> None:
    body = {
        "id": "cmpl-1",
        "object": "text_completion",
        "model": "gemma",
        "choices": [
            {
                "text": " 4",
                "index": 0,
                "finish_reason": "length",
                "logprobs": {
                    "tokens": [" 4"],
                    "token_logprobs": [-0.5],
                    "top_logprobs": None,
                    "text_offset": [0],
                },
            }
        ],
        "usage": {"prompt_tokens": 12, "completion_tokens": 1, "total_tokens": 13},
    }
    provider_server.script(Reply(body))
    m = model(
        "openai-compatible",
        provider_server,
        name="gemma",
        endpoint="completions",
        api_key=None,
        pricing=None,
    )
    assert "Authorization" not in m._auth_headers("")
    async with m:
        with pytest.warns(UnpricedModelWarning, match="openai-compatible:gemma"):
            c = await m.generate("Q: 2+2?\nA:", max_tokens=1, logprobs=1)
        with pytest.raises(ConfigurationError, match="plain-text prompt"):
            await m.generate([{"role": "user", "content": "hi"}])
    req = provider_server.requests[0]
    assert req.path == "/v1/completions"
    assert req.json == {"model": "gemma", "prompt": "Q: 2+2?\nA:", "max_tokens": 1, "logprobs": 1}
    assert c.text == " 4" and c.cost_usd is None and c.usage.output_tokens == 1
    assert c.confidence == pytest.approx(0.6065306597126334)


def test_openai_compatible_needs_base_url() -> None:
    with pytest.raises(ConfigurationError, match="base_url"):
        get_model("openai-compatible:gemma")
    with pytest.raises(ConfigurationError, match="endpoint"):
        get_model("openai-compatible:gemma", base_url="http://127.0.0.1:1/v1", endpoint="legacy")


async def test_spans_follow_genai_conventions(provider_server: ScriptedServer, spans: Any) -> None:
    provider_server.script(Reply(OPENAI_OK))
    async with model("openai", provider_server) as m:
        await m.generate("Capital of France?", temperature=0.0, max_tokens=5)
    (span,) = spans.get_finished_spans()
    assert span.name == "chat gpt-4o"
    a = span.attributes
    assert a["gen_ai.operation.name"] == "chat"
    assert a["gen_ai.provider.name"] == "openai"
    assert a["gen_ai.request.model"] == "gpt-4o"
    assert a["gen_ai.response.model"] == "gpt-4o-2024-08-06"
    assert a["gen_ai.usage.input_tokens"] == 1200 and a["gen_ai.usage.output_tokens"] == 100
    assert a["gen_ai.request.temperature"] == 0.0 and a["gen_ai.request.max_tokens"] == 5
    assert a["crucible.usage.reasoning_tokens"] == 200
    assert a["crucible.cost_usd"] == pytest.approx(0.00475)
    assert a["gen_ai.response.id"] == "chatcmpl-123"
    assert "gen_ai.input.messages" not in a  # content is opt-in


async def test_errors_are_recorded_on_spans(provider_server: ScriptedServer, spans: Any) -> None:
    provider_server.script(Reply({"error": {"message": "bad key"}}, 401))
    async with model("openai", provider_server) as m:
        with pytest.raises(AuthenticationError):
            await m.generate("x")
    (span,) = spans.get_finished_spans()
    assert span.attributes["error.type"] == "AuthenticationError"
    assert span.status.status_code.name == "ERROR"
    assert span.events[0].name == "exception"


async def test_content_capture_is_opt_in(provider_server: ScriptedServer, spans: Any) -> None:
    provider_server.script(Reply(OPENAI_OK))
    async with model("openai", provider_server, capture_content=True) as m:
        await m.generate("Capital of France?")
    (span,) = spans.get_finished_spans()
    assert "Capital of France?" in span.attributes["gen_ai.input.messages"]
    assert "Paris" in span.attributes["gen_ai.output.messages"]


async def test_config_file_sets_provider_options(
    provider_server: ScriptedServer, tmp_path: Any
) -> None:
    (tmp_path / "crucible.toml").write_text(
        f'[providers.openai-compatible]\nbase_url = "{provider_server.base_url}/v1"\nmax_retries = 0\n'
        '[pricing."openai-compatible:gemma"]\ninput = 1.0\noutput = 2.0\n'
    )
    provider_server.script(Reply(OPENAI_OK))
    m = get_model("openai-compatible:gemma")
    assert isinstance(m, HTTPModel) and m.max_retries == 0
    async with m:
        c = await m.generate("x")
    assert c.cost_usd == pytest.approx((1200 * 1.0 + 300 * 2.0) / 1e6)
