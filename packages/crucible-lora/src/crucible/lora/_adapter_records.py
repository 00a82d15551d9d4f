"""Values of the adapter registry: stages, evidence records, adapter records, config hashes."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping, Sequence
from enum import StrEnum
from typing import Any

import attrs

from crucible.core import ValidationError

__all__ = [
    "TRANSITIONS",
    "AdapterRecord",
    "Evidence",
    "Stage",
    "canonical_json",
    "config_hash",
    "parse_stage",
]


class Stage(StrEnum):
    """Lifecycle of an adapter: experiment → staging → production → archived."""

    EXPERIMENT = "experiment"
    STAGING = "staging"
    PRODUCTION = "production"
    ARCHIVED = "archived"


#: Allowed stage changes: one step forward, a demotion from production, or archiving.
TRANSITIONS: dict[Stage, frozenset[Stage]] = {
    Stage.EXPERIMENT: frozenset({Stage.STAGING, Stage.ARCHIVED}),
    Stage.STAGING: frozenset({Stage.PRODUCTION, Stage.EXPERIMENT, Stage.ARCHIVED}),
    Stage.PRODUCTION: frozenset({Stage.STAGING, Stage.ARCHIVED}),
    Stage.ARCHIVED: frozenset(),
}


def parse_stage(value: str | Stage, argument: str = "stage") -> Stage:
    try:
        return Stage(value)
    except ValueError:
        valid = ", ".join(repr(s.value) for s in Stage)
        raise ValidationError(f"unknown `{argument}` {value!r}; valid stages: {valid}") from None


def canonical_json(value: Any) -> str:
    return json.dumps(value, sort_keys=True, separators=(",", ":"), default=str)


def config_hash(
    base_model: str,
    lora_config: Mapping[str, Any],
    training_config: Mapping[str, Any],
    dataset_hashes: Sequence[str],
) -> str:
    """SHA-256 over the canonical JSON (sorted keys, no spaces) of everything that defines a run.

    Example:
        >>> config_hash("m", {"rank": 8}, {"lr": 1e-3}, ["abc"]) == config_hash(
        ...     "m", {"rank": 8}, {"lr": 0.001}, ["abc"])
        True
    """
    payload = {
        "base_model": base_model,
        "lora_config": dict(lora_config),
        "training_config": dict(training_config),
        "dataset_hashes": sorted(dataset_hashes),
    }
    return hashlib.sha256(canonical_json(payload).encode()).hexdigest()


@attrs.frozen
class Evidence:
    """An evaluation that justifies a promotion: its run directory, verdict and summary."""

    run_dir: str = attrs.field(converter=str)
    passed: bool
    summary: dict[str, Any] = attrs.field(factory=dict)

    def to_dict(self) -> dict[str, Any]:
        return {"run_dir": self.run_dir, "passed": self.passed, "summary": self.summary}


@attrs.frozen
class AdapterRecord:
    """One registered adapter."""

    id: str
    base_model: str
    checkpoint_path: str
    lora_config: dict[str, Any]
    training_config: dict[str, Any]
    config_hash: str
    dataset_hashes: tuple[str, ...]
    fine_tuned_from: str | None
    stage: Stage
    metrics: dict[str, float]
    tags: tuple[str, ...]
    created_at: str
    evidence: tuple[Evidence, ...] = ()

    def to_dict(self) -> dict[str, Any]:
        d = attrs.asdict(self, recurse=False)
        d["stage"] = self.stage.value
        d["dataset_hashes"] = list(self.dataset_hashes)
        d["tags"] = list(self.tags)
        d["evidence"] = [e.to_dict() for e in self.evidence]
        return d

    def __str__(self) -> str:
        return f"{self.id} [{self.stage.value}] on {self.base_model}, metrics {self.metrics}"
