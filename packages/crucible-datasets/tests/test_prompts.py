from __future__ import annotations

import pytest

from crucible.core import Item, ValidationError
from crucible.datasets import load, multiple_choice_prompt


def test_mmlu_five_shot_format() -> None:
    dev = load("mmlu", split="dev", subjects="abstract_algebra")
    item = load("mmlu", subjects="abstract_algebra")[0]
    prompt = multiple_choice_prompt(item, shots=dev.items)
    # Format from shared/data/README.md (MMLU section): header, 5 answered dev rows, the item.
    assert prompt.startswith(
        "The following are multiple choice questions (with answers) about abstract algebra.\n\n"
    )
    assert prompt.count("\nAnswer:") == 6
    assert prompt.endswith(
        "Find the degree for the given field extension Q(sqrt(2), sqrt(3), sqrt(18)) over Q.\n"
        "A. 0\nB. 4\nC. 2\nD. 6\nAnswer:"
    )
    first_shot = dev[0]
    assert f"D. {first_shot.metadata['choices'][3]}\nAnswer: {first_shot.expected}\n\n" in prompt


def test_prompt_without_subject_and_errors() -> None:
    item = Item("q", "Pick one", "B", {"choices": ["x", "y"]})
    assert multiple_choice_prompt(item) == (
        "The following are multiple choice questions (with answers).\n\nPick one\nA. x\nB. y\nAnswer:"
    )
    with pytest.raises(ValidationError, match="needs metadata\\['choices'\\]"):
        multiple_choice_prompt(Item("q", "no choices"))
    tqa = load("truthfulqa", limit=1)[0]
    assert f"{'ABCDEFGH'[len(tqa.metadata['choices']) - 1]}. " in multiple_choice_prompt(tqa)
