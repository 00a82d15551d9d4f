"""Atomic file writes shared by the chain store and exports."""

from __future__ import annotations

import contextlib
import os
import tempfile
from pathlib import Path

from crucible.trace._errors import ChainStoreError

__all__ = ["write_atomic"]


def write_atomic(path: Path, text: str) -> Path:
    """Write ``text`` to ``path`` via a temporary file in the same directory, fsync, rename.

    A reader sees the old file or the new one, never half of one; on failure nothing is left.
    """
    if path.is_dir():
        raise ChainStoreError(f"`path` {str(path)!r} is a directory; give a file name")
    if not path.parent.is_dir():
        raise ChainStoreError(
            f"`path` {str(path)!r}: directory {str(path.parent)!r} does not exist; create it"
        )
    try:
        fd, tmp_name = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    except OSError as exc:
        raise ChainStoreError(f"cannot write in {str(path.parent)!r}: {exc.strerror}") from exc
    tmp = Path(tmp_name)
    try:
        with os.fdopen(fd, "w", encoding="utf-8", newline="") as fh:
            fh.write(text)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, path)
    except BaseException as exc:
        with contextlib.suppress(FileNotFoundError):
            tmp.unlink()
        if isinstance(exc, OSError):
            raise ChainStoreError(f"cannot write {str(path)!r}: {exc}") from exc
        raise
    return path
