"""crucible-core: the contract every Crucible package speaks."""

from crucible.core._errors import (
    AuthenticationError,
    BadRequestError,
    BadResponseError,
    BudgetExceededError,
    ConfigurationError,
    CrucibleError,
    DatasetError,
    ProviderError,
    ProviderTimeoutError,
    RateLimitError,
    ServerError,
    ValidationError,
)
from crucible.core._latency import LatencyProfile, LogNormal
from crucible.core._pricing import DEFAULT_PRICES, Cost, Price, Pricing, UnpricedModelWarning
from crucible.core._seeding import Seeds, stable_hash
from crucible.core._values import Completion, Item, Message, TokenLogprob, Usage

__version__ = "0.1.0"

__all__ = [
    "DEFAULT_PRICES",
    "AuthenticationError",
    "BadRequestError",
    "BadResponseError",
    "BudgetExceededError",
    "Completion",
    "ConfigurationError",
    "Cost",
    "CrucibleError",
    "DatasetError",
    "Item",
    "LatencyProfile",
    "LogNormal",
    "Message",
    "Price",
    "Pricing",
    "ProviderError",
    "ProviderTimeoutError",
    "RateLimitError",
    "Seeds",
    "ServerError",
    "TokenLogprob",
    "UnpricedModelWarning",
    "Usage",
    "ValidationError",
    "__version__",
    "stable_hash",
]
