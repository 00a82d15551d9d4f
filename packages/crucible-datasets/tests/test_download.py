from __future__ import annotations

import hashlib
import time
from pathlib import Path

import pytest

from crucible.core import DatasetError
from crucible.datasets import (
    ChecksumMismatchError,
    DownloadError,
    adownload,
    download,
    download_file,
    load,
)

from .conftest import DATA, FileServer

GSM8K_SHA = "3730d312f6e3440559ace48831e51066acaca737f6eabec99bccb9e4b3c39d14"  # data/SHA256SUMS
GSM8K_SIZE = 749_738


def _leftovers(root: Path) -> list[str]:
    return sorted(p.name for p in root.rglob("*") if p.is_file() and not p.name.endswith(".lock"))


def test_download_verifies_and_caches(file_server: FileServer, tmp_path: Path) -> None:
    (path,) = download("gsm8k", cache_dir=tmp_path, base_url=file_server.base_url + "/gsm8k/")
    assert path == tmp_path / "gsm8k" / "test.jsonl"
    assert hashlib.sha256(path.read_bytes()).hexdigest() == GSM8K_SHA
    assert path.read_bytes() == (DATA / "gsm8k" / "test.jsonl").read_bytes()
    # A second call is served from the verified cache: no new request.
    download("gsm8k", cache_dir=tmp_path, base_url=file_server.base_url + "/gsm8k/")
    assert len(file_server.requests) == 1
    assert _leftovers(tmp_path) == ["test.jsonl"]


def test_truncated_download_keeps_partial_and_never_publishes(
    file_server: FileServer, tmp_path: Path
) -> None:
    file_server.mode = "truncate"
    dest = tmp_path / "test.jsonl"
    url = file_server.base_url + "/gsm8k/test.jsonl"
    with pytest.raises(DownloadError, match=r"stopped after|ended after") as info:
        download_file(url, dest, sha256=GSM8K_SHA, size=GSM8K_SIZE, retries=0, timeout_s=5)
    assert "resumes" in str(info.value)
    assert not dest.exists()
    part = tmp_path / "test.jsonl.part"
    assert 0 < part.stat().st_size < GSM8K_SIZE


def test_resume_after_partial_uses_range(file_server: FileServer, tmp_path: Path) -> None:
    file_server.mode = "truncate"
    dest = tmp_path / "test.jsonl"
    url = file_server.base_url + "/gsm8k/test.jsonl"
    with pytest.raises(DownloadError):
        download_file(url, dest, sha256=GSM8K_SHA, size=GSM8K_SIZE, retries=0, timeout_s=5)
    received = (tmp_path / "test.jsonl.part").stat().st_size
    file_server.mode = "ok"
    download_file(url, dest, sha256=GSM8K_SHA, size=GSM8K_SIZE, timeout_s=5)
    assert file_server.requests[-1]["range"] == f"bytes={received}-"
    assert hashlib.sha256(dest.read_bytes()).hexdigest() == GSM8K_SHA
    assert _leftovers(tmp_path) == ["test.jsonl"]


def test_retry_resumes_within_one_call(file_server: FileServer, tmp_path: Path) -> None:
    file_server.mode = "truncate_once"
    dest = download_file(
        file_server.base_url + "/gsm8k/test.jsonl",
        tmp_path / "t.jsonl",
        sha256=GSM8K_SHA,
        size=GSM8K_SIZE,
        retries=1,
        timeout_s=5,
    )
    assert [r["range"] is not None for r in file_server.requests] == [False, True]
    assert hashlib.sha256(dest.read_bytes()).hexdigest() == GSM8K_SHA


def test_wrong_checksum_deletes_partial(file_server: FileServer, tmp_path: Path) -> None:
    file_server.mode = "corrupt"
    with pytest.raises(ChecksumMismatchError, match="expected the pinned") as info:
        download("gsm8k", cache_dir=tmp_path, base_url=file_server.base_url + "/gsm8k")
    assert info.value.expected == GSM8K_SHA
    assert info.value.actual != GSM8K_SHA
    assert _leftovers(tmp_path) == []


def test_not_found_is_a_clear_error(file_server: FileServer, tmp_path: Path) -> None:
    with pytest.raises(DownloadError, match=r"HTTP 404 .*check `base_url`"):
        download("gsm8k", cache_dir=tmp_path, base_url=file_server.base_url + "/nowhere/")
    assert _leftovers(tmp_path) == []


def test_server_hang_times_out(file_server: FileServer, tmp_path: Path) -> None:
    file_server.mode = "hang"
    started = time.monotonic()
    with pytest.raises(DownloadError, match=r"within 0.3 s|stopped after"):
        download(
            "gsm8k",
            cache_dir=tmp_path,
            base_url=file_server.base_url + "/gsm8k/",
            timeout_s=0.3,
            retries=0,
        )
    assert time.monotonic() - started < 5
    assert not (tmp_path / "gsm8k" / "test.jsonl").exists()


def test_corrupt_cached_file_is_replaced(file_server: FileServer, tmp_path: Path) -> None:
    target = tmp_path / "gsm8k" / "test.jsonl"
    target.parent.mkdir(parents=True)
    target.write_bytes(b"tampered")
    download("gsm8k", cache_dir=tmp_path, base_url=file_server.base_url + "/gsm8k/")
    assert hashlib.sha256(target.read_bytes()).hexdigest() == GSM8K_SHA


def test_load_from_download_equals_bundled(file_server: FileServer, tmp_path: Path) -> None:
    for name, prefix in [
        ("gsm8k", "/gsm8k/"),
        ("humaneval", "/humaneval/"),
        ("truthfulqa", "/truthfulqa/"),
    ]:
        downloaded = load(
            name, source="download", cache_dir=tmp_path, base_url=file_server.base_url + prefix
        )
        assert downloaded.content_hash == load(name).content_hash
    mmlu = load(
        "mmlu",
        subjects=["astronomy"],
        source="download",
        cache_dir=tmp_path,
        base_url=file_server.base_url + "/mmlu/",
    )
    assert mmlu.content_hash == load("mmlu", subjects=["astronomy"]).content_hash
    assert len(mmlu) == 152


def test_unbundled_subject_needs_download(file_server: FileServer, tmp_path: Path) -> None:
    # anatomy is a valid MMLU subject that is not bundled: the mirror lacks it -> clear error.
    with pytest.raises(DownloadError, match=r"not bundled and could not be downloaded.*404"):
        load(
            "mmlu",
            subjects="anatomy",
            cache_dir=tmp_path,
            base_url=file_server.base_url + "/mmlu/",
            timeout_s=5,
        )
    assert _leftovers(tmp_path) == []
    with pytest.raises(DatasetError, match="not bundled with the package"):
        load("gsm8k", split="train", source="bundled")


def test_download_argument_errors(tmp_path: Path) -> None:
    with pytest.raises(DatasetError, match="`timeout_s` must be > 0"):
        download_file("http://127.0.0.1:9/x", tmp_path / "x", sha256="0" * 64, timeout_s=0)
    with pytest.raises(DatasetError, match="unknown dataset 'nope'"):
        download("nope", cache_dir=tmp_path)


async def test_adownload_does_not_block_the_loop(file_server: FileServer, tmp_path: Path) -> None:
    (path,) = await adownload(
        "humaneval", cache_dir=tmp_path, base_url=file_server.base_url + "/humaneval/"
    )
    assert path.name == "HumanEval.jsonl.gz"
    assert hashlib.sha256(path.read_bytes()).hexdigest() == (
        "b796127e635a67f93fb35c04f4cb03cf06f38c8072ee7cee8833d7bee06979ef"
    )
