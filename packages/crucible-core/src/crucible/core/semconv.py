"""Span and attribute names used by every Crucible package (one module, so names never drift).

GenAI names follow the OpenTelemetry semantic conventions for generative AI
(``gen_ai.*``); Crucible's own attributes live under ``crucible.*``.
"""

from __future__ import annotations

from typing import Final

# --- OpenTelemetry GenAI semantic conventions -------------------------------------------------
GEN_AI_OPERATION_NAME: Final = "gen_ai.operation.name"
GEN_AI_PROVIDER_NAME: Final = "gen_ai.provider.name"
GEN_AI_REQUEST_MODEL: Final = "gen_ai.request.model"
GEN_AI_REQUEST_MAX_TOKENS: Final = "gen_ai.request.max_tokens"
GEN_AI_REQUEST_TEMPERATURE: Final = "gen_ai.request.temperature"
GEN_AI_REQUEST_TOP_P: Final = "gen_ai.request.top_p"
GEN_AI_REQUEST_SEED: Final = "gen_ai.request.seed"
GEN_AI_REQUEST_STOP_SEQUENCES: Final = "gen_ai.request.stop_sequences"
GEN_AI_RESPONSE_MODEL: Final = "gen_ai.response.model"
GEN_AI_RESPONSE_ID: Final = "gen_ai.response.id"
GEN_AI_RESPONSE_FINISH_REASONS: Final = "gen_ai.response.finish_reasons"
GEN_AI_USAGE_INPUT_TOKENS: Final = "gen_ai.usage.input_tokens"
GEN_AI_USAGE_OUTPUT_TOKENS: Final = "gen_ai.usage.output_tokens"
GEN_AI_INPUT_MESSAGES: Final = "gen_ai.input.messages"
GEN_AI_OUTPUT_MESSAGES: Final = "gen_ai.output.messages"
GEN_AI_EVALUATION_RESULT: Final = "gen_ai.evaluation.result"
GEN_AI_EVALUATION_NAME: Final = "gen_ai.evaluation.name"
GEN_AI_EVALUATION_SCORE_VALUE: Final = "gen_ai.evaluation.score.value"
GEN_AI_EVALUATION_SCORE_LABEL: Final = "gen_ai.evaluation.score.label"
ERROR_TYPE: Final = "error.type"
SERVER_ADDRESS: Final = "server.address"
SERVER_PORT: Final = "server.port"

OPERATION_CHAT: Final = "chat"
OPERATION_TEXT_COMPLETION: Final = "text_completion"

# --- Crucible attributes ----------------------------------------------------------------------
CRUCIBLE_COST_USD: Final = "crucible.cost_usd"
CRUCIBLE_PRICE_VERSION: Final = "crucible.price_version"
CRUCIBLE_LATENCY_MS: Final = "crucible.latency_ms"
CRUCIBLE_TTFT_MS: Final = "crucible.ttft_ms"
CRUCIBLE_ATTEMPTS: Final = "crucible.attempts"
CRUCIBLE_USAGE_CACHED_INPUT_TOKENS: Final = "crucible.usage.cached_input_tokens"
CRUCIBLE_USAGE_REASONING_TOKENS: Final = "crucible.usage.reasoning_tokens"
CRUCIBLE_EXPERIMENT_ID: Final = "crucible.experiment_id"
CRUCIBLE_CONDITION: Final = "crucible.condition"
CRUCIBLE_ITEM_ID: Final = "crucible.item_id"
CRUCIBLE_REPEAT: Final = "crucible.repeat"
CRUCIBLE_SIMULATED: Final = "crucible.simulated"
CRUCIBLE_CONFIDENCE: Final = "crucible.confidence"
CRUCIBLE_ERROR_MESSAGE: Final = "crucible.error.message"

# Hedging, ensembles, guard: names reserved here so every package emits the same ones.
CRUCIBLE_HEDGE_FIRED: Final = "crucible.hedge.fired"
CRUCIBLE_HEDGE_WINNER: Final = "crucible.hedge.winner"
CRUCIBLE_HEDGE_ATTEMPTS: Final = "crucible.hedge.attempts"
CRUCIBLE_HEDGE_DELAY_MS: Final = "crucible.hedge.delay_ms"
CRUCIBLE_HEDGE_EXTRA_COST_USD: Final = "crucible.hedge.extra_cost_usd"
CRUCIBLE_ENSEMBLE_VOTING: Final = "crucible.ensemble.voting"
CRUCIBLE_ENSEMBLE_EXECUTION: Final = "crucible.ensemble.execution"
CRUCIBLE_ENSEMBLE_CONSENSUS: Final = "crucible.ensemble.consensus"
CRUCIBLE_GUARD_DETECTOR: Final = "crucible.guard.detector"
CRUCIBLE_GUARD_CATEGORY: Final = "crucible.guard.category"
CRUCIBLE_GUARD_ACTION: Final = "crucible.guard.action"

#: The instrumentation scope name of crucible-core's tracer.
TRACER_NAME: Final = "crucible.core"

#: Environment variables that opt in to recording prompt and response content on spans.
CAPTURE_CONTENT_ENV: Final = (
    "CRUCIBLE_CAPTURE_CONTENT",
    "OTEL_INSTRUMENTATION_GENAI_CAPTURE_MESSAGE_CONTENT",
)
