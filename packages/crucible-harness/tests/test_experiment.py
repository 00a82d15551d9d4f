from __future__ import annotations

from pathlib import Path

import pytest

from crucible.core import Item, Message
from crucible.datasets import Dataset, load
from crucible.harness import (
    Budget,
    Condition,
    Experiment,
    ExperimentError,
    Limits,
    PromptTemplate,
    RateLimit,
    RunDirectoryError,
    run,
)

from .conftest import arithmetic, experiment, sim


def test_empty_dataset_is_refused() -> None:
    with pytest.raises(ExperimentError, match="`dataset` 'empty' is empty"):
        Experiment("x", Dataset("empty", []), [Condition("a", sim())])


def test_no_conditions_is_refused() -> None:
    with pytest.raises(ExperimentError, match="`conditions` is empty"):
        Experiment("x", arithmetic(3), [])


def test_duplicate_condition_names_are_refused() -> None:
    with pytest.raises(ExperimentError, match="two conditions named 'a'"):
        Experiment("x", arithmetic(3), [Condition("a", sim()), Condition("a", sim("model-b"))])


def test_missing_template_field_is_named() -> None:
    with pytest.raises(ExperimentError, match=r"field \{choices\} is missing from item 'q0'"):
        Experiment("x", arithmetic(3), [Condition("a", sim(), prompt="{input}\n{choices}")])


def test_missing_field_in_some_items_names_the_first_lacking_it() -> None:
    items = [Item("1", "a", "x", {"topic": "t"}), Item("2", "b", "y")]
    with pytest.raises(ExperimentError, match=r"\{topic\} is missing from item '2'"):
        Experiment("x", items, [Condition("a", sim(), prompt="[{topic}] {input}")])


def test_unresolvable_model_spec_is_refused() -> None:
    with pytest.raises(
        ExperimentError, match="condition 'a': model 'nosuch:thing' does not resolve"
    ):
        Experiment("x", arithmetic(3), [Condition("a", "nosuch:thing")])
    with pytest.raises(ExperimentError, match="malformed model spec"):
        Condition("a", "no-colon")
    with pytest.raises(ExperimentError, match="unknown simulated model"):
        Experiment("x", arithmetic(3), [Condition("a", "sim:not-a-preset")])


@pytest.mark.parametrize("field", ["usd", "tokens"])
@pytest.mark.parametrize("value", [0, -1])
def test_non_positive_budget_is_refused(field: str, value: float) -> None:
    with pytest.raises(ExperimentError, match=f"Budget `{field}` must be > 0"):
        Budget(**{field: value})


def test_bad_limits_and_scorers_are_refused() -> None:
    with pytest.raises(ExperimentError, match="`concurrency` must be an int >= 1"):
        Limits(concurrency=0)
    with pytest.raises(ExperimentError, match="RateLimit `rpm` must be > 0"):
        RateLimit(rpm=0)
    with pytest.raises(ExperimentError, match="unknown scorer 'nope'"):
        Experiment("x", arithmetic(3), [Condition("a", sim())], scorers=["nope"])
    with pytest.raises(ExperimentError, match="`repeats` must be an int >= 1"):
        Experiment("x", arithmetic(3), [Condition("a", sim())], repeats=0)
    with pytest.raises(ExperimentError, match="`on_exceed` must be one of stop, raise"):
        Budget(usd=1, on_exceed="explode")


async def test_run_directory_holding_another_experiment_is_refused(tmp_path: Path) -> None:
    await run(experiment(n=3, repeats=1), tmp_path)
    other = experiment(n=4, repeats=1)
    with pytest.raises(RunDirectoryError, match="holds another experiment"):
        await run(other, tmp_path)
    with pytest.raises(RunDirectoryError, match="already holds this experiment"):
        await run(experiment(n=3, repeats=1), tmp_path)


async def test_resume_of_an_empty_directory_is_refused(tmp_path: Path) -> None:
    with pytest.raises(RunDirectoryError, match="nothing to resume"):
        await run(experiment(n=3), tmp_path, resume=True)


def test_template_renders_choices_metadata_and_system() -> None:
    item = Item("q", "2+2?", "B", {"choices": ["3", "4"], "subject": "math"})
    template = PromptTemplate(
        "[{subject}] {input}\n{choices}\nAnswer:", system="You are {subject} tutor."
    )
    assert template.render(item) == [
        Message("system", "You are math tutor."),
        Message("user", "[math] 2+2?\nA. 3\nB. 4\nAnswer:"),
    ]


def test_few_shot_examples_come_from_a_dataset_split() -> None:
    dev = load("mmlu", split="dev", subjects="abstract_algebra")
    template = PromptTemplate("{examples}\n\n{input}\n{choices}\nAnswer:", examples=dev[:2])
    test_item = load("mmlu", subjects="abstract_algebra", limit=1)[0]
    text = template.render(test_item)
    assert isinstance(text, str)
    first = dev[0]
    assert text.startswith(f"{first.input}\nA. {first.metadata['choices'][0]}")
    assert f"Answer: {first.expected}\n\n" in text
    assert text.count("Answer:") == 3
    assert text.endswith(f"{test_item.input}\nA. 0\nB. 4\nC. 2\nD. 6\nAnswer:")


def test_mapping_inputs_expose_their_keys() -> None:
    item = Item("1", {"question": "Capital of France?", "context": "Europe"}, "Paris")
    assert PromptTemplate("{context}: {question}").render(item) == "Europe: Capital of France?"


def test_expected_is_never_a_question_field() -> None:
    with pytest.raises(ExperimentError, match=r"\{expected\} is missing"):
        Experiment("x", arithmetic(2), [Condition("a", sim(), prompt="{input} ({expected})")])


def test_experiment_counts_and_description() -> None:
    exp = experiment(n=5, repeats=3)
    assert exp.n_trials == 2 * 5 * 3
    described = exp.to_dict()
    assert described["conditions"][1]["prompt"]["text"] == "Q: {input}\nA:"
    assert described["conditions"][0]["model"]["spec"] == "sim:model-a"
    assert described["scorers"] == ["numeric"]
