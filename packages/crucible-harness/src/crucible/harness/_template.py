"""Prompt templates: item fields rendered into text, with optional few-shot examples."""

from __future__ import annotations

import string
from collections.abc import Callable, Mapping, Sequence
from typing import Any

import attrs

from crucible.core import Item, Message, Prompt
from crucible.harness._errors import ExperimentError

__all__ = ["PromptTemplate", "item_fields", "template_fields"]

_FORMATTER = string.Formatter()


def template_fields(text: str) -> list[str]:
    """The top-level field names a ``str.format`` template uses (``{a.b}`` counts as ``a``).

    Example:
        >>> template_fields("Q: {input}\\n{choices}\\nA:")
        ['input', 'choices']
    """
    names: list[str] = []
    try:
        parsed = list(_FORMATTER.parse(text))
    except ValueError as exc:
        raise ExperimentError(f"prompt template {text!r:.80} is malformed: {exc}") from None
    for _, field, _, _ in parsed:
        if field is None:
            continue
        if field == "" or field.isdigit():
            raise ExperimentError(
                f"prompt template {text!r:.80} uses a positional field {{{field}}}; "
                "name the item field, e.g. {input}"
            )
        name = field.split(".", 1)[0].split("[", 1)[0]
        if name not in names:
            names.append(name)
    return names


def _choices(value: Any) -> str | None:
    if isinstance(value, list | tuple) and value:
        return "\n".join(f"{chr(65 + i)}. {choice}" for i, choice in enumerate(value))
    return None


def item_fields(item: Item, *, with_expected: bool = False) -> dict[str, Any]:
    """The fields a template can use for ``item``.

    ``input`` (the input as text; when the input is a mapping its keys are fields too), ``id``,
    every metadata key, and ``choices`` formatted as ``A. ...`` lines when the item lists
    choices. ``expected`` only for few-shot examples: never shown for the item being asked.
    """
    fields: dict[str, Any] = dict(item.metadata)
    raw_choices = item.metadata.get("choices")
    formatted = _choices(raw_choices)
    if formatted is not None:
        fields["choices"] = formatted
    if isinstance(item.input, Mapping):
        fields.update({str(k): v for k, v in item.input.items()})
        fields.setdefault("input", "\n".join(f"{k}: {v}" for k, v in item.input.items()))
    else:
        fields["input"] = "" if item.input is None else str(item.input)
    fields["id"] = item.id
    if with_expected:
        fields["expected"] = "" if item.expected is None else item.expected
    else:
        fields.pop("expected", None)
    return fields


def _examples(value: Sequence[Item]) -> tuple[Item, ...]:
    items = tuple(value)
    for i, it in enumerate(items):
        if not isinstance(it, Item):
            raise ExperimentError(
                f"PromptTemplate `examples[{i}]` must be a crucible.core.Item, got {type(it).__name__}"
            )
    return items


@attrs.frozen(slots=True)
class PromptTemplate:
    """A ``str.format`` template over item fields, with optional few-shot examples.

    Attributes:
        text: the user message, e.g. ``"{input}\\n{choices}\\nAnswer with a letter."``.
        system: an optional system message (a template too).
        examples: few-shot items (e.g. ``crucible.datasets.load("mmlu", split="dev")``), rendered
            with ``example_text`` and placed at ``{examples}``, or before ``text`` when it does
            not use that field.
        example_text: the template of one example; it may use ``{expected}``.
        separator: the text between examples and before the question.

    Example:
        >>> t = PromptTemplate("{input}\\n{choices}\\nAnswer:")
        >>> t.render(Item("q", "2+2?", "B", {"choices": ["3", "4"]}))
        '2+2?\\nA. 3\\nB. 4\\nAnswer:'
    """

    text: str = "{input}"
    system: str | None = None
    examples: tuple[Item, ...] = attrs.field(default=(), converter=_examples)
    example_text: str = "{input}\n{choices}\nAnswer: {expected}"
    separator: str = "\n\n"

    def __attrs_post_init__(self) -> None:
        if not isinstance(self.text, str) or not self.text.strip():
            raise ExperimentError("PromptTemplate `text` must be a non-empty template string")
        template_fields(self.text)
        if self.system is not None:
            template_fields(self.system)
        if self.examples:
            template_fields(self.example_text)

    @property
    def fields(self) -> list[str]:
        """The item fields the question part uses (``examples`` excluded)."""
        used = template_fields(self.text) + template_fields(self.system or "")
        return [f for f in dict.fromkeys(used) if f != "examples"]

    def missing(self, item: Item) -> list[str]:
        """The fields this template needs that ``item`` lacks."""
        have = item_fields(item)
        return [f for f in self.fields if f not in have]

    def _examples_block(self) -> str:
        shots = []
        for ex in self.examples:
            fields = item_fields(ex, with_expected=True)
            try:
                shots.append(self.example_text.format_map(fields))
            except (KeyError, AttributeError, IndexError) as exc:
                raise ExperimentError(
                    f"few-shot example {ex.id!r} lacks field {exc} used by `example_text`"
                ) from None
        return self.separator.join(shots)

    def render(self, item: Item) -> Prompt:
        """The prompt for ``item``: a string, or [system, user] messages when ``system`` is set."""
        fields = item_fields(item)
        block = self._examples_block() if self.examples else ""
        fields["examples"] = block
        try:
            user = self.text.format_map(fields)
            system = None if self.system is None else self.system.format_map(fields)
        except (KeyError, AttributeError, IndexError) as exc:
            raise ExperimentError(
                f"prompt template field {exc} is missing from item {item.id!r} "
                f"(fields it has: {', '.join(sorted(fields))})"
            ) from None
        if block and "examples" not in template_fields(self.text):
            user = block + self.separator + user
        if system is None:
            return user
        return [Message("system", system), Message("user", user)]

    def to_dict(self) -> dict[str, Any]:
        return {
            "text": self.text,
            "system": self.system,
            "examples": [ex.id for ex in self.examples],
            "example_text": self.example_text if self.examples else None,
        }


PromptLike = str | PromptTemplate | Callable[[Item], Prompt]


def as_template(value: PromptLike) -> PromptTemplate | Callable[[Item], Prompt]:
    """Accept a template string, a :class:`PromptTemplate` or a callable ``item -> prompt``."""
    if isinstance(value, PromptTemplate):
        return value
    if isinstance(value, str):
        return PromptTemplate(value)
    if callable(value):
        return value
    raise ExperimentError(
        f"Condition `prompt` must be a template string, a PromptTemplate or a callable "
        f"item -> prompt, got {type(value).__name__}"
    )
