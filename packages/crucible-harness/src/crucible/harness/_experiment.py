"""Experiments: conditions x items x repeats, a seed, limits and a budget — validated up front."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping, Sequence
from typing import Any, Protocol

import attrs

from crucible.core import (
    Completion,
    ConfigurationError,
    CrucibleError,
    Item,
    Model,
    Prompt,
    get_model,
    parse_spec,
)
from crucible.datasets import Dataset, Score, get_scorer
from crucible.harness._errors import ExperimentError
from crucible.harness._limits import Budget, Limits
from crucible.harness._template import PromptTemplate, as_template

__all__ = ["Condition", "Experiment", "Scorer", "TrialContext", "TrialFn"]

#: Providers whose clients retry on their own; the harness resolves them with ``max_retries=0``
#: so retries, rate limits and timeouts are the runner's and every attempt is recorded.
_HTTP_PROVIDERS = frozenset({"openai", "anthropic", "gemini", "openai-compatible"})


@attrs.frozen(slots=True)
class TrialContext:
    """What a custom pipeline ``(item, context) -> Completion`` knows about its trial.

    Attributes:
        experiment_id: the run's experiment id (also set on spans).
        condition: the condition's name.
        repeat: the repeat index (0-based).
        attempt: the attempt number (0 for the first call, 1 for the first retry, ...).
        seed: a seed for this trial, derived from the experiment seed, condition, item and
            repeat (never from the schedule), for pipelines that draw random numbers.
        prompt: the rendered prompt.
        params: the condition's model parameters.
    """

    experiment_id: str
    condition: str
    repeat: int
    attempt: int
    seed: int
    prompt: Prompt
    params: Mapping[str, Any]


TrialFn = Callable[[Item, TrialContext], Awaitable[Completion]]


class Scorer(Protocol):
    """Anything with a ``name`` called as ``scorer(prediction, item)``."""

    name: str

    def __call__(self, prediction: Any, item: Item) -> Any: ...


def _name(instance: object, attribute: attrs.Attribute[Any], value: Any) -> None:
    if not isinstance(value, str) or not value.strip():
        raise ExperimentError(
            f"{type(instance).__name__} `{attribute.name}` must be a non-empty string, got {value!r}"
        )


def _params(value: Mapping[str, Any] | None) -> dict[str, Any]:
    if value is None:
        return {}
    if not isinstance(value, Mapping):
        raise ExperimentError(f"Condition `params` must be a mapping, got {type(value).__name__}")
    return dict(value)


@attrs.frozen(slots=True)
class Condition:
    """One arm of an experiment: a model (or pipeline) and how it is prompted.

    Attributes:
        name: unique within the experiment.
        model: a provider spec (``"sim:gpt-4"``, ``"openai:gpt-4o"``), anything implementing
            :class:`crucible.core.Model` (a simulated model, an ensemble, a hedged model), or an
            async callable ``(item, context) -> Completion`` for a custom pipeline.
        prompt: a template string over item fields (``"{input}\\n{choices}"``), a
            :class:`PromptTemplate` (system message, few-shot examples), or ``item -> prompt``.
        params: provider parameters sent with every call (``temperature``, ``max_tokens``, ...).
        options: options for resolving a spec string (``base_url``, ``api_key``, ...).
        description: free text for reports.

    Example:
        >>> Condition("baseline", "sim:gpt-4", prompt="{input}\\n{choices}\\nAnswer:").name
        'baseline'
    """

    name: str = attrs.field(validator=_name)
    model: Model | str | TrialFn
    prompt: PromptTemplate | Callable[[Item], Prompt] = attrs.field(
        factory=PromptTemplate, converter=as_template
    )
    params: dict[str, Any] = attrs.field(factory=dict, converter=_params)
    options: dict[str, Any] = attrs.field(factory=dict, converter=_params)
    description: str = ""

    def __attrs_post_init__(self) -> None:
        model = self.model
        if isinstance(model, str):
            try:
                parse_spec(model)
            except ConfigurationError as exc:
                raise ExperimentError(f"condition {self.name!r}: `model` {exc}") from None
        elif not (hasattr(model, "generate") or callable(model)):
            raise ExperimentError(
                f"condition {self.name!r}: `model` must be a spec string, a Model (an object "
                f"with async generate) or an async callable (item, context), got "
                f"{type(model).__name__}"
            )

    @property
    def is_pipeline(self) -> bool:
        """True when ``model`` is a custom ``(item, context)`` callable, not a Model."""
        return not isinstance(self.model, str) and not hasattr(self.model, "generate")

    def render(self, item: Item) -> Prompt:
        """The prompt of ``item`` under this condition."""
        if isinstance(self.prompt, PromptTemplate):
            return self.prompt.render(item)
        return self.prompt(item)


def _items(value: Dataset | Sequence[Item]) -> Dataset:
    if isinstance(value, Dataset):
        dataset = value
    elif isinstance(value, Sequence) and not isinstance(value, str):
        try:
            dataset = Dataset("items", list(value))
        except CrucibleError as exc:
            raise ExperimentError(f"Experiment `dataset`: {exc}") from None
    else:
        raise ExperimentError(
            "Experiment `dataset` must be a crucible.datasets.Dataset or a list of Item, got "
            f"{type(value).__name__}"
        )
    if len(dataset) == 0:
        raise ExperimentError(
            f"Experiment `dataset` {dataset.name!r} is empty: there is nothing to run; check "
            "the split, subjects and limit it was loaded with"
        )
    return dataset


def _conditions(value: Sequence[Condition]) -> tuple[Condition, ...]:
    if isinstance(value, Condition):
        value = [value]
    conditions = tuple(value) if isinstance(value, Sequence) else ()
    if not conditions:
        raise ExperimentError(
            "Experiment `conditions` is empty: give at least one Condition(name, model)"
        )
    seen: set[str] = set()
    for i, cond in enumerate(conditions):
        if not isinstance(cond, Condition):
            raise ExperimentError(
                f"Experiment `conditions[{i}]` must be a Condition, got {type(cond).__name__}"
            )
        if cond.name in seen:
            raise ExperimentError(
                f"Experiment `conditions` has two conditions named {cond.name!r}: names must be "
                "unique (they key the trials table)"
            )
        seen.add(cond.name)
    return conditions


class _CallableScorer:
    def __init__(self, fn: Callable[[Any, Item], Any], name: str) -> None:
        self.fn = fn
        self.name = name

    def __call__(self, prediction: Any, item: Item) -> Any:
        return self.fn(prediction, item)


def _scorer(value: Any, index: int) -> Scorer:
    if isinstance(value, str):
        try:
            built: Scorer = get_scorer(value)
        except CrucibleError as exc:
            raise ExperimentError(f"Experiment `scorers[{index}]`: {exc}") from None
        return built
    if callable(value):
        name = getattr(value, "name", None)
        if isinstance(name, str) and name:
            return value  # type: ignore[no-any-return]
        fn_name = getattr(value, "__name__", None)
        if not isinstance(fn_name, str) or fn_name == "<lambda>":
            raise ExperimentError(
                f"Experiment `scorers[{index}]` has no name; give the function a name or an "
                "object with a `name` attribute"
            )
        return _CallableScorer(value, fn_name)
    raise ExperimentError(
        f"Experiment `scorers[{index}]` must be a scorer name, a scorer object or a callable "
        f"(prediction, item), got {type(value).__name__}"
    )


def _scorers(value: Sequence[Any]) -> tuple[Scorer, ...]:
    if isinstance(value, str) or callable(value):
        value = [value]
    scorers = tuple(_scorer(v, i) for i, v in enumerate(value))
    names = [s.name for s in scorers]
    dupes = sorted({n for n in names if names.count(n) > 1})
    if dupes:
        raise ExperimentError(f"Experiment `scorers` has duplicate names {dupes}")
    return scorers


def _int_at_least(minimum: int) -> Callable[[object, attrs.Attribute[Any], Any], None]:
    def check(instance: object, attribute: attrs.Attribute[Any], value: Any) -> None:
        if isinstance(value, bool) or not isinstance(value, int) or value < minimum:
            raise ExperimentError(
                f"Experiment `{attribute.name}` must be an int >= {minimum}, got {value!r}"
            )

    return check


def score_value(result: Any, scorer: str) -> float:
    """A scorer's result as a float (a :class:`Score`, a bool or a number)."""
    if isinstance(result, Score):
        return result.value
    if isinstance(result, bool | int | float):
        return float(result)
    value = getattr(result, "value", None)
    if isinstance(value, int | float):
        return float(value)
    raise ExperimentError(
        f"scorer {scorer!r} returned {type(result).__name__}; return a Score, a bool or a number"
    )


@attrs.frozen(slots=True)
class Experiment:
    """Conditions compared on the items of a dataset, each trial repeated ``repeats`` times.

    Everything is validated when the experiment is built, before any call: an empty dataset,
    no or duplicate conditions, a template field the items lack, a model spec that does not
    resolve and a non-positive budget all raise :class:`ExperimentError` naming the argument.

    Attributes:
        name: the experiment's name (part of the experiment id).
        dataset: a :class:`crucible.datasets.Dataset` or a list of :class:`Item`.
        conditions: the :class:`Condition` objects compared.
        scorers: scorer names (``"exact_match"``, ``"multiple_choice"``, ...), scorer objects or
            named callables ``(prediction, item) -> Score | bool | float``.
        repeats: how many times each (condition, item) is run.
        seed: the root seed: schedule order and simulated models derive from it.
        limits: concurrency, timeout, retries, rate limits (:class:`Limits`).
        budget: dollar and token limits (:class:`Budget`).
        randomize: run trials in a seeded random order (else condition, item, repeat order).
        metadata: free-form facts recorded in the manifest (hypothesis, author, ...).

    Example:
        >>> from crucible.core import Item
        >>> exp = Experiment(
        ...     "toy",
        ...     [Item("1", "2+2?", "4"), Item("2", "3+3?", "6")],
        ...     [Condition("a", "sim:gpt-4")],
        ...     scorers=["exact_match"],
        ...     repeats=2,
        ... )
        >>> exp.n_trials
        4
    """

    name: str = attrs.field(validator=_name)
    dataset: Dataset = attrs.field(converter=_items)
    conditions: tuple[Condition, ...] = attrs.field(converter=_conditions)
    scorers: tuple[Scorer, ...] = attrs.field(default=("exact_match",), converter=_scorers)
    repeats: int = attrs.field(default=1, validator=_int_at_least(1))
    seed: int = attrs.field(default=0, validator=_int_at_least(0))
    limits: Limits = attrs.field(factory=Limits)
    budget: Budget = attrs.field(factory=Budget)
    randomize: bool = True
    metadata: dict[str, Any] = attrs.field(factory=dict, converter=_params)
    models: dict[str, Model | TrialFn] = attrs.field(init=False, repr=False, eq=False)

    def __attrs_post_init__(self) -> None:
        if not isinstance(self.limits, Limits):
            raise ExperimentError(f"Experiment `limits` must be Limits(...), got {self.limits!r}")
        if not isinstance(self.budget, Budget):
            raise ExperimentError(f"Experiment `budget` must be Budget(...), got {self.budget!r}")
        for cond in self.conditions:
            self._check_template(cond)
        object.__setattr__(self, "models", {c.name: self._resolve(c) for c in self.conditions})

    def _check_template(self, cond: Condition) -> None:
        if not isinstance(cond.prompt, PromptTemplate):
            return
        for item in self.dataset:
            missing = cond.prompt.missing(item)
            if missing:
                raise ExperimentError(
                    f"condition {cond.name!r}: prompt template field {{{missing[0]}}} is missing "
                    f"from item {item.id!r} of dataset {self.dataset.name!r}; the item has "
                    f"{', '.join(sorted(f for f in _fields_of(item)))}"
                )
        if cond.prompt.examples:
            cond.prompt.render(self.dataset[0])

    def _resolve(self, cond: Condition) -> Model | TrialFn:
        model = cond.model
        if not isinstance(model, str):
            return model
        provider, _ = parse_spec(model)
        options = dict(cond.options)
        if provider == "sim":
            options.setdefault("seed", self.seed)
        elif provider in _HTTP_PROVIDERS:
            options.setdefault("max_retries", 0)
        try:
            return get_model(model, **options)
        except CrucibleError as exc:
            raise ExperimentError(
                f"condition {cond.name!r}: model {model!r} does not resolve: {exc}"
            ) from None
        except TypeError as exc:
            raise ExperimentError(
                f"condition {cond.name!r}: model {model!r} rejected its options: {exc}"
            ) from None

    @property
    def n_trials(self) -> int:
        return len(self.conditions) * len(self.dataset) * self.repeats

    @property
    def scorer_names(self) -> list[str]:
        return [s.name for s in self.scorers]

    def condition(self, name: str) -> Condition:
        for cond in self.conditions:
            if cond.name == name:
                return cond
        raise KeyError(f"no condition {name!r} in experiment {self.name!r}")

    def with_options(self, **changes: Any) -> Experiment:
        """A copy with some fields changed (``limits=``, ``budget=``, ``repeats=``, ...)."""
        return attrs.evolve(self, **changes)

    def to_dict(self) -> dict[str, Any]:
        """The experiment's configuration, JSON-compatible (no API keys)."""
        from crucible.harness._fingerprint import describe_model, redact

        return {
            "name": self.name,
            "dataset": self.dataset.info(),
            "conditions": [
                {
                    "name": c.name,
                    "model": describe_model(c.model),
                    "prompt": _describe_prompt(c),
                    "params": redact(c.params),
                    "options": redact(c.options),
                    "description": c.description,
                }
                for c in self.conditions
            ],
            "scorers": self.scorer_names,
            "repeats": self.repeats,
            "seed": self.seed,
            "randomize": self.randomize,
            "limits": self.limits.to_dict(),
            "budget": self.budget.to_dict(),
            "metadata": redact(self.metadata),
            "n_trials": self.n_trials,
        }


def _fields_of(item: Item) -> list[str]:
    from crucible.harness._template import item_fields

    return list(item_fields(item))


def _describe_prompt(cond: Condition) -> Any:
    if isinstance(cond.prompt, PromptTemplate):
        return cond.prompt.to_dict()
    fn = cond.prompt
    return {"callable": f"{getattr(fn, '__module__', '?')}.{getattr(fn, '__qualname__', '?')}"}
