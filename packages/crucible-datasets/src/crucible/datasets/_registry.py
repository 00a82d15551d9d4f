"""The scorer registry: names as a ``StrEnum``, built-ins registered explicitly, third-party
scorers from the ``crucible.datasets.scorers`` entry point group on a lookup miss."""

from __future__ import annotations

from collections.abc import Callable
from enum import StrEnum
from typing import Any

from crucible.core import Item, ValidationError
from crucible.datasets._scoring import (
    BaseScorer,
    CustomScorer,
    ExactMatch,
    MultipleChoice,
    NumericMatch,
    RegexMatch,
    TokenF1,
)

__all__ = [
    "ENTRY_POINT_GROUP",
    "ScorerName",
    "as_scorer",
    "get_scorer",
    "register_scorer",
    "scorer_names",
]


class ScorerName(StrEnum):
    """Names of the built-in scorers (usable wherever a scorer name is accepted)."""

    EXACT_MATCH = "exact_match"
    F1 = "f1"
    MULTIPLE_CHOICE = "multiple_choice"
    NUMERIC = "numeric"
    REGEX = "regex"
    BLEU = "bleu"
    ROUGE_L = "rouge_l"
    CODE_EXECUTION = "code_execution"


def _bleu(**options: Any) -> BaseScorer:
    from crucible.datasets._text_metrics import Bleu

    return Bleu(**options)


def _rouge(**options: Any) -> BaseScorer:
    from crucible.datasets._text_metrics import RougeL

    return RougeL(**options)


def _code(**options: Any) -> BaseScorer:
    from crucible.datasets._humaneval import CodeExecution

    return CodeExecution(**options)


_BUILTINS: dict[str, Callable[..., BaseScorer]] = {
    ScorerName.EXACT_MATCH: ExactMatch,
    ScorerName.F1: TokenF1,
    ScorerName.MULTIPLE_CHOICE: MultipleChoice,
    ScorerName.NUMERIC: NumericMatch,
    ScorerName.REGEX: RegexMatch,
    ScorerName.BLEU: _bleu,
    ScorerName.ROUGE_L: _rouge,
    ScorerName.CODE_EXECUTION: _code,
}
_registry: dict[str, Callable[..., BaseScorer]] = dict(_BUILTINS)


def register_scorer(
    name: str, factory: Callable[..., BaseScorer], *, replace: bool = False
) -> None:
    """Make ``get_scorer(name, **options)`` return ``factory(**options)``."""
    if not name or not isinstance(name, str):
        raise ValidationError(f"scorer `name` must be a non-empty string, got {name!r}")
    if name in _registry and not replace:
        raise ValidationError(f"scorer {name!r} is already registered; pass replace=True")
    _registry[name] = factory


def scorer_names() -> list[str]:
    """Every registered scorer name, sorted."""
    return sorted(_registry)


def get_scorer(name: ScorerName | str, **options: Any) -> BaseScorer:
    """The scorer registered under ``name``, built with ``options``.

    Names not registered are looked up in the ``crucible.datasets.scorers`` entry point group
    (a package declares ``[project.entry-points."crucible.datasets.scorers"] my_scorer =
    "pkg.module:factory"``).

    Example:
        >>> get_scorer("exact_match", case=False).name
        'exact_match'
    """
    key = str(name)
    if key not in _registry:
        _load_entry_point(key)
    try:
        factory = _registry[key]
    except KeyError:
        raise ValidationError(
            f"unknown scorer {name!r}; valid scorers: {', '.join(scorer_names())}"
        ) from None
    return factory(**options)


ENTRY_POINT_GROUP = "crucible.datasets.scorers"


def _load_entry_point(name: str) -> None:
    """Register a third-party scorer published under the ``crucible.datasets.scorers`` entry
    point group, looked up only when a name is not registered."""
    from importlib.metadata import entry_points

    for entry in entry_points(group=ENTRY_POINT_GROUP, name=name):
        _registry[name] = entry.load()
        return


def as_scorer(scorer: BaseScorer | ScorerName | str | Callable[[Any, Item], Any]) -> BaseScorer:
    """Accept a scorer object, a registered name or a plain callable."""
    if isinstance(scorer, BaseScorer):
        return scorer
    if isinstance(scorer, str):
        return get_scorer(scorer)
    return CustomScorer(scorer)
