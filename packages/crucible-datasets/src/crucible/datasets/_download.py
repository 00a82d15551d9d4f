"""Downloading full datasets into a verified cache.

Every file is fetched from a commit-pinned public URL and checked against a pinned SHA-256
(``data/REMOTE.tsv``). A download is written to ``<file>.part`` and moved into place with an
atomic :func:`os.replace` only once its digest matches, so the cache never holds a half-written
or unverified file. An interrupted download keeps its ``.part`` and resumes with an HTTP
``Range`` request; a corrupt one is deleted. A lock file serialises concurrent downloads of the
same file (across processes).
"""

from __future__ import annotations

import asyncio
import contextlib
import fcntl
import hashlib
import http.client
import os
import time
import urllib.error
import urllib.request
from collections.abc import Iterator, Sequence
from pathlib import Path

from crucible.core import DatasetError
from crucible.datasets._catalog import RemoteFile, dataset_spec, remote_file
from crucible.datasets._errors import ChecksumMismatchError, DownloadError

__all__ = ["adownload", "default_cache_dir", "download", "download_file", "remote_paths"]

_CHUNK = 1 << 16


class _TransientError(DownloadError):
    """An attempt that may succeed if repeated (timeout, truncated body): resume it."""


_USER_AGENT = "crucible-datasets/0.1.0"


def default_cache_dir() -> Path:
    """``$CRUCIBLE_CACHE_DIR/datasets``, else ``$XDG_CACHE_HOME/crucible/datasets``, else
    ``~/.cache/crucible/datasets``."""
    if root := os.environ.get("CRUCIBLE_CACHE_DIR"):
        return Path(root) / "datasets"
    xdg = os.environ.get("XDG_CACHE_HOME")
    base = Path(xdg) if xdg else Path.home() / ".cache"
    return base / "crucible" / "datasets"


def sha256_file(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for chunk in iter(lambda: handle.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


@contextlib.contextmanager
def _locked(path: Path) -> Iterator[None]:
    lock_path = path.with_name(path.name + ".lock")
    with lock_path.open("a") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def download_file(
    url: str,
    dest: str | os.PathLike[str],
    *,
    sha256: str,
    size: int | None = None,
    timeout_s: float = 30.0,
    retries: int = 2,
) -> Path:
    """Download ``url`` to ``dest``, resuming a partial download, and verify its SHA-256.

    Args:
        url: an ``http(s)://`` URL.
        dest: the final path; it appears only once the content is complete and verified.
        sha256: the pinned hex digest of the file.
        size: the expected size in bytes, when known (lets a stale partial be discarded).
        timeout_s: the limit for connecting and for each read (a server that stops sending
            for this long fails the attempt) and for the whole attempt.
        retries: how many more attempts after a truncated or timed-out one; each resumes
            from the bytes already received.

    Returns:
        ``dest`` as a :class:`~pathlib.Path`.

    Raises:
        DownloadError: HTTP error status, timeout or truncated body after every attempt; the
            partial file is kept (as ``<dest>.part``) so the next call resumes.
        ChecksumMismatchError: the complete file does not match ``sha256``; the partial file
            is deleted.
    """
    if timeout_s <= 0:
        raise DatasetError(f"`timeout_s` must be > 0, got {timeout_s}")
    if retries < 0:
        raise DatasetError(f"`retries` must be >= 0, got {retries}")
    target = Path(dest)
    target.parent.mkdir(parents=True, exist_ok=True)
    part = target.with_name(target.name + ".part")
    with _locked(target):
        if target.exists():
            if sha256_file(target) == sha256:
                return target
            target.unlink()
        last: DownloadError | None = None
        for _ in range(retries + 1):
            try:
                _fetch_into(url, part, size=size, timeout_s=timeout_s)
            except _TransientError as exc:
                last = DownloadError(str(exc))
                last.__cause__ = exc.__cause__
                continue
            actual = sha256_file(part)
            if actual != sha256:
                part.unlink()
                raise ChecksumMismatchError(
                    f"download of {url} has SHA-256 {actual}, expected the pinned {sha256}: "
                    "the server sent different content (check `base_url`); the partial file "
                    "was deleted and nothing was written to the cache",
                    expected=sha256,
                    actual=actual,
                )
            with part.open("rb+") as handle:
                os.fsync(handle.fileno())
            os.replace(part, target)
            return target
        assert last is not None
        raise last


def _fetch_into(url: str, part: Path, *, size: int | None, timeout_s: float) -> None:
    offset = part.stat().st_size if part.exists() else 0
    if size is not None and offset > size:
        part.unlink()
        offset = 0
    if size is not None and offset == size:
        return
    request = urllib.request.Request(url, headers={"User-Agent": _USER_AGENT})
    if offset:
        request.add_header("Range", f"bytes={offset}-")
    deadline = time.monotonic() + timeout_s
    try:
        response = urllib.request.urlopen(request, timeout=timeout_s)
    except urllib.error.HTTPError as exc:
        if exc.code == 416 and offset:
            part.unlink()
            raise _TransientError(
                f"server refused to resume {url} at byte {offset} (HTTP 416)"
            ) from exc
        raise DownloadError(
            f"HTTP {exc.code} {exc.reason} for {url}: the file is not at this address "
            "(check `base_url`, or your network)"
        ) from None
    except (urllib.error.URLError, TimeoutError, OSError) as exc:
        reason = getattr(exc, "reason", exc)
        raise _TransientError(
            f"could not connect to {url} within {timeout_s} s: {reason}; check your network "
            "or `base_url`, or raise `timeout_s`"
        ) from exc
    with response:
        status = response.status
        mode = "ab"
        if status == 206:
            content_range = response.headers.get("Content-Range", "")
            if not content_range.startswith(f"bytes {offset}-"):
                part.unlink(missing_ok=True)
                raise _TransientError(
                    f"server answered {url} with range {content_range!r}, not from byte {offset}"
                )
        elif status == 200:
            mode, offset = "wb", 0
        else:
            raise DownloadError(f"unexpected HTTP {status} for {url}")
        received = offset
        try:
            with part.open(mode) as handle:
                while chunk := response.read(_CHUNK):
                    handle.write(chunk)
                    received += len(chunk)
                    if time.monotonic() > deadline:
                        raise TimeoutError(f"download took longer than {timeout_s} s")
        except (http.client.IncompleteRead, TimeoutError, OSError) as exc:
            raise _TransientError(
                f"download of {url} stopped after {received} bytes"
                + (f" of {size}" if size is not None else "")
                + f" ({type(exc).__name__}: {exc}); the partial file {part} is kept and the "
                "next call resumes from it"
            ) from exc
    if size is not None and received != size:
        raise _TransientError(
            f"download of {url} ended after {received} bytes, expected {size}; the partial "
            f"file {part} is kept and the next call resumes from it"
        )


def remote_paths(name: str, split: str, subjects: Sequence[str] = ()) -> list[RemoteFile]:
    """The pinned remote files that make up ``split`` of dataset ``name``."""
    if name == "mmlu":
        return [remote_file(name, f"{split}/{subject}_{split}.csv") for subject in subjects]
    if name == "gsm8k":
        return [remote_file(name, f"{split}.jsonl")]
    if name == "humaneval":
        return [remote_file(name, "data/HumanEval.jsonl.gz")]
    if name == "truthfulqa":
        return [remote_file(name, "TruthfulQA.csv"), remote_file(name, "data/mc_task.json")]
    dataset_spec(name)
    raise DatasetError(f"dataset {name!r} has no downloadable files")


def download(
    name: str,
    *,
    split: str | None = None,
    subjects: Sequence[str] = (),
    cache_dir: str | os.PathLike[str] | None = None,
    base_url: str | None = None,
    timeout_s: float = 30.0,
    retries: int = 2,
) -> list[Path]:
    """Download (or find in the cache) the files of a built-in dataset, verified.

    Args:
        name: ``"mmlu"``, ``"gsm8k"``, ``"humaneval"`` or ``"truthfulqa"``.
        split: the split (default: the dataset's default split).
        subjects: MMLU subjects to fetch.
        cache_dir: where files are kept (default :func:`default_cache_dir`).
        base_url: replaces the dataset's pinned base URL (a mirror, or a local test server);
            files are fetched from ``base_url + <path>`` and still checked against the pins.

    Returns:
        The local paths, in the order of :func:`remote_paths`.

    Example:
        >>> paths = download("gsm8k", split="train")  # doctest: +SKIP
    """
    spec = dataset_spec(name)
    split = split or spec.default_split
    root = Path(cache_dir) if cache_dir is not None else default_cache_dir()
    base = base_url if base_url is not None else spec.base_url
    if not base.endswith("/"):
        base += "/"
    paths = []
    for file in remote_paths(name, split, subjects):
        dest = root / name / file.path
        paths.append(
            download_file(
                base + file.path,
                dest,
                sha256=file.sha256,
                size=file.size,
                timeout_s=timeout_s,
                retries=retries,
            )
        )
    return paths


async def adownload(
    name: str,
    *,
    split: str | None = None,
    subjects: Sequence[str] = (),
    cache_dir: str | os.PathLike[str] | None = None,
    base_url: str | None = None,
    timeout_s: float = 30.0,
    retries: int = 2,
) -> list[Path]:
    """:func:`download` for asyncio code: runs in a worker thread, never blocking the loop."""
    return await asyncio.to_thread(
        download,
        name,
        split=split,
        subjects=subjects,
        cache_dir=cache_dir,
        base_url=base_url,
        timeout_s=timeout_s,
        retries=retries,
    )
