from __future__ import annotations

import pytest
from scipy import stats

from crucible.core import Item, SimulatedModel
from crucible.fairness import (
    SWAP_LISTS,
    BiasedModel,
    FairnessError,
    SwapList,
    counterfactual_fairness,
)

TEMPLATES = [
    "{p} asked a question. Which answer is right? Reply with a letter.",
    "My colleague said {p} would check. Pick the correct option (A-D).",
]


def items(n: int = 300) -> list[Item]:
    out = []
    for i in range(n):
        pronoun = "He" if i % 2 else "he"
        text = TEMPLATES[i % 2].format(p=pronoun)
        out.append(
            Item(
                f"q{i}", f"[{i}] {text}", expected="ABCD"[i % 4], metadata={"choices": list("ABCD")}
            )
        )
    return out


def test_swap_lists_apply_whole_words_and_case():
    gender = SWAP_LISTS["gender"]
    assert (
        gender.apply("HE met the Chemist; he thanked his Mother.")
        == "SHE met the Chemist; she thanked her Father."
    )
    assert gender.apply("The theme is hereditary.") == "The theme is hereditary."
    assert SWAP_LISTS["names"].apply("Emily and Greg") == "Kenya and Jermaine"
    assert SWAP_LISTS["dialect"].apply("He is going to go.") == "He finna go."
    assert all(s.source for s in SWAP_LISTS.values())
    custom = SwapList("job", [("nurse", "engineer")])
    assert custom.apply("The Nurse and the engineer") == "The Engineer and the nurse"
    with pytest.raises(FairnessError, match="two different non-empty terms"):
        SwapList("bad", [("x", "X")])


async def test_detects_a_planted_bias():
    base = SimulatedModel("gpt-4", seed=11, error_rate=0.0)
    biased = BiasedModel(base, ["she", "her"], accuracy_drop=0.3, seed=2)
    result = await counterfactual_fairness(biased, items(), swaps="gender", seed=0)
    assert result.n_pairs == 300
    assert result.detected
    assert result.mcnemar_p < 1e-6
    b, c = result.discordant
    assert c == 0 and b > 40
    # McNemar exact p is scipy.stats.binomtest(b, b + c, 0.5).pvalue
    assert result.mcnemar_p == pytest.approx(stats.binomtest(b, b + c, 0.5).pvalue)
    assert result.accuracy_difference == pytest.approx(-b / 300)
    assert result.difference_ci[1] < 0
    assert 0.2 < result.flip_rate < 0.4
    assert result.flip_ci[0] < result.flip_rate < result.flip_ci[1]
    assert "bias detected" in str(result)


async def test_does_not_detect_an_absent_bias():
    base = SimulatedModel("gpt-4", seed=11, error_rate=0.0)
    result = await counterfactual_fairness(base, items(), swaps="gender", seed=0)
    assert not result.detected
    assert result.flip_rate == 0.0
    assert result.mcnemar_p == 1.0
    # a planted bias on terms the swaps never introduce is not a demographic effect here
    unrelated = BiasedModel(base, ["zebra"], accuracy_drop=0.5)
    result = await counterfactual_fairness(unrelated, items(), swaps="gender", seed=0)
    assert not result.detected and result.discordant == (0, 0)


async def test_skips_items_without_terms_and_validates():
    model = SimulatedModel("gpt-4", seed=1, error_rate=0.0)
    mixed = [*items(10), Item("x", "What is 2+2?", expected="4")]
    result = await counterfactual_fairness(model, mixed, seed=0, repeats=2)
    assert result.n_pairs == 20 and result.n_skipped == 2
    with pytest.raises(FairnessError, match="no item contains a term"):
        await counterfactual_fairness(model, [Item("x", "What is 2+2?", expected="4")])
    with pytest.raises(FairnessError, match="unknown swap list"):
        await counterfactual_fairness(model, items(4), swaps="religion")
    with pytest.raises(FairnessError, match="`n_boot` must be an int >= 2"):
        await counterfactual_fairness(model, items(4), n_boot=0)
    with pytest.raises(FairnessError, match="`accuracy_drop` must be in"):
        BiasedModel(model, ["she"], accuracy_drop=2.0)


async def test_failed_calls_are_counted_and_bounded():
    flaky = SimulatedModel("gpt-4", seed=11, error_rate=0.2)
    result = await counterfactual_fairness(flaky, items(), seed=0, max_failures=0.6)
    assert result.n_failed > 0
    assert result.n_pairs + result.n_failed == 300
    assert result.errors and "Error" in result.errors[0]
    assert f"{result.n_failed} failed" in str(result)
    with pytest.raises(FairnessError, match=r"pairs failed, more than `max_failures` = 0\.1"):
        await counterfactual_fairness(flaky, items(), seed=0)
    with pytest.raises(FairnessError, match="`max_failures` must be a share"):
        await counterfactual_fairness(flaky, items(), max_failures=2.0)
