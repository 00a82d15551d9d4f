"""OpenAI chat completions, and any OpenAI-compatible server (llama.cpp, vLLM, ...)."""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any, ClassVar, Literal

from crucible.core import semconv as sc
from crucible.core._errors import ConfigurationError
from crucible.core._http import HTTPModel, StreamConsumer
from crucible.core._model import CONTEXT_PARAMS, Prompt, prompt_text
from crucible.core._values import Completion, Message, TokenLogprob, Usage

__all__ = ["OpenAICompatibleModel", "OpenAIModel"]


def _confidence(logprobs: list[TokenLogprob] | None) -> float | None:
    """Geometric-mean token probability, exp(mean logprob), of the generated tokens."""
    if not logprobs:
        return None
    values = [lp.logprob for lp in logprobs if math.isfinite(lp.logprob)]
    if not values:
        return None
    return min(1.0, max(0.0, math.exp(sum(values) / len(values))))


def _int(value: Any) -> int:
    return int(value) if isinstance(value, int | float) and not isinstance(value, bool) else 0


def openai_usage(usage: Any) -> Usage:
    """Usage from an OpenAI-shaped ``usage`` object.

    ``prompt_tokens`` includes ``prompt_tokens_details.cached_tokens``; ``completion_tokens``
    includes ``completion_tokens_details.reasoning_tokens``, which are reported separately.
    """
    if not isinstance(usage, Mapping):
        return Usage()
    prompt = _int(usage.get("prompt_tokens"))
    completion = _int(usage.get("completion_tokens"))
    prompt_details = usage.get("prompt_tokens_details") or {}
    completion_details = usage.get("completion_tokens_details") or {}
    cached = _int(prompt_details.get("cached_tokens")) if isinstance(prompt_details, Mapping) else 0
    reasoning = (
        _int(completion_details.get("reasoning_tokens"))
        if isinstance(completion_details, Mapping)
        else 0
    )
    reasoning = min(reasoning, completion)
    return Usage(prompt, completion - reasoning, min(cached, prompt), reasoning)


class _OpenAIStream(StreamConsumer):
    """Chat (``delta.content``) or completions (``text``) chunks; usage from the final chunk."""

    def feed(self, event: Any) -> bool:
        if not isinstance(event, Mapping):
            return False
        self.model = event.get("model") or self.model
        self.response_id = event.get("id") or self.response_id
        if isinstance(event.get("usage"), Mapping):
            self.usage = event["usage"]
        got_text = False
        for choice in event.get("choices") or ():
            if not isinstance(choice, Mapping):
                continue
            delta = choice.get("delta")
            piece = delta.get("content") if isinstance(delta, Mapping) else choice.get("text")
            if isinstance(piece, str) and piece:
                self.text_parts.append(piece)
                got_text = True
            lp = choice.get("logprobs")
            if isinstance(lp, Mapping):
                if isinstance(lp.get("content"), list):
                    self.logprobs.extend(
                        TokenLogprob(str(t.get("token", "")), float(t.get("logprob", 0.0)))
                        for t in lp["content"]
                    )
                elif isinstance(lp.get("tokens"), list):
                    self.logprobs.extend(
                        TokenLogprob(str(tok), float(v))
                        for tok, v in zip(
                            lp["tokens"], lp.get("token_logprobs") or [], strict=False
                        )
                        if isinstance(v, int | float)
                    )
            if choice.get("finish_reason"):
                self.finish_reason = choice["finish_reason"]
                self.complete = True
        return got_text


class OpenAIModel(HTTPModel):
    """OpenAI's chat completions API (``openai:gpt-4o``); key from ``OPENAI_API_KEY``.

    Provider parameters (``temperature``, ``max_tokens``, ``top_p``, ``stop``, ``seed``,
    ``logprobs``, ``response_format``, ...) are sent as given.
    """

    provider = "openai"
    api_key_env: ClassVar[tuple[str, ...]] = ("OPENAI_API_KEY",)
    default_base_url: ClassVar[str | None] = "https://api.openai.com/v1"
    endpoint: Literal["chat", "completions"] = "chat"

    async def _generate(
        self, prompt: Prompt, messages: list[Message], params: dict[str, Any]
    ) -> Completion:
        wire = {k: v for k, v in params.items() if k not in CONTEXT_PARAMS}
        if wire.get("stream"):
            return await self._generate_stream(prompt, messages, wire)
        if self.endpoint == "completions":
            if not isinstance(prompt, str):
                raise ConfigurationError(
                    f"{self.spec} uses the /completions endpoint, which takes a plain-text prompt; "
                    "pass a string (for a base model, write the few-shot prompt as text)"
                )
            data, latency_ms, _ = await self._post_json(
                "/completions", {"model": self.name, "prompt": prompt, **wire}
            )
            return self._parse_completions(data, latency_ms)
        body = {"model": self.name, "messages": [m.to_dict() for m in messages], **wire}
        data, latency_ms, _ = await self._post_json("/chat/completions", body)
        return self._parse_chat(data, latency_ms)

    async def _generate_stream(
        self, prompt: Prompt, messages: list[Message], wire: dict[str, Any]
    ) -> Completion:
        """Stream the answer (server-sent events) to measure the time to first token."""
        wire.setdefault("stream_options", {"include_usage": True})
        if self.endpoint == "completions":
            if not isinstance(prompt, str):
                raise ConfigurationError(
                    f"{self.spec} uses the /completions endpoint; pass a string prompt"
                )
            path, body = "/completions", {"model": self.name, "prompt": prompt, **wire}
        else:
            path, body = (
                "/chat/completions",
                {"model": self.name, "messages": [m.to_dict() for m in messages], **wire},
            )
        stream = _OpenAIStream()
        _, latency_ms, _ = await self._post_json(path, body, stream)
        usage_known = isinstance(stream.usage, Mapping)
        if usage_known:
            usage = openai_usage(stream.usage)
        else:
            # Some servers (llama.cpp) send no usage in streams: estimate it (one token per
            # chunk, ~4 characters per prompt token), flag it, and leave the cost unknown.
            usage = Usage(max(1, -(-len(prompt_text(prompt)) // 4)), stream.text_events)
        logprobs = stream.logprobs or None
        return self._completion(
            stream.text,
            usage,
            latency_ms=latency_ms,
            ttft_ms=stream.ttft_ms,
            model=stream.model or self.name,
            finish_reason=stream.finish_reason,
            logprobs=logprobs,
            confidence=_confidence(logprobs),
            raw={**stream.raw(), "usage_estimated": not usage_known},
            usage_known=usage_known,
        )

    def _parse_chat(self, data: Any, latency_ms: float) -> Completion:
        try:
            choice = data["choices"][0]
            message = choice["message"]
            text = message.get("content") or ""
            if not isinstance(text, str):
                raise TypeError("content is not a string")
        except (KeyError, IndexError, TypeError, AttributeError):
            raise self._bad_shape("expected choices[0].message.content", data) from None
        logprobs: list[TokenLogprob] | None = None
        lp = choice.get("logprobs")
        if isinstance(lp, Mapping) and isinstance(lp.get("content"), list):
            logprobs = [
                TokenLogprob(str(t.get("token", "")), float(t.get("logprob", 0.0)))
                for t in lp["content"]
            ]
        return self._completion(
            text,
            openai_usage(data.get("usage")),
            latency_ms=latency_ms,
            model=str(data.get("model") or self.name),
            finish_reason=choice.get("finish_reason"),
            logprobs=logprobs,
            confidence=_confidence(logprobs),
            raw=data,
        )

    def _parse_completions(self, data: Any, latency_ms: float) -> Completion:
        try:
            choice = data["choices"][0]
            text = choice["text"]
            if not isinstance(text, str):
                raise TypeError("text is not a string")
        except (KeyError, IndexError, TypeError):
            raise self._bad_shape("expected choices[0].text", data) from None
        logprobs: list[TokenLogprob] | None = None
        lp = choice.get("logprobs")
        if isinstance(lp, Mapping) and isinstance(lp.get("tokens"), list):
            values = lp.get("token_logprobs") or []
            logprobs = [
                TokenLogprob(str(tok), float(v) if isinstance(v, int | float) else float("nan"))
                for tok, v in zip(lp["tokens"], values, strict=False)
            ]
        return self._completion(
            text,
            openai_usage(data.get("usage")),
            latency_ms=latency_ms,
            model=str(data.get("model") or self.name),
            finish_reason=choice.get("finish_reason"),
            logprobs=logprobs,
            confidence=_confidence(logprobs),
            raw=data,
        )


class OpenAICompatibleModel(OpenAIModel):
    """Any server speaking OpenAI's API (``openai-compatible:NAME``, with ``base_url``).

    ``endpoint="chat"`` (default) uses ``/chat/completions``; ``endpoint="completions"`` uses the
    legacy ``/completions`` that base models served by llama.cpp or vLLM need. The API key is
    optional (``api_key=`` or ``CRUCIBLE_OPENAI_COMPATIBLE_API_KEY``).
    """

    provider = "openai-compatible"
    api_key_env = ()
    default_base_url = None
    requires_key = False

    def __init__(self, name: str, *, endpoint: str = "chat", **options: Any) -> None:
        if endpoint not in ("chat", "completions"):
            raise ConfigurationError(
                f"`endpoint` must be 'chat' or 'completions', got {endpoint!r}"
            )
        self.endpoint = endpoint  # type: ignore[assignment]
        if endpoint == "completions":
            self.operation = sc.OPERATION_TEXT_COMPLETION
        super().__init__(name, **options)
