"""The Model protocol and the instrumented base class every built-in provider extends."""

from __future__ import annotations

import json
import os
from abc import ABC, abstractmethod
from collections.abc import Mapping, Sequence
from typing import Any, ClassVar, Protocol, runtime_checkable

from opentelemetry import trace
from opentelemetry.trace import SpanKind, Status, StatusCode

from crucible.core import semconv as sc
from crucible.core._errors import CrucibleError, ValidationError
from crucible.core._pricing import Pricing
from crucible.core._values import Completion, Message, Usage

__all__ = ["BaseModel", "Model", "Prompt", "as_messages", "prompt_text"]

Prompt = str | Sequence[Message]

#: Keyword arguments every model accepts and no provider sends over the wire: the item being
#: answered, the repeat index and the attempt number (used by simulated models and by spans).
CONTEXT_PARAMS = frozenset({"item", "repeat", "attempt", "condition", "experiment_id"})


@runtime_checkable
class Model(Protocol):
    """Anything that answers a prompt: a provider client, a simulated model, an ensemble, ...

    ``generate`` takes a string or a sequence of :class:`Message` and provider parameters
    (``temperature``, ``max_tokens``, ...), and returns a :class:`Completion`.
    """

    async def generate(self, prompt: Prompt, **params: Any) -> Completion:
        """Answer ``prompt``."""
        ...


def as_messages(prompt: Prompt) -> list[Message]:
    """Normalise a prompt to a list of messages (a string becomes one user message)."""
    if isinstance(prompt, str):
        if not prompt:
            raise ValidationError("`prompt` is an empty string; give the text to send")
        return [Message("user", prompt)]
    if isinstance(prompt, Message):
        return [prompt]
    if not isinstance(prompt, Sequence) or not prompt:
        raise ValidationError(
            f"`prompt` must be a non-empty string or a non-empty sequence of Message, got {prompt!r:.80}"
        )
    out: list[Message] = []
    for i, m in enumerate(prompt):
        if isinstance(m, Message):
            out.append(m)
        elif isinstance(m, Mapping) and "role" in m and "content" in m:
            out.append(Message(m["role"], m["content"]))
        else:
            raise ValidationError(
                f"`prompt[{i}]` must be a Message or a {{role, content}} mapping, got {m!r:.80}"
            )
    return out


def prompt_text(prompt: Prompt) -> str:
    """The prompt as plain text (messages joined by blank lines)."""
    if isinstance(prompt, str):
        return prompt
    return "\n\n".join(m.content for m in as_messages(prompt))


def _capture_default() -> bool:
    return any(
        os.environ.get(var, "").lower() in ("1", "true", "yes") for var in sc.CAPTURE_CONTENT_ENV
    )


_REQUEST_ATTRS = {
    "temperature": sc.GEN_AI_REQUEST_TEMPERATURE,
    "max_tokens": sc.GEN_AI_REQUEST_MAX_TOKENS,
    "top_p": sc.GEN_AI_REQUEST_TOP_P,
    "seed": sc.GEN_AI_REQUEST_SEED,
}


class BaseModel(ABC):
    """A model whose every ``generate`` is an OpenTelemetry span with GenAI attributes.

    Subclasses implement :meth:`_generate`; this class validates the prompt, opens a span named
    ``"{operation} {model}"`` (``chat gpt-4o``), records usage, cost, latency and errors on it, and
    records prompt/response content only when ``capture_content`` (or the
    ``CRUCIBLE_CAPTURE_CONTENT`` environment variable) opts in.
    """

    provider: ClassVar[str] = ""
    operation: str = sc.OPERATION_CHAT

    def __init__(
        self,
        name: str,
        *,
        pricing: Pricing | None = None,
        capture_content: bool | None = None,
    ) -> None:
        if not isinstance(name, str) or not name:
            raise ValidationError(f"model `name` must be a non-empty string, got {name!r}")
        self.name = name
        self.pricing = pricing if pricing is not None else Pricing()
        self.capture_content = _capture_default() if capture_content is None else capture_content

    @property
    def spec(self) -> str:
        """``provider:name``, the string :func:`get_model` resolves back to this model."""
        return f"{self.provider}:{self.name}"

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.spec!r})"

    async def generate(self, prompt: Prompt, **params: Any) -> Completion:
        """Answer ``prompt`` (see :class:`Model`); raises a :class:`ProviderError` subclass on failure."""
        messages = as_messages(prompt)
        tracer = trace.get_tracer(sc.TRACER_NAME)
        with tracer.start_as_current_span(
            f"{self.operation} {self.name}",
            kind=SpanKind.CLIENT,
            record_exception=False,
            set_status_on_exception=False,
        ) as span:
            if span.is_recording():
                self._record_request(span, messages, params)
            try:
                completion = await self._generate(prompt, messages, params)
            except CrucibleError as exc:
                if span.is_recording():
                    span.set_attribute(sc.ERROR_TYPE, type(exc).__name__)
                    attempts = getattr(exc, "attempts", None)
                    if attempts is not None:
                        span.set_attribute(sc.CRUCIBLE_ATTEMPTS, attempts)
                    span.record_exception(exc)
                    span.set_status(Status(StatusCode.ERROR, str(exc)))
                raise
            except BaseException as exc:
                if span.is_recording():
                    span.set_attribute(sc.ERROR_TYPE, type(exc).__name__)
                    span.set_status(Status(StatusCode.ERROR, type(exc).__name__))
                raise
            if span.is_recording():
                self._record_response(span, completion)
            return completion

    @abstractmethod
    async def _generate(
        self, prompt: Prompt, messages: list[Message], params: dict[str, Any]
    ) -> Completion:
        """Produce the completion; raise typed :class:`ProviderError` subclasses on failure."""

    def _completion(
        self,
        text: str,
        usage: Usage,
        *,
        latency_ms: float,
        model: str | None = None,
        ttft_ms: float | None = None,
        finish_reason: str | None = None,
        logprobs: Any = None,
        confidence: float | None = None,
        raw: Any = None,
        usage_known: bool = True,
    ) -> Completion:
        """Build a :class:`Completion` with its cost from this model's price table.

        ``usage_known=False`` (a stream that reported no usage) leaves the cost ``None``: an
        estimated token count is never billed as if it were exact.
        """
        cost: float | None = None
        if usage_known:
            cost = self.pricing.cost_usd(self.provider, self.name, usage)
            if cost is None and model and model != self.name:
                cost = self.pricing.cost_usd(self.provider, model, usage)
        return Completion(
            text=text,
            model=model or self.name,
            provider=self.provider,
            usage=usage,
            cost_usd=cost,
            latency_ms=latency_ms,
            ttft_ms=ttft_ms,
            finish_reason=finish_reason,
            logprobs=logprobs,
            confidence=confidence,
            raw=raw,
        )

    def _record_request(
        self, span: trace.Span, messages: list[Message], params: Mapping[str, Any]
    ) -> None:
        span.set_attribute(sc.GEN_AI_OPERATION_NAME, self.operation)
        span.set_attribute(sc.GEN_AI_PROVIDER_NAME, self.provider)
        span.set_attribute(sc.GEN_AI_REQUEST_MODEL, self.name)
        for key, attr in _REQUEST_ATTRS.items():
            value = params.get(key)
            if isinstance(value, int | float) and not isinstance(value, bool):
                span.set_attribute(attr, value)
        stop = params.get("stop")
        if isinstance(stop, str):
            span.set_attribute(sc.GEN_AI_REQUEST_STOP_SEQUENCES, [stop])
        elif isinstance(stop, Sequence) and all(isinstance(s, str) for s in stop):
            span.set_attribute(sc.GEN_AI_REQUEST_STOP_SEQUENCES, list(stop))
        item = params.get("item")
        item_id = getattr(item, "id", None)
        if item_id is not None:
            span.set_attribute(sc.CRUCIBLE_ITEM_ID, str(item_id))
        for key, attr in (
            ("repeat", sc.CRUCIBLE_REPEAT),
            ("condition", sc.CRUCIBLE_CONDITION),
            ("experiment_id", sc.CRUCIBLE_EXPERIMENT_ID),
        ):
            value = params.get(key)
            if isinstance(value, int | str) and not isinstance(value, bool):
                span.set_attribute(attr, value)
        if self.capture_content:
            span.set_attribute(
                sc.GEN_AI_INPUT_MESSAGES, json.dumps([m.to_dict() for m in messages])
            )

    def _record_response(self, span: trace.Span, completion: Completion) -> None:
        span.set_attribute(sc.GEN_AI_RESPONSE_MODEL, completion.model)
        span.set_attribute(sc.GEN_AI_USAGE_INPUT_TOKENS, completion.usage.input_tokens)
        span.set_attribute(sc.GEN_AI_USAGE_OUTPUT_TOKENS, completion.usage.output_tokens)
        span.set_attribute(
            sc.CRUCIBLE_USAGE_CACHED_INPUT_TOKENS, completion.usage.cached_input_tokens
        )
        span.set_attribute(sc.CRUCIBLE_USAGE_REASONING_TOKENS, completion.usage.reasoning_tokens)
        span.set_attribute(sc.CRUCIBLE_LATENCY_MS, completion.latency_ms)
        span.set_attribute(sc.CRUCIBLE_PRICE_VERSION, self.pricing.version)
        if completion.cost_usd is not None:
            span.set_attribute(sc.CRUCIBLE_COST_USD, completion.cost_usd)
        if completion.ttft_ms is not None:
            span.set_attribute(sc.CRUCIBLE_TTFT_MS, completion.ttft_ms)
        if completion.finish_reason is not None:
            span.set_attribute(sc.GEN_AI_RESPONSE_FINISH_REASONS, [completion.finish_reason])
        if completion.confidence is not None:
            span.set_attribute(sc.CRUCIBLE_CONFIDENCE, completion.confidence)
        response_id = completion.raw.get("id") if isinstance(completion.raw, Mapping) else None
        if isinstance(response_id, str):
            span.set_attribute(sc.GEN_AI_RESPONSE_ID, response_id)
        if self.capture_content:
            span.set_attribute(
                sc.GEN_AI_OUTPUT_MESSAGES,
                json.dumps(
                    [
                        {
                            "role": "assistant",
                            "content": completion.text,
                            "finish_reason": completion.finish_reason,
                        }
                    ]
                ),
            )

    async def aclose(self) -> None:  # noqa: B027 - optional hook, a no-op by default
        """Release network resources (a no-op for models that hold none)."""

    async def __aenter__(self) -> BaseModel:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.aclose()
