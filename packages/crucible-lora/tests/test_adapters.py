"""The adapter registry: hashes, duplicates, lineage, stages, evidence, queries, JSON."""

from __future__ import annotations

from pathlib import Path

import pytest

from crucible.core import ValidationError
from crucible.lora import (
    AdapterRegistry,
    Evidence,
    LoraConfig,
    PromotionError,
    Stage,
    config_hash,
)


@pytest.fixture
def registry(tmp_path: Path) -> AdapterRegistry:
    return AdapterRegistry(tmp_path / "adapters.duckdb")


def add(reg: AdapterRegistry, adapter_id: str, lr: float, **kw: object) -> None:
    reg.register(
        adapter_id,
        base_model=kw.pop("base_model", "tiny"),  # type: ignore[arg-type]
        checkpoint_path=f"/ckpt/{adapter_id}.safetensors",
        lora_config=LoraConfig(rank=4),
        training_config={"learning_rate": lr, "epochs": 2},
        dataset_hashes=["sha-a"],
        **kw,  # type: ignore[arg-type]
    )


def test_config_hash_is_canonical() -> None:
    # sha256 of '{"base_model":"m","dataset_hashes":["a","b"],"lora_config":{"rank":8},
    # "training_config":{"lr":0.001}}' (python -c "import hashlib; ...")
    import hashlib

    canonical = (
        '{"base_model":"m","dataset_hashes":["a","b"],"lora_config":{"rank":8},'
        '"training_config":{"lr":0.001}}'
    )
    expected = hashlib.sha256(canonical.encode()).hexdigest()
    assert config_hash("m", {"rank": 8}, {"lr": 1e-3}, ["b", "a"]) == expected


def test_register_detects_the_same_config_twice(registry: AdapterRegistry) -> None:
    add(registry, "a1", 1e-3)
    with pytest.raises(ValidationError, match="already registered as 'a1'"):
        add(registry, "a2", 1e-3)
    add(registry, "a2", 1e-3, allow_duplicate=True)
    assert [a.id for a in registry.find_by_hash(registry.get("a1").config_hash)] == ["a1", "a2"]
    with pytest.raises(ValidationError, match="`adapter_id` 'a1' is already registered"):
        add(registry, "a1", 5e-3)


def test_lineage_and_cycles(registry: AdapterRegistry) -> None:
    add(registry, "root", 1e-3)
    add(registry, "child", 2e-3, fine_tuned_from="root")
    add(registry, "grandchild", 3e-3, fine_tuned_from="child")
    assert registry.lineage("grandchild") == ["grandchild", "child", "root"]
    with pytest.raises(ValidationError, match="descends from 'root'"):
        registry.set_parent("root", "grandchild")
    with pytest.raises(ValidationError, match="no adapter with `adapter_id` 'ghost'"):
        add(registry, "orphan", 4e-3, fine_tuned_from="ghost")


def test_stages_need_evidence_for_production(registry: AdapterRegistry, tmp_path: Path) -> None:
    add(registry, "a", 1e-3)
    with pytest.raises(PromotionError, match="from 'experiment' to 'production'"):
        registry.promote("a", "production")
    registry.promote("a", Stage.STAGING)
    with pytest.raises(PromotionError, match="needs `evidence`"):
        registry.promote("a", "production")
    run_dir = tmp_path / "eval-run"
    run_dir.mkdir()
    with pytest.raises(PromotionError, match="needs `evidence`"):
        registry.promote("a", "production", evidence=Evidence(run_dir, passed=False))
    with pytest.raises(PromotionError, match="is not a directory"):
        registry.promote("a", "production", evidence=Evidence(tmp_path / "nope", passed=True))
    rec = registry.promote(
        "a", "production", evidence=Evidence(run_dir, passed=True, summary={"accuracy": 0.91})
    )
    assert rec.stage is Stage.PRODUCTION
    # The failed evaluation is on record too, with its verdict.
    assert [(e.passed, e.summary) for e in rec.evidence] == [
        (False, {}),
        (True, {"accuracy": 0.91}),
    ]
    with pytest.raises(ValidationError, match="valid stages: 'experiment', 'staging'"):
        registry.promote("a", "shipped")
    registry.promote("a", "archived")
    with pytest.raises(PromotionError, match="allowed next stages: none"):
        registry.promote("a", "staging")


def test_queries(registry: AdapterRegistry) -> None:
    add(registry, "a", 1e-3, metrics={"accuracy": 0.8, "loss": 0.5}, tags=["style"])
    add(registry, "b", 2e-3, metrics={"accuracy": 0.9, "loss": 0.7})
    add(registry, "c", 3e-3, base_model="other", metrics={"accuracy": 0.95})
    registry.promote("b", "staging")
    ids = lambda rs: [r.id for r in rs]  # noqa: E731
    assert ids(registry.query(stage="staging")) == ["b"]
    assert ids(registry.query(base_model="tiny")) == ["a", "b"]
    assert ids(registry.query(tag="style")) == ["a"]
    assert ids(registry.query(min_metrics={"accuracy": 0.85})) == ["b", "c"]
    assert ids(registry.query(max_metrics={"loss": 0.6})) == ["a"]  # c lacks `loss`
    registry.update_metrics("c", {"loss": 0.1})
    assert ids(registry.query(max_metrics={"loss": 0.6})) == ["a", "c"]


def test_json_round_trip(registry: AdapterRegistry, tmp_path: Path) -> None:
    add(registry, "root", 1e-3, metrics={"accuracy": 0.8})
    add(registry, "child", 2e-3, fine_tuned_from="root", tags=["x"])
    registry.promote("child", "staging", evidence=Evidence(tmp_path, passed=True, summary={"n": 3}))
    path = registry.export_json(tmp_path / "export.json")
    other = AdapterRegistry(":memory:")
    assert other.import_json(path) == ["root", "child"]
    assert other.get("child").to_dict() == registry.get("child").to_dict()
    with pytest.raises(ValidationError, match="already registered"):
        other.import_json(path)
    text = path.read_text().replace('"fine_tuned_from": null', '"fine_tuned_from": "child"')
    cyclic = tmp_path / "cyclic.json"
    cyclic.write_text(text)
    with pytest.raises(ValidationError, match="lineage cycle"):
        AdapterRegistry(":memory:").import_json(cyclic)


def test_registry_persists_across_connections(tmp_path: Path) -> None:
    with AdapterRegistry(tmp_path / "r.duckdb") as reg:
        add(reg, "a", 1e-3)
    with AdapterRegistry(tmp_path / "r.duckdb") as reg:
        assert reg.get("a").training_config == {"epochs": 2, "learning_rate": 1e-3}
