"""A DuckDB registry of trained adapters: configs, lineage, stages, metrics and evidence."""

from __future__ import annotations

import json
import os
from collections.abc import Iterable, Mapping, Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import duckdb

from crucible.core import ValidationError
from crucible.lora._adapter_records import (
    TRANSITIONS,
    AdapterRecord,
    Evidence,
    Stage,
    canonical_json,
    config_hash,
    parse_stage,
)
from crucible.lora._config import LoraConfig
from crucible.lora._errors import PromotionError

__all__ = ["AdapterRegistry"]

_SCHEMA = """
CREATE TABLE IF NOT EXISTS adapters (
    id VARCHAR PRIMARY KEY, base_model VARCHAR, checkpoint_path VARCHAR, lora_config VARCHAR,
    training_config VARCHAR, config_hash VARCHAR, dataset_hashes VARCHAR,
    fine_tuned_from VARCHAR, stage VARCHAR, metrics VARCHAR, tags VARCHAR, created_at VARCHAR
);
CREATE TABLE IF NOT EXISTS evidence (
    adapter_id VARCHAR, stage VARCHAR, run_dir VARCHAR, passed BOOLEAN, summary VARCHAR,
    recorded_at VARCHAR
);
"""
_COLUMNS = (
    "id, base_model, checkpoint_path, lora_config, training_config, config_hash, "
    "dataset_hashes, fine_tuned_from, stage, metrics, tags, created_at"
)


class AdapterRegistry:
    """Adapters and their history in one DuckDB file (``":memory:"`` for a throwaway one).

    Example:
        >>> reg = AdapterRegistry(":memory:")
        >>> rec = reg.register("a1", base_model="tiny", checkpoint_path="a1.safetensors",
        ...                    lora_config=LoraConfig(rank=4), training_config={"lr": 1e-3},
        ...                    dataset_hashes=["d1"])
        >>> rec.stage.value
        'experiment'
    """

    def __init__(self, path: str | os.PathLike[str] = "adapters.duckdb") -> None:
        self.path = str(path)
        self._db = duckdb.connect(self.path)
        self._db.execute(_SCHEMA)

    def close(self) -> None:
        self._db.close()

    def __enter__(self) -> AdapterRegistry:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # -- reading -----------------------------------------------------------------------------

    def _evidence(self, adapter_id: str) -> tuple[Evidence, ...]:
        rows = self._db.execute(
            "SELECT run_dir, passed, summary FROM evidence WHERE adapter_id = ? "
            "ORDER BY recorded_at, run_dir",
            [adapter_id],
        ).fetchall()
        return tuple(Evidence(r[0], bool(r[1]), json.loads(r[2])) for r in rows)

    def _record(self, row: Sequence[Any]) -> AdapterRecord:
        return AdapterRecord(
            id=row[0],
            base_model=row[1],
            checkpoint_path=row[2],
            lora_config=json.loads(row[3]),
            training_config=json.loads(row[4]),
            config_hash=row[5],
            dataset_hashes=tuple(json.loads(row[6])),
            fine_tuned_from=row[7],
            stage=Stage(row[8]),
            metrics=json.loads(row[9]),
            tags=tuple(json.loads(row[10])),
            created_at=row[11],
            evidence=self._evidence(row[0]),
        )

    def get(self, adapter_id: str) -> AdapterRecord:
        """The adapter called ``adapter_id``; raises ValidationError if there is none."""
        row = self._db.execute(
            f"SELECT {_COLUMNS} FROM adapters WHERE id = ?", [adapter_id]
        ).fetchone()
        if row is None:
            raise ValidationError(f"no adapter with `adapter_id` {adapter_id!r} is registered")
        return self._record(row)

    def all(self) -> list[AdapterRecord]:
        rows = self._db.execute(f"SELECT {_COLUMNS} FROM adapters ORDER BY created_at, id")
        return [self._record(r) for r in rows.fetchall()]

    def find_by_hash(self, digest: str) -> list[AdapterRecord]:
        """Adapters trained from exactly the same configuration and data."""
        return [a for a in self.all() if a.config_hash == digest]

    def query(
        self,
        *,
        stage: str | Stage | None = None,
        base_model: str | None = None,
        tag: str | None = None,
        min_metrics: Mapping[str, float] | None = None,
        max_metrics: Mapping[str, float] | None = None,
    ) -> list[AdapterRecord]:
        """Adapters matching every given filter; a metric threshold excludes adapters that lack
        the metric."""
        want = None if stage is None else parse_stage(stage)
        out = []
        for a in self.all():
            if want is not None and a.stage is not want:
                continue
            if base_model is not None and a.base_model != base_model:
                continue
            if tag is not None and tag not in a.tags:
                continue
            if any(a.metrics.get(k, float("-inf")) < v for k, v in (min_metrics or {}).items()):
                continue
            if any(a.metrics.get(k, float("inf")) > v for k, v in (max_metrics or {}).items()):
                continue
            out.append(a)
        return out

    def lineage(self, adapter_id: str) -> list[str]:
        """``adapter_id`` and its ancestors through ``fine_tuned_from``, nearest first."""
        chain = [adapter_id]
        parent = self.get(adapter_id).fine_tuned_from
        while parent is not None:
            if parent in chain:
                raise ValidationError(
                    f"lineage of {adapter_id!r} has a cycle: {' -> '.join([*chain, parent])}"
                )
            chain.append(parent)
            parent = self.get(parent).fine_tuned_from
        return chain

    # -- writing -----------------------------------------------------------------------------

    def register(
        self,
        adapter_id: str,
        *,
        base_model: str,
        checkpoint_path: str | os.PathLike[str],
        lora_config: LoraConfig | Mapping[str, Any],
        training_config: Mapping[str, Any],
        dataset_hashes: Iterable[str],
        fine_tuned_from: str | None = None,
        metrics: Mapping[str, float] | None = None,
        tags: Iterable[str] = (),
        allow_duplicate: bool = False,
    ) -> AdapterRecord:
        """Add an adapter at stage ``experiment``.

        Raises:
            ValidationError: an id already taken, an unknown parent, or — unless
                ``allow_duplicate`` — an adapter with the same config hash (same base model,
                LoRA config, training config and data) already registered.
        """
        if not isinstance(adapter_id, str) or not adapter_id:
            raise ValidationError(f"`adapter_id` must be a non-empty string, got {adapter_id!r}")
        if self._db.execute("SELECT 1 FROM adapters WHERE id = ?", [adapter_id]).fetchone():
            raise ValidationError(f"`adapter_id` {adapter_id!r} is already registered")
        lora = lora_config.to_dict() if isinstance(lora_config, LoraConfig) else dict(lora_config)
        hashes = sorted(str(h) for h in dataset_hashes)
        if not hashes:
            raise ValidationError("`dataset_hashes` is empty; give the hash of each training set")
        if fine_tuned_from is not None:
            self.get(fine_tuned_from)  # raises if unknown
        digest = config_hash(base_model, lora, training_config, hashes)
        same = self.find_by_hash(digest)
        if same and not allow_duplicate:
            raise ValidationError(
                f"the same configuration was already registered as {same[0].id!r} (config hash "
                f"{digest[:12]}); pass allow_duplicate=True to register a repeat on purpose"
            )
        self._db.execute(
            f"INSERT INTO adapters ({_COLUMNS}) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            [
                adapter_id,
                base_model,
                str(checkpoint_path),
                canonical_json(lora),
                canonical_json(dict(training_config)),
                digest,
                json.dumps(hashes),
                fine_tuned_from,
                Stage.EXPERIMENT.value,
                json.dumps({k: float(v) for k, v in (metrics or {}).items()}),
                json.dumps(sorted(set(tags))),
                datetime.now(UTC).isoformat(),
            ],
        )
        return self.get(adapter_id)

    def set_parent(self, adapter_id: str, parent: str | None) -> None:
        """Change ``fine_tuned_from``; refuses a change that would make the lineage a cycle."""
        self.get(adapter_id)
        if parent is not None and adapter_id in self.lineage(parent):
            raise ValidationError(
                f"`parent` {parent!r} descends from {adapter_id!r}: the lineage would be a cycle"
            )
        self._db.execute(
            "UPDATE adapters SET fine_tuned_from = ? WHERE id = ?", [parent, adapter_id]
        )

    def update_metrics(self, adapter_id: str, metrics: Mapping[str, float]) -> AdapterRecord:
        merged = {**self.get(adapter_id).metrics, **{k: float(v) for k, v in metrics.items()}}
        self._db.execute(
            "UPDATE adapters SET metrics = ? WHERE id = ?", [json.dumps(merged), adapter_id]
        )
        return self.get(adapter_id)

    def add_tags(self, adapter_id: str, *tags: str) -> AdapterRecord:
        merged = sorted(set(self.get(adapter_id).tags) | set(tags))
        self._db.execute(
            "UPDATE adapters SET tags = ? WHERE id = ?", [json.dumps(merged), adapter_id]
        )
        return self.get(adapter_id)

    def promote(
        self, adapter_id: str, stage: str | Stage, *, evidence: Evidence | None = None
    ) -> AdapterRecord:
        """Move an adapter to ``stage``, recording ``evidence`` if given.

        Promotion to ``production`` needs a passing evaluation on record: ``evidence`` with
        ``passed=True`` here, or recorded by an earlier call. A given ``run_dir`` must exist.

        Raises:
            PromotionError: a disallowed transition, or production without passing evidence.
        """
        target = parse_stage(stage)
        current = self.get(adapter_id)
        if target not in TRANSITIONS[current.stage]:
            allowed = ", ".join(sorted(s.value for s in TRANSITIONS[current.stage])) or "none"
            raise PromotionError(
                f"cannot move {adapter_id!r} from {current.stage.value!r} to {target.value!r}; "
                f"allowed next stages: {allowed}"
            )
        if evidence is not None:
            if not isinstance(evidence, Evidence):
                raise ValidationError(f"`evidence` must be an Evidence, got {evidence!r:.80}")
            if not Path(evidence.run_dir).is_dir():
                raise PromotionError(
                    f"`evidence.run_dir` {evidence.run_dir!r} is not a directory; link the "
                    "evaluation run directory that justifies the promotion"
                )
        # A failed evaluation is recorded too: it is evidence, even when it blocks the move.
        if evidence is not None:
            self._db.execute(
                "INSERT INTO evidence VALUES (?, ?, ?, ?, ?, ?)",
                [
                    adapter_id,
                    target.value,
                    evidence.run_dir,
                    evidence.passed,
                    canonical_json(evidence.summary),
                    datetime.now(UTC).isoformat(),
                ],
            )
        if target is Stage.PRODUCTION and not any(e.passed for e in self._evidence(adapter_id)):
            raise PromotionError(
                f"promoting {adapter_id!r} to 'production' needs `evidence`: a passing "
                "evaluation (Evidence(run_dir, passed=True, summary)) on record"
            )
        self._db.execute("UPDATE adapters SET stage = ? WHERE id = ?", [target.value, adapter_id])
        return self.get(adapter_id)

    # -- JSON --------------------------------------------------------------------------------

    def export_json(self, path: str | os.PathLike[str]) -> Path:
        """Write every adapter (with its evidence) to a JSON file."""
        out = Path(path)
        out.write_text(json.dumps({"adapters": [a.to_dict() for a in self.all()]}, indent=2))
        return out

    def import_json(self, path: str | os.PathLike[str]) -> list[str]:
        """Add the adapters of a file written by :meth:`export_json`; returns their ids.

        Raises:
            ValidationError: an id already present, or a lineage cycle among the imported ones.
        """
        payload = json.loads(Path(path).read_text())
        records = payload.get("adapters") if isinstance(payload, Mapping) else None
        if not isinstance(records, list):
            raise ValidationError(f"`path` {str(path)!r} is not an adapter registry export")
        parents = {r["id"]: r.get("fine_tuned_from") for r in records}
        for start in parents:
            seen = [start]
            node = parents.get(start)
            while node is not None and node in parents:
                if node in seen:
                    raise ValidationError(
                        f"`path` {str(path)!r} has a lineage cycle: {' -> '.join([*seen, node])}"
                    )
                seen.append(node)
                node = parents.get(node)
        for r in records:
            if self._db.execute("SELECT 1 FROM adapters WHERE id = ?", [r["id"]]).fetchone():
                raise ValidationError(f"adapter {r['id']!r} from `path` is already registered")
        for r in records:
            self._db.execute(
                f"INSERT INTO adapters ({_COLUMNS}) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                [
                    r["id"],
                    r["base_model"],
                    r["checkpoint_path"],
                    canonical_json(r["lora_config"]),
                    canonical_json(r["training_config"]),
                    r["config_hash"],
                    json.dumps(list(r["dataset_hashes"])),
                    r.get("fine_tuned_from"),
                    parse_stage(r["stage"]).value,
                    json.dumps(r["metrics"]),
                    json.dumps(list(r["tags"])),
                    r["created_at"],
                ],
            )
            for e in r.get("evidence", []):
                self._db.execute(
                    "INSERT INTO evidence VALUES (?, ?, ?, ?, ?, ?)",
                    [
                        r["id"],
                        r["stage"],
                        e["run_dir"],
                        bool(e["passed"]),
                        canonical_json(e["summary"]),
                        r["created_at"],
                    ],
                )
        return [r["id"] for r in records]
