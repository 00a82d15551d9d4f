"""Resolve ``provider:name`` specs to models through one registry.

Built-in providers are registered explicitly when the default registry is first used; third
parties register through the ``crucible.models`` entry-point group (the entry point's name is the
provider, its object a factory ``(name, **options) -> Model``), loaded only on a lookup miss.
"""

from __future__ import annotations

import importlib.metadata
from collections.abc import Callable
from typing import Any, cast

from crucible.core._errors import ConfigurationError
from crucible.core._model import Model

__all__ = [
    "ENTRY_POINT_GROUP",
    "ModelRegistry",
    "default_registry",
    "get_model",
    "parse_spec",
    "register_provider",
]

ENTRY_POINT_GROUP = "crucible.models"
ModelFactory = Callable[..., Model]


def parse_spec(spec: str, known: list[str] | None = None) -> tuple[str, str]:
    """Split ``"provider:name"`` (the name may itself contain colons).

    Example:
        >>> parse_spec("openai-compatible:gemma-3-270m")
        ('openai-compatible', 'gemma-3-270m')
    """
    listing = f" Known providers: {', '.join(known)}." if known else ""
    if not isinstance(spec, str):
        raise ConfigurationError(
            f"model spec must be a string 'provider:name', got {type(spec).__name__}.{listing}"
        )
    provider, sep, name = spec.strip().partition(":")
    if not sep or not provider or not name:
        raise ConfigurationError(
            f"malformed model spec {spec!r}: expected 'provider:name' (e.g. 'sim:gpt-4', "
            f"'openai:gpt-4o').{listing}"
        )
    return provider, name


def _sim(name: str, **options: Any) -> Model:
    from crucible.core._config import load_config
    from crucible.core._sim import SimulatedModel

    config = options.pop("config", None) or load_config()
    options.setdefault("pricing", config.pricing())
    if "seed" not in options:
        seed = config.get("seed", provider="sim", cast=int)
        if seed is not None:
            options["seed"] = seed
    return SimulatedModel(name, **options)


def _openai(name: str, **options: Any) -> Model:
    from crucible.core._openai import OpenAIModel

    return OpenAIModel(name, **options)


def _openai_compatible(name: str, **options: Any) -> Model:
    from crucible.core._openai import OpenAICompatibleModel

    return OpenAICompatibleModel(name, **options)


def _anthropic(name: str, **options: Any) -> Model:
    from crucible.core._anthropic import AnthropicModel

    return AnthropicModel(name, **options)


def _gemini(name: str, **options: Any) -> Model:
    from crucible.core._gemini import GeminiModel

    return GeminiModel(name, **options)


BUILTIN_PROVIDERS: dict[str, ModelFactory] = {
    "sim": _sim,
    "openai": _openai,
    "anthropic": _anthropic,
    "gemini": _gemini,
    "openai-compatible": _openai_compatible,
}


class ModelRegistry:
    """Provider name -> model factory.

    Example:
        >>> registry = ModelRegistry()
        >>> registry.get("sim:gpt-4").spec
        'sim:gpt-4'
    """

    def __init__(
        self, *, builtins: bool = True, entry_point_group: str | None = ENTRY_POINT_GROUP
    ) -> None:
        self._factories: dict[str, ModelFactory] = dict(BUILTIN_PROVIDERS) if builtins else {}
        self._group = entry_point_group

    def register(self, provider: str, factory: ModelFactory, *, replace: bool = False) -> None:
        """Add a provider; ``replace=True`` overrides an existing one."""
        if not isinstance(provider, str) or not provider or ":" in provider:
            raise ConfigurationError(
                f"provider name must be a non-empty string without ':', got {provider!r}"
            )
        if not callable(factory):
            raise ConfigurationError(
                f"factory for provider {provider!r} must be callable, got {factory!r}"
            )
        if provider in self._factories and not replace:
            raise ConfigurationError(
                f"provider {provider!r} is already registered; pass replace=True to override it"
            )
        self._factories[provider] = factory

    def _entry_points(self) -> list[importlib.metadata.EntryPoint]:
        if not self._group:
            return []
        return list(importlib.metadata.entry_points(group=self._group))

    def providers(self) -> list[str]:
        """Every provider name: registered ones and those offered by installed entry points."""
        return sorted(set(self._factories) | {ep.name for ep in self._entry_points()})

    def factory(self, provider: str) -> ModelFactory:
        if provider in self._factories:
            return self._factories[provider]
        for ep in self._entry_points():
            if ep.name == provider:
                try:
                    loaded = ep.load()
                except Exception as exc:
                    raise ConfigurationError(
                        f"provider {provider!r} from entry point {ep.value!r} failed to load: {exc}"
                    ) from exc
                self._factories[provider] = loaded
                return cast(ModelFactory, loaded)
        raise ConfigurationError(
            f"unknown provider {provider!r}. Known providers: {', '.join(self.providers())}. "
            f"Third-party providers register through the {self._group!r} entry-point group."
        )

    def get(self, spec: str, **options: Any) -> Model:
        """Build the model named by ``spec`` (``provider:name``) with ``options``."""
        provider, name = parse_spec(spec, self.providers())
        return self.factory(provider)(name, **options)


_DEFAULT: ModelRegistry | None = None


def default_registry() -> ModelRegistry:
    """The process-wide registry used by :func:`get_model` (created on first use)."""
    global _DEFAULT
    if _DEFAULT is None:
        _DEFAULT = ModelRegistry()
    return _DEFAULT


def get_model(spec: str, **options: Any) -> Model:
    """Resolve ``"provider:name"`` to a model.

    Providers: ``sim`` (offline simulated presets), ``openai``, ``anthropic``, ``gemini``,
    ``openai-compatible`` (needs ``base_url``; ``endpoint="completions"`` for base models), plus
    any registered through the ``crucible.models`` entry points.

    Raises:
        ConfigurationError: for a malformed spec or unknown provider (the message lists the known
            providers), or invalid options.

    Example:
        >>> import asyncio
        >>> model = get_model("sim:gpt-4", seed=3)
        >>> asyncio.run(model.generate("What is 2+2?")).provider
        'sim'
    """
    return default_registry().get(spec, **options)


def register_provider(provider: str, factory: ModelFactory, *, replace: bool = False) -> None:
    """Register a provider factory in the default registry."""
    default_registry().register(provider, factory, replace=replace)
