"""Resolving checkpoints (samplers, files, training runs, registry adapters) into named models."""

from __future__ import annotations

import json
import os
import re
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path
from typing import Any

import attrs

from crucible.core import Model, ValidationError
from crucible.lora import AdapterRegistry, CheckpointError, LocalSampler, load_base, load_sampler

#: The name of the baseline condition when the base model is the baseline.
BASE = "base"

CheckpointLike = Model | str | os.PathLike[str]


def _natural_key(path: Path) -> list[Any]:
    return [int(part) if part.isdigit() else part for part in re.split(r"(\d+)", path.name)]


def checkpoint_files(directory: str | os.PathLike[str]) -> list[Path]:
    """The checkpoint files of a training run, in training order.

    ``directory`` may hold ``.safetensors`` files itself, be a backend's ``checkpoint_dir``
    (``states/``, ``sampler_weights/``), or be a :class:`~crucible.lora.Trainer`'s
    ``checkpoint_dir`` whose ``trainer_state.json`` names where the states were saved. Files are
    ordered by the numbers in their names (``step-000025`` before ``step-000100``).

    Raises:
        CheckpointError: ``directory`` does not exist or holds no checkpoint.
    """
    root = Path(directory)
    if not root.is_dir():
        raise CheckpointError(
            f"`checkpoints` directory {str(root)!r} does not exist; give a Trainer run directory "
            "or a directory of .safetensors checkpoints"
        )
    folders = [root, root / "states", root / "sampler_weights"]
    state_file = root / "trainer_state.json"
    if state_file.is_file():
        try:
            state_path = json.loads(state_file.read_text()).get("state_path")
        except (json.JSONDecodeError, AttributeError) as exc:
            raise CheckpointError(f"{str(state_file)!r} is not a trainer state file") from exc
        if isinstance(state_path, str) and state_path:
            folders.append(Path(state_path).parent)
    found: dict[Path, Path] = {}
    for folder in folders:
        if folder.is_dir():
            for f in folder.glob("*.safetensors"):
                if not f.name.startswith("."):  # half-written temporary files
                    found.setdefault(f.resolve(), f)
    if not found:
        raise CheckpointError(
            f"`checkpoints` directory {str(root)!r} holds no .safetensors checkpoint (looked in "
            "it, its states/ and sampler_weights/, and the trainer state's directory)"
        )
    return sorted(found.values(), key=lambda p: (_natural_key(p), str(p)))


@attrs.frozen
class Arm:
    name: str
    model: Model
    source: str


def named_files(directory: Path) -> dict[str, Path]:
    files = checkpoint_files(directory)
    stems = [f.stem for f in files]
    return {(f.stem if stems.count(f.stem) == 1 else f"{f.parent.name}/{f.stem}"): f for f in files}


def _from_path(path: Path, name: str | None = None) -> list[Arm]:
    if path.is_dir():
        return [Arm(n, load_sampler(f), str(f)) for n, f in named_files(path).items()]
    if not path.exists():
        raise CheckpointError(
            f"`checkpoints` path {str(path)!r} does not exist; give a saved checkpoint file, a "
            "directory of checkpoints, a Sampler or an AdapterRegistry"
        )
    return [Arm(name or path.stem, load_sampler(path), str(path))]


def _from_object(value: object, name: str | None, index: str) -> list[Arm]:
    if isinstance(value, str | os.PathLike):
        return _from_path(Path(value), name)
    if hasattr(value, "generate"):
        label = name or getattr(value, "name", None)
        if not isinstance(label, str) or not label:
            raise ValidationError(f"`checkpoints{index}` has no name; pass a mapping name -> model")
        source = getattr(value, "path", "") or getattr(value, "spec", "") or type(value).__name__
        return [Arm(label, value, str(source))]
    raise ValidationError(
        f"`checkpoints{index}` must be a Sampler/Model, a checkpoint path or a directory, got "
        f"{type(value).__name__}"
    )


def resolve_checkpoints(
    checkpoints: AdapterRegistry | Mapping[str, CheckpointLike] | Iterable[CheckpointLike],
    adapters: Sequence[str] | None,
) -> list[Arm]:
    if isinstance(checkpoints, AdapterRegistry):
        records = (
            [checkpoints.get(a) for a in adapters] if adapters is not None else checkpoints.all()
        )
        arms = []
        for rec in records:
            path = Path(rec.checkpoint_path)
            if not path.is_file():
                raise CheckpointError(
                    f"adapter {rec.id!r}: checkpoint_path {rec.checkpoint_path!r} is not a file "
                    "on this machine"
                )
            arms.append(Arm(rec.id, load_sampler(path), rec.checkpoint_path))
    else:
        if adapters is not None:
            raise ValidationError("`adapters` selects adapter ids and needs an AdapterRegistry")
        if isinstance(checkpoints, str | os.PathLike):
            arms = _from_path(Path(checkpoints))
        elif isinstance(checkpoints, Mapping):
            arms = [a for k, v in checkpoints.items() for a in _from_object(v, str(k), f"[{k!r}]")]
        elif isinstance(checkpoints, Iterable):
            arms = [a for i, v in enumerate(checkpoints) for a in _from_object(v, None, f"[{i}]")]
        else:
            raise ValidationError(
                "`checkpoints` must be Samplers/Models, checkpoint paths, a directory, a mapping "
                f"name -> checkpoint or an AdapterRegistry; got {type(checkpoints).__name__}"
            )
    if not arms:
        raise ValidationError(
            "`checkpoints` is empty: give at least one checkpoint to compare with the baseline"
        )
    names = [a.name for a in arms]
    dupes = sorted({n for n in names if names.count(n) > 1})
    if dupes:
        raise ValidationError(
            f"`checkpoints` has two checkpoints named {dupes[0]!r}; pass a mapping name -> "
            "checkpoint to name them apart"
        )
    return arms


def split_baseline(baseline: str | Model, arms: list[Arm]) -> tuple[Arm, list[Arm]]:
    if not isinstance(baseline, str):
        if not hasattr(baseline, "generate"):
            raise ValidationError(
                f"`baseline` must be 'base', a checkpoint name or a Model, got {baseline!r:.80}"
            )
        name = str(getattr(baseline, "name", "baseline"))
        if name in {a.name for a in arms}:
            name = "baseline"
        return Arm(name, baseline, str(getattr(baseline, "spec", name))), arms
    if baseline == BASE and BASE in {a.name for a in arms}:
        raise ValidationError(
            "a checkpoint is named 'base', which is the baseline's name; rename it or pass "
            "`baseline`"
        )
    for arm in arms:
        if arm.name == baseline:
            rest = [a for a in arms if a is not arm]
            if not rest:
                raise ValidationError(
                    f"`baseline` {baseline!r} is the only checkpoint: nothing left to compare"
                )
            return arm, rest
    if baseline != BASE:
        known = ", ".join(repr(a.name) for a in arms)
        raise ValidationError(
            f"`baseline` {baseline!r} is neither 'base' nor a checkpoint name ({known})"
        )
    weights = load_base()
    for arm in arms:
        trained_on = getattr(arm.model, "base_model", weights.name)
        if trained_on != weights.name:
            raise ValidationError(
                f"checkpoint {arm.name!r} was trained on {trained_on!r}, not the shipped "
                f"{weights.name!r}; pass that base model as `baseline`"
            )
    base = LocalSampler(
        weights.name,
        shape=weights.shape,
        base=weights.params,
        adapters={},
        scale=1.0,
        path="",
        base_model=weights.name,
    )
    return Arm(BASE, base, weights.name), arms
