"""What makes two runs the same experiment: a fingerprint, its digest, and what changed."""

from __future__ import annotations

import hashlib
import importlib.metadata
import json
import re
import sys
from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

from crucible.core import Secret

if TYPE_CHECKING:
    from crucible.harness._experiment import Experiment

__all__ = ["describe_model", "diff", "digest", "fingerprint", "package_versions", "redact"]

#: The distributions whose versions are part of a run's identity.
FINGERPRINT_PACKAGES = ("crucible-core", "crucible-datasets", "crucible-harness")
_SECRET_KEY = re.compile(r"(api[_-]?key|secret|password|authorization|bearer|credential)", re.I)


def package_versions(names: tuple[str, ...] | None = None) -> dict[str, str]:
    """Installed versions of ``names`` (default: every ``crucible-*`` distribution)."""
    found: dict[str, str] = {}
    if names is not None:
        for name in names:
            try:
                found[name] = importlib.metadata.version(name)
            except importlib.metadata.PackageNotFoundError:
                found[name] = "not installed"
        return found
    # Read names and versions from the dist-info directory names: parsing every installed
    # distribution's metadata costs a noticeable fraction of a second at start-up.
    for entry in sys.path:
        folder = Path(entry or ".")
        if not folder.is_dir():
            continue
        for info in folder.glob("crucible_*.dist-info"):
            name, _, version = info.name.removesuffix(".dist-info").partition("-")
            dist = name.replace("_", "-").lower()
            if dist != "crucible-workspace":
                found.setdefault(dist, version)
    return dict(sorted(found.items()))


def redact(value: Any) -> Any:
    """``value`` as JSON-compatible data with secrets (API keys, passwords) replaced by ``***``."""
    if isinstance(value, Secret):
        return "***"
    if isinstance(value, Mapping):
        return {
            str(k): ("***" if _SECRET_KEY.search(str(k)) else redact(v)) for k, v in value.items()
        }
    if isinstance(value, list | tuple):
        return [redact(v) for v in value]
    if value is None or isinstance(value, str | int | float | bool):
        return value
    to_dict = getattr(value, "to_dict", None)
    if callable(to_dict):
        return redact(to_dict())
    return _stable_name(value)


def _stable_name(obj: Any) -> str:
    """A name for an object that is the same in every process (never a memory address)."""
    target = (
        obj
        if isinstance(obj, type) or (callable(obj) and hasattr(obj, "__qualname__"))
        else type(obj)
    )
    module = getattr(target, "__module__", "?")
    qualname = getattr(target, "__qualname__", type(obj).__name__)
    return f"{module}.{qualname}"


def describe_model(model: Any) -> dict[str, Any]:
    """A process-independent description of a condition's model (no API key, no address)."""
    if isinstance(model, str):
        return {"spec": model}
    out: dict[str, Any] = {"type": _stable_name(model)}
    spec = getattr(model, "spec", None)
    if isinstance(spec, str):
        out["spec"] = spec
    name = getattr(model, "name", None)
    if isinstance(name, str):
        out["name"] = name
    seed = getattr(model, "seed", None)
    if isinstance(seed, int) and not isinstance(seed, bool):
        out["seed"] = seed
    profile = getattr(model, "profile", None)
    if profile is not None and callable(getattr(profile, "to_dict", None)):
        out["profile"] = redact(profile)
    describe = getattr(model, "describe", None) or getattr(model, "to_dict", None)
    if callable(describe):
        try:
            out["config"] = redact(describe())
        except Exception as exc:  # a model's self-description is optional, never fatal
            out["config"] = f"unavailable ({type(exc).__name__})"
    base_url = getattr(model, "base_url", None)
    if isinstance(base_url, str):
        out["base_url"] = base_url
    members = getattr(model, "models", None)
    if isinstance(members, list | tuple):
        out["members"] = [describe_model(m) for m in members]
    return out


def fingerprint(experiment: Experiment) -> dict[str, Any]:
    """The fields a resumed run must share with the run it continues.

    Dataset content hash, conditions (model, prompt, params), scorers, repeats, seed,
    schedule randomisation and the versions of the packages that compute trials. Limits and
    budgets are not part of it: raising a budget to finish a stopped run is what resume is for.
    """
    conditions = {}
    data = experiment.to_dict()
    for cond in data["conditions"]:
        conditions[cond["name"]] = {
            "model": cond["model"],
            "prompt": cond["prompt"],
            "params": cond["params"],
        }
    return {
        "experiment": experiment.name,
        "dataset": {
            "name": experiment.dataset.name,
            "content_hash": experiment.dataset.content_hash,
            "n_items": len(experiment.dataset),
        },
        "conditions": conditions,
        "scorers": experiment.scorer_names,
        "repeats": experiment.repeats,
        "seed": experiment.seed,
        "randomize": experiment.randomize,
        "packages": package_versions(FINGERPRINT_PACKAGES),
    }


def digest(fp: Mapping[str, Any]) -> str:
    """SHA-256 of the canonical JSON of a fingerprint."""
    text = json.dumps(fp, sort_keys=True, separators=(",", ":"), default=str)
    return hashlib.sha256(text.encode()).hexdigest()


def _flatten(value: Any, prefix: str, out: dict[str, Any]) -> None:
    if isinstance(value, Mapping) and value:
        for k, v in value.items():
            _flatten(v, f"{prefix}.{k}" if prefix else str(k), out)
    else:
        out[prefix] = value


def diff(old: Mapping[str, Any], new: Mapping[str, Any]) -> list[str]:
    """The dotted paths whose values differ between two fingerprints, sorted.

    Example:
        >>> diff({"seed": 1, "conditions": {"a": {"prompt": "x"}}},
        ...      {"seed": 2, "conditions": {"a": {"prompt": "y"}}})
        ['conditions.a.prompt', 'seed']
    """
    a: dict[str, Any] = {}
    b: dict[str, Any] = {}
    _flatten(json.loads(json.dumps(old, default=str)), "", a)
    _flatten(json.loads(json.dumps(new, default=str)), "", b)
    changed = {k for k in a.keys() | b.keys() if a.get(k, _MISSING) != b.get(k, _MISSING)}
    return sorted(changed)


_MISSING = object()
