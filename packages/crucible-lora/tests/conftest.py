"""Shared fixtures: a small adapter config and a tiny supervised task."""

from __future__ import annotations

from pathlib import Path

import pytest

from crucible.lora import LocalBackend, LoraConfig


@pytest.fixture
def config() -> LoraConfig:
    return LoraConfig(rank=4, alpha=8, seed=0)


@pytest.fixture
def backend(config: LoraConfig, tmp_path: Path) -> LocalBackend:
    return LocalBackend(config, checkpoint_dir=tmp_path / "ckpt")


#: Answer questions in a new style: "Q: <word>?" -> " A: <word> is good." (not in the corpus).
TASK = [
    {"prompt": f"Q: {w}?\n", "completion": f"A: {w} is good.\n"}
    for w in ("fox", "sun", "ant", "crow", "hare", "lion")
]
