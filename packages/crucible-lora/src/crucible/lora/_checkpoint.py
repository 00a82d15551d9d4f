"""Checkpoint files: safetensors written atomically, read back with their kind checked.

A checkpoint is written to a temporary file in the destination directory, flushed to disk and
renamed over the final name (``os.replace`` is atomic on POSIX and Windows), so a reader sees
either the previous file or the complete new one — never a partial write. Every file records
its kind (``state``, ``sampler``, ``base``) in the safetensors metadata; loading a file of the
wrong kind, a missing file or a file that is not safetensors raises :class:`CheckpointError`.
"""

from __future__ import annotations

import json
import os
import tempfile
from enum import StrEnum
from pathlib import Path
from typing import Any

import numpy as np
from safetensors import SafetensorError
from safetensors.numpy import load_file, save_file

from crucible.lora._errors import CheckpointError

__all__ = ["CheckpointKind", "read_checkpoint", "write_checkpoint"]

_KIND_KEY = "crucible.lora.kind"
_META_KEY = "crucible.lora.meta"


class CheckpointKind(StrEnum):
    STATE = "state"  # adapter weights + optimizer state (resume training)
    SAMPLER = "sampler"  # adapter weights only (sampling)
    BASE = "base"  # a base model's weights


def write_checkpoint(
    path: str | os.PathLike[str],
    tensors: dict[str, np.ndarray],
    *,
    kind: CheckpointKind,
    meta: dict[str, Any],
    dtype: type[np.floating[Any]] | None = None,
) -> Path:
    """Write ``tensors`` and ``meta`` to ``path`` atomically; returns the final path."""
    target = Path(path)
    target.parent.mkdir(parents=True, exist_ok=True)
    arrays = {
        k: np.ascontiguousarray(
            v.astype(dtype) if dtype is not None and np.issubdtype(v.dtype, np.floating) else v
        )
        for k, v in tensors.items()
    }
    metadata = {_KIND_KEY: kind.value, _META_KEY: json.dumps(meta, sort_keys=True)}
    fd, tmp = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".tmp", dir=target.parent)
    os.close(fd)
    try:
        os.chmod(tmp, 0o644)  # mkstemp creates 0600; checkpoints are ordinary files
        save_file(arrays, tmp, metadata=metadata)
        with open(tmp, "rb") as fh:
            os.fsync(fh.fileno())
        os.replace(tmp, target)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return target


def read_checkpoint(
    path: str | os.PathLike[str], *, kinds: tuple[CheckpointKind, ...], argument: str = "path"
) -> tuple[dict[str, np.ndarray], dict[str, Any]]:
    """Read a checkpoint of one of ``kinds``: ``(tensors, meta)``."""
    p = Path(path)
    expected = " or ".join(repr(k.value) for k in kinds)
    if not p.exists():
        raise CheckpointError(f"`{argument}` {str(p)!r} does not exist; give a saved checkpoint")
    if not p.is_file():
        raise CheckpointError(
            f"`{argument}` {str(p)!r} is not a file; give a .safetensors checkpoint file"
        )
    try:
        from safetensors import safe_open

        with safe_open(str(p), framework="np") as fh:
            metadata = fh.metadata() or {}
        tensors = load_file(str(p))
    except (SafetensorError, OSError, ValueError) as exc:
        raise CheckpointError(
            f"`{argument}` {str(p)!r} is not a readable safetensors checkpoint ({exc})"
        ) from exc
    kind = metadata.get(_KIND_KEY)
    if kind not in {k.value for k in kinds}:
        raise CheckpointError(
            f"`{argument}` {str(p)!r} is a checkpoint of kind {kind!r}; expected {expected}"
        )
    return tensors, json.loads(metadata.get(_META_KEY, "{}"))
