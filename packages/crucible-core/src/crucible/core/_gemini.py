"""Google's Gemini API (``gemini:gemini-2.5-flash``); key from ``GEMINI_API_KEY`` or ``GOOGLE_API_KEY``."""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any, ClassVar

from crucible.core._http import HTTPModel, StreamConsumer
from crucible.core._model import CONTEXT_PARAMS, Prompt
from crucible.core._values import Completion, Message, TokenLogprob, Usage

__all__ = ["GeminiModel", "gemini_usage"]

#: Our parameter names -> Gemini generationConfig names.
_GENERATION_CONFIG = {
    "temperature": "temperature",
    "max_tokens": "maxOutputTokens",
    "top_p": "topP",
    "top_k": "topK",
    "seed": "seed",
    "stop": "stopSequences",
    "candidate_count": "candidateCount",
    "response_mime_type": "responseMimeType",
    "logprobs": "logprobs",
    "response_logprobs": "responseLogprobs",
}


def _int(value: Any) -> int:
    return int(value) if isinstance(value, int | float) and not isinstance(value, bool) else 0


def gemini_usage(meta: Any) -> Usage:
    """Usage from Gemini's ``usageMetadata``.

    ``promptTokenCount`` includes ``cachedContentTokenCount``; ``candidatesTokenCount`` excludes
    ``thoughtsTokenCount`` (thinking), which is reported as reasoning tokens.
    """
    if not isinstance(meta, Mapping):
        return Usage()
    prompt = _int(meta.get("promptTokenCount"))
    cached = min(_int(meta.get("cachedContentTokenCount")), prompt)
    return Usage(
        prompt, _int(meta.get("candidatesTokenCount")), cached, _int(meta.get("thoughtsTokenCount"))
    )


class _GeminiStream(StreamConsumer):
    """``streamGenerateContent?alt=sse`` chunks; the last carries the finish reason and usage."""

    def feed(self, event: Any) -> bool:
        if not isinstance(event, Mapping):
            return False
        if isinstance(event.get("usageMetadata"), Mapping):
            self.usage = event["usageMetadata"]
        self.model = event.get("modelVersion") or self.model
        self.response_id = event.get("responseId") or self.response_id
        got_text = False
        for candidate in (event.get("candidates") or [])[:1]:
            if not isinstance(candidate, Mapping):
                continue
            for part in (candidate.get("content") or {}).get("parts") or ():
                if isinstance(part, Mapping) and not part.get("thought") and part.get("text"):
                    self.text_parts.append(str(part["text"]))
                    got_text = True
            if candidate.get("finishReason"):
                self.finish_reason = str(candidate["finishReason"]).lower()
                self.complete = True
        return got_text


class GeminiModel(HTTPModel):
    """Gemini ``generateContent`` client.

    System messages become ``systemInstruction``; ``assistant`` turns become ``model`` turns;
    ``temperature``, ``max_tokens``, ``top_p``, ``top_k``, ``seed``, ``stop`` go into
    ``generationConfig``; other keys (``safetySettings``, ``tools``, ...) are sent as given.
    """

    provider = "gemini"
    api_key_env = ("GEMINI_API_KEY", "GOOGLE_API_KEY")
    default_base_url: ClassVar[str | None] = "https://generativelanguage.googleapis.com/v1beta"

    def _auth_headers(self, key: str) -> dict[str, str]:
        return {"x-goog-api-key": key}

    async def _generate(
        self, prompt: Prompt, messages: list[Message], params: dict[str, Any]
    ) -> Completion:
        wire = {k: v for k, v in params.items() if k not in CONTEXT_PARAMS}
        generation: dict[str, Any] = dict(wire.pop("generationConfig", {}) or {})
        for ours, theirs in _GENERATION_CONFIG.items():
            if ours in wire:
                value = wire.pop(ours)
                generation[theirs] = [value] if ours == "stop" and isinstance(value, str) else value
        system = "\n\n".join(m.content for m in messages if m.role == "system")
        contents = [
            {"role": "model" if m.role == "assistant" else "user", "parts": [{"text": m.content}]}
            for m in messages
            if m.role != "system"
        ]
        body: dict[str, Any] = {"contents": contents, **wire}
        if generation:
            body["generationConfig"] = generation
        if system:
            body["systemInstruction"] = {"parts": [{"text": system}]}
        if body.pop("stream", False):
            stream = _GeminiStream()
            _, latency_ms, _ = await self._post_json(
                f"/models/{self.name}:streamGenerateContent?alt=sse", body, stream
            )
            return self._completion(
                stream.text,
                gemini_usage(stream.usage),
                latency_ms=latency_ms,
                ttft_ms=stream.ttft_ms,
                model=stream.model or self.name,
                finish_reason=stream.finish_reason,
                raw=stream.raw(),
            )
        data, latency_ms, _ = await self._post_json(f"/models/{self.name}:generateContent", body)
        try:
            candidate = data["candidates"][0]
            parts = candidate.get("content", {}).get("parts", [])
            text = "".join(
                p.get("text", "") for p in parts if isinstance(p, Mapping) and not p.get("thought")
            )
        except (KeyError, IndexError, TypeError, AttributeError):
            raise self._bad_shape("expected candidates[0].content.parts", data) from None
        logprobs: list[TokenLogprob] | None = None
        chosen = (candidate.get("logprobsResult") or {}).get("chosenCandidates")
        if isinstance(chosen, list):
            logprobs = [
                TokenLogprob(str(c.get("token", "")), float(c.get("logProbability", 0.0)))
                for c in chosen
            ]
        avg = candidate.get("avgLogprobs")
        confidence = (
            math.exp(avg)
            if isinstance(avg, int | float) and math.isfinite(avg) and avg <= 0
            else None
        )
        finish = candidate.get("finishReason")
        return self._completion(
            text,
            gemini_usage(data.get("usageMetadata")),
            latency_ms=latency_ms,
            model=str(data.get("modelVersion") or self.name),
            finish_reason=finish.lower() if isinstance(finish, str) else None,
            logprobs=logprobs,
            confidence=confidence,
            raw=data,
        )
