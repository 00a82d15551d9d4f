"""crucible-core: the contract every Crucible package speaks."""

from crucible.core._config import Config, load_config
from crucible.core._errors import (
    AuthenticationError,
    BadRequestError,
    BadResponseError,
    BudgetExceededError,
    ConfigurationError,
    CrucibleError,
    DatasetError,
    ProviderConnectionError,
    ProviderError,
    ProviderTimeoutError,
    RateLimitError,
    ServerError,
    ValidationError,
)
from crucible.core._http import Secret, parse_retry_after
from crucible.core._latency import LatencyProfile, LogNormal
from crucible.core._model import BaseModel, Model, Prompt, as_messages, prompt_text
from crucible.core._pricing import DEFAULT_PRICES, Cost, Price, Pricing, UnpricedModelWarning
from crucible.core._registry import ModelRegistry, get_model, parse_spec, register_provider
from crucible.core._seeding import Seeds, stable_hash
from crucible.core._sim import PRESETS, SimProfile, SimulatedModel
from crucible.core._values import Completion, Item, Message, TokenLogprob, Usage

__version__ = "0.1.0"

__all__ = [
    "DEFAULT_PRICES",
    "PRESETS",
    "AuthenticationError",
    "BadRequestError",
    "BadResponseError",
    "BaseModel",
    "BudgetExceededError",
    "Completion",
    "Config",
    "ConfigurationError",
    "Cost",
    "CrucibleError",
    "DatasetError",
    "Item",
    "LatencyProfile",
    "LogNormal",
    "Message",
    "Model",
    "ModelRegistry",
    "Price",
    "Pricing",
    "Prompt",
    "ProviderConnectionError",
    "ProviderError",
    "ProviderTimeoutError",
    "RateLimitError",
    "Secret",
    "Seeds",
    "ServerError",
    "SimProfile",
    "SimulatedModel",
    "TokenLogprob",
    "UnpricedModelWarning",
    "Usage",
    "ValidationError",
    "__version__",
    "as_messages",
    "get_model",
    "load_config",
    "parse_retry_after",
    "parse_spec",
    "prompt_text",
    "register_provider",
    "stable_hash",
]
