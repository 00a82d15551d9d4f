"""Bad arguments raise ConfigurationError naming the argument and the valid values."""

from __future__ import annotations

from typing import Any

import pytest

from crucible.core import ConfigurationError, Item
from crucible.ensemble import Ensemble


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"models": []}, "`models` is empty; give at least one Model or spec string"),
        ({"models": "sim:gpt-4"}, "`models` must be a list of Models or spec strings"),
        ({"models": [42]}, r"`models\[0\]` must be a Model"),
        ({"models": ["nope:x"]}, "unknown provider 'nope'"),
        ({"weights": [1, 2]}, "`weights` has 2 values for 3 models; give one weight per model"),
        ({"weights": [1, -1, 1]}, r"`weights\[1\]` must be a finite number >= 0, got -1"),
        ({"weights": [0, 0, 0]}, "`weights` are all zero"),
        (
            {"voting": "plurality"},
            "unknown `voting` 'plurality'; valid: 'majority', 'weighted', 'best_confidence', 'unanimous'",
        ),
        (
            {"execution": "batch"},
            "unknown `execution` 'batch'; valid: 'parallel', 'sequential', 'hedged', 'cascade'",
        ),
        ({"quorum": 4}, r"`quorum`=4 is larger than the ensemble \(3 models\); use at most 3"),
        ({"quorum": 0}, "`quorum` must be an int >= 1, got 0"),
        ({"timeout_s": -1}, r"`timeout_s` must be in \(0, inf\], got -1"),
        ({"timeout_s": 0}, "`timeout_s`"),
        ({"confidence_threshold": 1.5}, r"`confidence_threshold` must be in \[0, 1\]"),
        ({"agreement_threshold": 0}, r"`agreement_threshold` must be in \(0, 1\]"),
        ({"hedging": "percentile"}, "`hedging` is used only with execution='hedged'"),
        ({"execution": "hedged", "hedging": "sometimes"}, "unknown `policy` 'sometimes'; valid:"),
        ({"hedge_budget": object()}, "`hedge_budget` is used only with execution='hedged'"),
        (
            {"execution": "hedged", "hedge_budget": 3},
            "`hedge_budget` must be a HedgeBudget or None",
        ),
        ({"costs": [1, 2]}, r"`costs` must be 3 numbers"),
        ({"costs": [1, -2, 3]}, r"`costs\[1\]` must be a finite number >= 0"),
        ({"normalizer": "upper"}, "unknown `normalizer` 'upper'"),
    ],
)
def test_bad_constructor_arguments(fake: Any, kwargs: dict[str, Any], match: str) -> None:
    models = kwargs.pop("models", [fake("a"), fake("b"), fake("c")])
    with pytest.raises(ConfigurationError, match=match):
        Ensemble(models, **kwargs)


def test_negative_hedge_delay_is_rejected(fake: Any) -> None:
    from crucible.hedging import fixed

    with pytest.raises(
        ConfigurationError, match="`delay_ms` must be a number of milliseconds >= 0"
    ):
        Ensemble([fake("a")], execution="hedged", hedging=fixed(-10))


async def test_weighted_voting_without_weights(fake: Any) -> None:
    ensemble = Ensemble([fake("a"), fake("b")], voting="weighted")
    with pytest.raises(ConfigurationError, match="voting='weighted' needs `weights`"):
        await ensemble.predict("q")


async def test_fit_weights_needs_items(fake: Any) -> None:
    with pytest.raises(ConfigurationError, match="`items` is empty"):
        await Ensemble([fake("a")]).fit_weights([])


async def test_fit_weights_on_scripted_members(fake: Any) -> None:
    items = [Item(i, "q", expected="A") for i in range(8)]
    always_right = fake("right", "A")
    half_right = fake("half", "A", by_item={str(i): "B" for i in range(4)})
    ensemble = Ensemble([always_right, half_right], voting="weighted", normalizer="letter")
    fit = await ensemble.fit_weights(items)
    assert fit.accuracies == {"fake:right": 1.0, "fake:half": 0.5}
    # log(a / (1 - a)) with a = (c + 1) / (n + 2): 9/10 -> log 9; 5/10 -> 0, floored at 0.001
    assert fit.weights["fake:right"] == pytest.approx(2.1972245773362196)
    assert fit.weights["fake:half"] == pytest.approx(0.001)
    assert ensemble.weights == (pytest.approx(2.1972245773362196), pytest.approx(0.001))
    assert fit.to_dict()["items"] == 8
    assert str(fit).startswith("WeightFit on 8 items (fake:right: accuracy 1.000, weight 2.197")
