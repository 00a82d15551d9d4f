"""Crucible: statistically sound experiments on LLM systems.

``crucible.framework`` re-exports crucible-core's API at the top level and every other Crucible
package as a submodule (``from crucible.framework import bench`` is ``crucible.bench``), imported
only when first used; the packages stay importable on their own.
"""

import importlib
from types import ModuleType

from crucible.core import (
    DEFAULT_PRICES,
    PRESETS,
    AuthenticationError,
    BadRequestError,
    BadResponseError,
    BaseModel,
    BudgetExceededError,
    Completion,
    Config,
    ConfigurationError,
    Cost,
    CrucibleError,
    DatasetError,
    Item,
    LatencyProfile,
    Message,
    Model,
    ModelRegistry,
    Price,
    Pricing,
    ProviderConnectionError,
    ProviderError,
    ProviderTimeoutError,
    RateLimitError,
    Seeds,
    ServerError,
    SimProfile,
    SimulatedModel,
    TokenLogprob,
    UnpricedModelWarning,
    Usage,
    ValidationError,
    get_model,
    load_config,
    register_provider,
    stable_hash,
)

__version__ = "0.1.0"

#: Submodule name -> the Crucible package it stands for.
PACKAGES = {
    "adversary": "crucible.adversary",
    "bench": "crucible.bench",
    "datasets": "crucible.datasets",
    "ensemble": "crucible.ensemble",
    "fairness": "crucible.fairness",
    "guard": "crucible.guard",
    "harness": "crucible.harness",
    "hedging": "crucible.hedging",
    "lora": "crucible.lora",
    "production_eval": "crucible.production_eval",
    "telemetry": "crucible.telemetry",
    "trace": "crucible.trace",
    "xai": "crucible.xai",
}


def __getattr__(name: str) -> ModuleType:
    target = PACKAGES.get(name)
    if target is None:
        raise AttributeError(f"module 'crucible.framework' has no attribute {name!r}")
    try:
        module = importlib.import_module(target)
    except ModuleNotFoundError as exc:
        distribution = "crucible-" + name.replace("_", "-")
        raise AttributeError(
            f"crucible.framework.{name} needs {distribution}: pip install {distribution}"
        ) from exc
    globals()[name] = module
    return module


__all__ = [
    "DEFAULT_PRICES",
    "PACKAGES",
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
    "Message",
    "Model",
    "ModelRegistry",
    "Price",
    "Pricing",
    "ProviderConnectionError",
    "ProviderError",
    "ProviderTimeoutError",
    "RateLimitError",
    "Seeds",
    "ServerError",
    "SimProfile",
    "SimulatedModel",
    "TokenLogprob",
    "UnpricedModelWarning",
    "Usage",
    "ValidationError",
    "__version__",
    "get_model",
    "load_config",
    "register_provider",
    "stable_hash",
]
