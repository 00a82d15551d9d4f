"""One registry of detector factories, so users add their own detectors by name."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from crucible.core import ConfigurationError
from crucible.guard._detectors import (
    AsyncDetector,
    Detector,
    JailbreakDetector,
    PIIDetector,
    PromptInjectionDetector,
    SecretsDetector,
)
from crucible.guard._judge import JudgeDetector
from crucible.guard._output import FormatDetector, LeakageDetector

__all__ = [
    "DEFAULT_DETECTORS",
    "DetectorRegistry",
    "default_registry",
    "get_detector",
    "register_detector",
]

AnyDetector = Detector | AsyncDetector
DetectorFactory = Callable[..., AnyDetector]

#: What ``Guard(detectors=None)`` runs: injection and jailbreak on inputs, leakage on outputs,
#: PII and secrets on both.
DEFAULT_DETECTORS = ("prompt_injection", "jailbreak", "pii", "secrets", "leakage")


class DetectorRegistry:
    """Detector factories by name.

    Example:
        >>> registry = DetectorRegistry.with_builtins()
        >>> "pii" in registry.names()
        True
    """

    def __init__(self) -> None:
        self._factories: dict[str, DetectorFactory] = {}

    @classmethod
    def with_builtins(cls) -> DetectorRegistry:
        """A registry holding the built-in detectors."""
        registry = cls()
        registry.register("prompt_injection", PromptInjectionDetector)
        registry.register("jailbreak", JailbreakDetector)
        registry.register("pii", PIIDetector)
        registry.register("secrets", SecretsDetector)
        registry.register("leakage", LeakageDetector)
        registry.register("format", FormatDetector)
        registry.register("judge", JudgeDetector)
        return registry

    def register(self, name: str, factory: DetectorFactory, *, replace: bool = False) -> None:
        """Register ``factory`` (``(**options) -> detector``) under ``name``."""
        if not isinstance(name, str) or not name:
            raise ConfigurationError(f"detector `name` must be a non-empty string, got {name!r}")
        if not callable(factory):
            raise ConfigurationError(f"detector `factory` must be callable, got {factory!r}")
        if name in self._factories and not replace:
            raise ConfigurationError(
                f"a detector named {name!r} is already registered; pass replace=True to replace it"
            )
        self._factories[name] = factory

    def names(self) -> list[str]:
        """The registered names, sorted."""
        return sorted(self._factories)

    def create(self, name: str, **options: Any) -> AnyDetector:
        """A new detector of the kind registered as ``name``."""
        factory = self._factories.get(name)
        if factory is None:
            raise ConfigurationError(
                f"unknown detector {name!r}; registered detectors are {', '.join(self.names())}"
            )
        return factory(**options)


_DEFAULT: list[DetectorRegistry] = []


def default_registry() -> DetectorRegistry:
    """The process-wide registry (built-ins registered on first use)."""
    if not _DEFAULT:
        _DEFAULT.append(DetectorRegistry.with_builtins())
    return _DEFAULT[0]


def register_detector(name: str, factory: DetectorFactory, *, replace: bool = False) -> None:
    """Register a detector factory in the default registry, for ``Guard(detectors=[name])``."""
    default_registry().register(name, factory, replace=replace)


def get_detector(name: str, **options: Any) -> AnyDetector:
    """A detector from the default registry (``get_detector("pii", types=["email"])``)."""
    return default_registry().create(name, **options)
