"""Anthropic's Messages API (``anthropic:claude-sonnet-4-5``); key from ``ANTHROPIC_API_KEY``."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, ClassVar

from crucible.core._http import HTTPModel, StreamConsumer
from crucible.core._model import CONTEXT_PARAMS, Prompt
from crucible.core._values import Completion, Message, Usage

__all__ = ["AnthropicModel", "anthropic_usage"]

API_VERSION = "2023-06-01"


def _int(value: Any) -> int:
    return int(value) if isinstance(value, int | float) and not isinstance(value, bool) else 0


def anthropic_usage(usage: Any) -> Usage:
    """Usage from Anthropic's ``usage``.

    Anthropic's ``input_tokens`` excludes cache reads and writes, so the total input is
    ``input_tokens + cache_creation_input_tokens + cache_read_input_tokens``; cache reads are the
    cached part. Thinking tokens are inside ``output_tokens`` (Anthropic does not split them).
    """
    if not isinstance(usage, Mapping):
        return Usage()
    fresh = _int(usage.get("input_tokens"))
    created = _int(usage.get("cache_creation_input_tokens"))
    read = _int(usage.get("cache_read_input_tokens"))
    return Usage(fresh + created + read, _int(usage.get("output_tokens")), read, 0)


class _AnthropicStream(StreamConsumer):
    """Messages API events: message_start, content_block_delta, message_delta, message_stop."""

    def feed(self, event: Any) -> bool:
        if not isinstance(event, Mapping):
            return False
        kind = event.get("type")
        if kind == "message_start" and isinstance(event.get("message"), Mapping):
            message = event["message"]
            self.model = message.get("model") or self.model
            self.response_id = message.get("id") or self.response_id
            self.usage = dict(message.get("usage") or {})
        elif kind == "content_block_delta" and isinstance(event.get("delta"), Mapping):
            delta = event["delta"]
            if (
                delta.get("type") == "text_delta"
                and isinstance(delta.get("text"), str)
                and delta["text"]
            ):
                self.text_parts.append(delta["text"])
                return True
        elif kind == "message_delta":
            delta = event.get("delta") or {}
            if isinstance(delta, Mapping) and delta.get("stop_reason"):
                self.finish_reason = delta["stop_reason"]
            if isinstance(event.get("usage"), Mapping):
                self.usage = {**(self.usage or {}), **event["usage"]}
        elif kind == "message_stop":
            self.complete = True
        return False


class AnthropicModel(HTTPModel):
    """Anthropic Messages API client.

    System messages go to the top-level ``system`` field; ``max_tokens`` (required by the API)
    defaults to 1024. Other parameters (``temperature``, ``top_p``, ``stop_sequences``,
    ``thinking``, ...) are sent as given; ``stop`` is mapped to ``stop_sequences``.
    """

    provider = "anthropic"
    api_key_env = ("ANTHROPIC_API_KEY",)
    default_base_url: ClassVar[str | None] = "https://api.anthropic.com"

    def _auth_headers(self, key: str) -> dict[str, str]:
        return {"x-api-key": key, "anthropic-version": API_VERSION}

    async def _generate(
        self, prompt: Prompt, messages: list[Message], params: dict[str, Any]
    ) -> Completion:
        wire = {k: v for k, v in params.items() if k not in CONTEXT_PARAMS}
        if "stop" in wire:
            stop = wire.pop("stop")
            wire["stop_sequences"] = [stop] if isinstance(stop, str) else list(stop)
        wire.setdefault("max_tokens", 1024)
        system = "\n\n".join(m.content for m in messages if m.role == "system")
        turns = [m.to_dict() for m in messages if m.role != "system"]
        body: dict[str, Any] = {"model": self.name, "messages": turns, **wire}
        if system:
            body["system"] = system
        base = self.base_url.rstrip("/")
        path = "/messages" if base.endswith("/v1") else "/v1/messages"
        if body.get("stream"):
            stream = _AnthropicStream()
            _, latency_ms, _ = await self._post_json(path, body, stream)
            return self._completion(
                stream.text,
                anthropic_usage(stream.usage),
                latency_ms=latency_ms,
                ttft_ms=stream.ttft_ms,
                model=stream.model or self.name,
                finish_reason=stream.finish_reason,
                raw=stream.raw(),
            )
        data, latency_ms, _ = await self._post_json(path, body)
        try:
            blocks = data["content"]
            text = "".join(
                b.get("text", "")
                for b in blocks
                if isinstance(b, Mapping) and b.get("type") == "text"
            )
        except (KeyError, TypeError, AttributeError):
            raise self._bad_shape("expected content[] blocks", data) from None
        return self._completion(
            text,
            anthropic_usage(data.get("usage")),
            latency_ms=latency_ms,
            model=str(data.get("model") or self.name),
            finish_reason=data.get("stop_reason"),
            raw=data,
        )
