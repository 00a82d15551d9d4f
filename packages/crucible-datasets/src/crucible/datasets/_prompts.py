"""Prompt rendering for multiple-choice items (the customary MMLU format)."""

from __future__ import annotations

import string
from collections.abc import Sequence

from crucible.core import Item, ValidationError

__all__ = ["multiple_choice_prompt"]


def _block(item: Item) -> str:
    choices = item.metadata.get("choices")
    if not isinstance(choices, list | tuple) or not 2 <= len(choices) <= 26:
        raise ValidationError(
            f"item {item.id!r} needs metadata['choices'] with 2 to 26 options to render a "
            "multiple-choice prompt"
        )
    lines = [str(item.input)]
    lines += [
        f"{letter}. {text}" for letter, text in zip(string.ascii_uppercase, choices, strict=False)
    ]
    return "\n".join(lines) + "\nAnswer:"


def multiple_choice_prompt(item: Item, *, shots: Sequence[Item] = ()) -> str:
    """Render ``item`` (and optional worked ``shots``) in the format of Hendrycks et al. (2021).

    ``"The following are multiple choice questions (with answers) about {subject}.\\n\\n"``,
    then each shot as ``question\\nA. ...\\nB. ...\\nAnswer: X\\n\\n`` and the item itself
    ending in ``Answer:``. The subject comes from ``item.metadata["subject"]`` (underscores
    become spaces); without one the header omits "about ...".

    Example:
        >>> from crucible.datasets import load
        >>> dev = load("mmlu", split="dev", subjects="astronomy")
        >>> test = load("mmlu", subjects="astronomy")
        >>> prompt = multiple_choice_prompt(test[0], shots=dev.items)
        >>> prompt.splitlines()[0]
        'The following are multiple choice questions (with answers) about astronomy.'
        >>> prompt.endswith("Answer:")
        True
    """
    subject = item.metadata.get("subject")
    about = f" about {str(subject).replace('_', ' ')}" if subject else ""
    parts = [f"The following are multiple choice questions (with answers){about}.\n\n"]
    for shot in shots:
        parts.append(f"{_block(shot)} {shot.expected}\n\n")
    parts.append(_block(item))
    return "".join(parts)
