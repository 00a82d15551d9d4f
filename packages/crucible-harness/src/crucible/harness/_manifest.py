"""The run manifest: everything needed to reproduce a run, and never an API key."""

from __future__ import annotations

import datetime as _dt
import functools
import platform
import subprocess
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Any

from crucible.core import Pricing
from crucible.harness._fingerprint import digest, fingerprint, package_versions

if TYPE_CHECKING:
    from crucible.harness._experiment import Experiment

__all__ = ["build_manifest", "git_commit"]


@functools.lru_cache(maxsize=32)
def _git_commit(cwd: str) -> str | None:
    try:
        head = subprocess.run(
            ["git", "rev-parse", "HEAD"], cwd=cwd, capture_output=True, text=True, timeout=5
        )
        if head.returncode != 0:
            return None
        status = subprocess.run(
            ["git", "status", "--porcelain", "--untracked-files=no"],
            cwd=cwd,
            capture_output=True,
            text=True,
            timeout=5,
        )
    except (OSError, subprocess.SubprocessError):
        return None
    commit = head.stdout.strip()
    return commit + ("-dirty" if status.returncode == 0 and status.stdout.strip() else "")


def git_commit(where: Path | None = None) -> str | None:
    """The commit checked out at ``where`` (default: the working directory), if it is a git
    work tree; a ``-dirty`` suffix when tracked files have changes."""
    return _git_commit(str(where or Path.cwd()))


def _price_versions(experiment: Experiment) -> dict[str, str]:
    versions: dict[str, str] = {}
    for name, model in experiment.models.items():
        pricing = getattr(model, "pricing", None)
        if isinstance(pricing, Pricing):
            versions[name] = pricing.version
    return versions


def build_manifest(experiment: Experiment, *, source: str | None = None) -> dict[str, Any]:
    """The manifest of a new run of ``experiment`` (JSON-compatible)."""
    fp = fingerprint(experiment)
    where = Path(source).parent if source and Path(source).exists() else None
    return {
        "experiment_id": f"{experiment.name}-{digest(fp)[:12]}",
        "fingerprint": fp,
        "fingerprint_digest": digest(fp),
        "config": experiment.to_dict(),
        "dataset": experiment.dataset.info(),
        "price_table": {
            "default": Pricing().version,
            "conditions": _price_versions(experiment),
        },
        "seeds": {"root": experiment.seed, "schedule": ["schedule"], "trial": ["trial"]},
        "packages": package_versions(),
        "python": sys.version.split()[0],
        "implementation": platform.python_implementation(),
        "platform": platform.platform(),
        "git_commit": git_commit(where),
        "source": source,
        "created_at": _dt.datetime.now(_dt.UTC).isoformat(),
        "items": _item_facts(experiment),
    }


def _item_facts(experiment: Experiment) -> dict[str, dict[str, Any]]:
    """Per item: the expected answer and scalar metadata (subject, cluster, ...), which the
    analysis needs for per-item detail and cluster-robust errors."""
    facts: dict[str, dict[str, Any]] = {}
    for item in experiment.dataset:
        entry: dict[str, Any] = {
            k: v
            for k, v in item.metadata.items()
            if isinstance(v, str | int | float | bool) and not isinstance(v, bool)
        }
        entry["expected"] = None if item.expected is None else str(item.expected)
        facts[item.id] = entry
    return facts
