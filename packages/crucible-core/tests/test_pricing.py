from __future__ import annotations

import warnings

import pytest

from crucible.core import ConfigurationError, Price, Pricing, UnpricedModelWarning, Usage


def test_cost_uses_all_four_token_kinds() -> None:
    price = Price(input=3.0, output=15.0, cached_input=0.3, reasoning=20.0)
    cost = price.cost(
        Usage(1_000_000, 200_000, cached_input_tokens=400_000, reasoning_tokens=50_000)
    )
    assert cost.input_usd == pytest.approx(600_000 * 3.0 / 1e6)
    assert cost.cached_input_usd == pytest.approx(400_000 * 0.3 / 1e6)
    assert cost.output_usd == pytest.approx(200_000 * 15.0 / 1e6)
    assert cost.reasoning_usd == pytest.approx(50_000 * 20.0 / 1e6)
    assert cost.total_usd == pytest.approx(1.8 + 0.12 + 3.0 + 1.0)


def test_defaults_for_cached_and_reasoning() -> None:
    cost = Price(2.0, 8.0).cost(Usage(100, 10, cached_input_tokens=50, reasoning_tokens=5))
    assert cost.total_usd == pytest.approx((100 * 2.0 + 15 * 8.0) / 1e6)


def test_lookup_matches_snapshots_not_siblings() -> None:
    p = Pricing()
    assert p.lookup("openai", "gpt-4o-2024-08-06") == p.lookup("openai", "gpt-4o")
    assert p.lookup("openai", "gpt-4o-mini") != p.lookup("openai", "gpt-4o")
    assert p.lookup("anthropic", "claude-sonnet-4-5-20250929") == Price(
        3.0, 15.0, cached_input=0.30
    )
    assert p.lookup("openai", "gpt-4.5-preview") is None
    assert p.lookup("gemini", "gemini-2.0-flash-001") == p.lookup("gemini", "gemini-2.0-flash")
    assert "openai:gpt-4o" in p


def test_unpriced_model_gives_none_and_warns_once() -> None:
    p = Pricing()
    with pytest.warns(UnpricedModelWarning, match="openai:my-finetune"):
        assert p.cost("openai", "my-finetune", Usage(10, 10)) is None
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert p.cost_usd("openai", "my-finetune", Usage(10, 10)) is None


def test_overrides_and_version() -> None:
    p = Pricing({"openai:gpt-4o": {"input": 1.0, "output": 2.0}, "local:gemma": Price(0, 0)})
    assert p.cost_usd("openai", "gpt-4o", Usage(1_000_000, 0)) == pytest.approx(1.0)
    assert p.cost_usd("local", "gemma", Usage(5, 5)) == 0.0
    assert p.version.endswith("+overrides")
    with pytest.raises(ConfigurationError, match="provider:model"):
        Pricing({"gpt-4o": {"input": 1, "output": 1}})
    with pytest.raises(ConfigurationError, match="non-negative"):
        Price(-1.0, 1.0)
    with pytest.raises(ConfigurationError, match="unknown price field"):
        Price.from_dict({"input": 1, "output": 1, "cache": 2})


def test_stats_lab_presets_cost_per_query() -> None:
    p = Pricing()
    assert p.cost_usd("sim", "model-a", Usage(500, 100)) == pytest.approx(0.002)
    assert p.cost_usd("sim", "model-b", Usage(500, 100)) == pytest.approx(0.005)
