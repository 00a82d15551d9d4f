"""The run directory: opened only for the experiment it holds, and read back as a StoredRun."""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

import attrs
import polars as pl

from crucible.harness._errors import FingerprintMismatchError, RunDirectoryError
from crucible.harness._experiment import Experiment
from crucible.harness._fingerprint import diff, fingerprint
from crucible.harness._store import CONSENSUS_SCHEMA, DB_NAME, RunStore

__all__ = ["StoredRun", "load_run", "open_run_store", "write_json"]


def write_json(path: Path, data: Any) -> None:
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_text(json.dumps(data, indent=2, default=str, sort_keys=True), encoding="utf-8")
    os.replace(tmp, path)


def open_run_store(
    experiment: Experiment, run_dir: Path, resume: bool, force: bool
) -> tuple[RunStore, dict[str, Any]]:
    """Open the run store, checking the directory holds this experiment (or nothing)."""
    existed = RunStore.exists(run_dir)
    if resume and not existed:
        raise RunDirectoryError(
            f"nothing to resume: {str(run_dir)!r} holds no {DB_NAME}; start the run without resume"
        )
    store = RunStore(run_dir, experiment.scorer_names) if existed else None
    manifest = store.manifest() if store is not None else {}
    fp = fingerprint(experiment)
    if manifest.get("fingerprint"):
        old = manifest["fingerprint"]
        changed = diff(old, fp)
        if not resume:
            assert store is not None
            n = len(store.done_keys())
            store.close()
            if changed:
                raise RunDirectoryError(
                    f"run directory {str(run_dir)!r} holds another experiment "
                    f"({old.get('experiment')!r}; differs in {', '.join(changed[:5])}); choose "
                    "an empty or new directory"
                )
            raise RunDirectoryError(
                f"run directory {str(run_dir)!r} already holds this experiment ({n} trials "
                "committed); resume it (run(..., resume=True), `crux resume`) or choose a new "
                "directory"
            )
        if changed and not force:
            assert store is not None
            store.close()
            raise FingerprintMismatchError(
                f"cannot resume {str(run_dir)!r}: the experiment changed since the run started "
                f"({', '.join(changed)}); restore it, or pass force=True (--force) to resume "
                "anyway",
                changed,
            )
    if store is None:
        store = RunStore(run_dir, experiment.scorer_names)
    if not manifest.get("fingerprint"):
        manifest = {}
    return store, manifest


@attrs.frozen(eq=False)
class StoredRun:
    """A run directory as stored: read by :func:`load_run` without running anything.

    Attributes:
        run_dir: the directory.
        manifest: the run's manifest (configuration, fingerprint, environment).
        sessions: one row per session (start, end, status, reason, trials committed).
        trials: every committed trial, in schedule order.
        attempts: every recorded model-call attempt.
        consensus: per-trial agreement of an ensemble's members (empty unless a condition's
            completions reported votes).
    """

    run_dir: Path
    manifest: dict[str, Any]
    sessions: pl.DataFrame
    trials: pl.DataFrame
    attempts: pl.DataFrame
    consensus: pl.DataFrame = attrs.field(factory=lambda: pl.DataFrame(schema=CONSENSUS_SCHEMA))

    @property
    def status(self) -> str | None:
        """The status of the latest session (``None`` before any session)."""
        return None if self.sessions.is_empty() else str(self.sessions["status"][-1])

    def __str__(self) -> str:
        return (
            f"Run {self.manifest.get('experiment_id', '?')} in {self.run_dir}: "
            f"{self.trials.height} trials, {self.sessions.height} sessions, last {self.status}"
        )


def load_run(run_dir: str | os.PathLike[str]) -> StoredRun:
    """Read a run directory without running anything.

    Raises:
        RunDirectoryError: ``run_dir`` holds no run.

    Example:
        >>> import tempfile
        >>> from crucible.core import Item
        >>> from crucible.harness import Condition, run_sync
        >>> exp = Experiment("toy", [Item("1", "2+2?", "4")], [Condition("a", "sim:gpt-4")])
        >>> where = tempfile.mkdtemp()
        >>> _ = run_sync(exp, where)
        >>> load_run(where).trials.height
        1
    """
    root = Path(run_dir)
    if not RunStore.exists(root):
        raise RunDirectoryError(f"{str(root)!r} is not a run directory: it has no {DB_NAME}")
    store = RunStore(root, None)
    try:
        return StoredRun(
            run_dir=root,
            manifest=store.manifest(),
            sessions=store.sessions(),
            trials=store.trials(),
            attempts=store.attempts(),
            consensus=store.consensus(),
        )
    finally:
        store.close()
