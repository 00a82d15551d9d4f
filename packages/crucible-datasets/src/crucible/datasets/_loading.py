"""``load``: built-in datasets (bundled or downloaded) and custom files, pinned by hash."""

from __future__ import annotations

import hashlib
import json
import os
from collections.abc import Mapping, Sequence
from enum import StrEnum
from pathlib import Path
from typing import Any

import polars as pl

from crucible.core import DatasetError, Item, ValidationError
from crucible.datasets._builtin import (
    parse_gsm8k,
    parse_humaneval,
    parse_mmlu,
    parse_truthfulqa_mc1,
)
from crucible.datasets._catalog import (
    DatasetSpec,
    bundled_digest,
    bundled_mmlu_subjects,
    data_root,
    dataset_spec,
    mmlu_subjects,
)
from crucible.datasets._dataset import Dataset, _decode_metadata
from crucible.datasets._download import download
from crucible.datasets._errors import ChecksumMismatchError, DownloadError, UnknownDatasetError
from crucible.datasets._sampling import sample

__all__ = ["DataSource", "items_from_frame", "load"]

_CUSTOM_SUFFIXES = (".jsonl", ".ndjson", ".csv", ".parquet")


class DataSource(StrEnum):
    """Where ``load`` reads a built-in dataset from."""

    AUTO = "auto"  # the bundled copy when there is one, else the download cache
    BUNDLED = "bundled"  # only the copy shipped in the package (never the network)
    DOWNLOAD = "download"  # the verified download cache, fetching what is missing


class InvalidArgumentError(DatasetError, ValidationError):
    """An argument of ``load`` is invalid."""


def load(
    name: str | os.PathLike[str],
    *,
    split: str | None = None,
    subjects: str | Sequence[str] | None = None,
    limit: int | None = None,
    seed: int | None = None,
    cache_dir: str | os.PathLike[str] | None = None,
    sha256: str | None = None,
    columns: Mapping[str, str] | None = None,
    metadata: Sequence[str] | None = None,
    source: DataSource | str = DataSource.AUTO,
    base_url: str | None = None,
    timeout_s: float = 30.0,
) -> Dataset:
    """Load a built-in dataset or a custom file as a :class:`Dataset`.

    Built-in datasets: ``"mmlu"``, ``"gsm8k"``, ``"humaneval"``, ``"truthfulqa"`` (MC1). The
    subsets shipped with the package load offline; other splits and subjects are downloaded
    once into the verified cache. Every source file is checked against its pinned SHA-256.

    Args:
        name: a built-in name, or the path of a ``.jsonl``, ``.csv`` or ``.parquet`` file.
        split: the split (default ``"test"``; ``"validation"`` for TruthfulQA).
        subjects: MMLU only: a subject, a list of subjects, or ``"all"`` for all 57
            (default: the 8 bundled subjects).
        limit: keep at most this many items (the first ones, or a seeded sample with ``seed``).
        seed: with ``limit``, draw a seeded random sample; without, shuffle the order.
        cache_dir: the download cache (default ``~/.cache/crucible/datasets``).
        sha256: the expected :attr:`Dataset.content_hash` (for custom files the file's own
            SHA-256, as printed by ``sha256sum``, is accepted too).
        columns: custom files: Item field → column name (``{"input": "question"}``).
        metadata: custom files: the columns kept as metadata (default: all others).
        source: ``"auto"``, ``"bundled"`` or ``"download"`` (see :class:`DataSource`).
        base_url: a mirror of the dataset's files (still checked against the pins).

    Raises:
        UnknownDatasetError: unknown name, split or subject (the message lists valid ones).
        ChecksumMismatchError: a file or the dataset does not match its pinned hash.
        DatasetError: malformed or empty file, missing columns, bad argument.

    Example:
        >>> ds = load("gsm8k", limit=3)
        >>> len(ds), ds[0].expected
        (3, '18')
    """
    if limit is not None and (isinstance(limit, bool) or not isinstance(limit, int) or limit <= 0):
        raise InvalidArgumentError(f"`limit` must be a positive int or None, got {limit!r}")
    try:
        source = DataSource(source)
    except ValueError:
        raise InvalidArgumentError(
            f"`source` must be one of {', '.join(s.value for s in DataSource)}, got {source!r}"
        ) from None
    path_like = isinstance(name, os.PathLike) or str(name).lower().endswith(_CUSTOM_SUFFIXES)
    file_digest: str | None = None
    if path_like:
        if subjects is not None:
            raise InvalidArgumentError("`subjects` applies to MMLU only, not to custom files")
        dataset, file_digest = _load_custom(Path(name), split, columns, metadata)
    else:
        if columns is not None or metadata is not None:
            raise InvalidArgumentError(
                "`columns` and `metadata` apply to custom files only; "
                f"{name!r} is a built-in dataset"
            )
        reader = _Reader(source, cache_dir, base_url, timeout_s)
        dataset = _load_builtin(str(name), split, subjects, reader)
    if seed is not None:
        n = len(dataset) if limit is None else min(limit, len(dataset))
        dataset = sample(dataset, n, seed=seed)
    elif limit is not None:
        dataset = dataset[:limit]
    if sha256 is not None:
        accepted = {dataset.content_hash} | ({file_digest} if file_digest else set())
        if sha256.lower() not in accepted:
            raise ChecksumMismatchError(
                f"`sha256` pin {sha256} does not match dataset {dataset.name!r}: its content "
                f"hash is {dataset.content_hash}"
                + (f" and the file's SHA-256 is {file_digest}" if file_digest else "")
                + "; the data changed, or the pin is for other arguments (split/subjects/limit)",
                expected=sha256,
                actual=dataset.content_hash,
            )
    return dataset


class _Reader:
    """Reads one source file of a built-in dataset: bundled copy or verified cache."""

    def __init__(
        self,
        source: DataSource,
        cache_dir: str | os.PathLike[str] | None,
        base_url: str | None,
        timeout_s: float,
    ) -> None:
        self.source = source
        self.cache_dir = cache_dir
        self.base_url = base_url
        self.timeout_s = timeout_s
        self.files: dict[str, str] = {}

    def read(
        self, spec: DatasetSpec, bundled: str | None, split: str, subjects: Sequence[str] = ()
    ) -> list[bytes]:
        if bundled is not None and self.source is not DataSource.DOWNLOAD:
            data = data_root().joinpath(bundled).read_bytes()
            actual = hashlib.sha256(data).hexdigest()
            expected = bundled_digest(bundled)
            if actual != expected:
                raise ChecksumMismatchError(
                    f"bundled file {bundled} has SHA-256 {actual}, pinned {expected}: the "
                    "installation is corrupt; reinstall crucible-datasets",
                    expected=expected,
                    actual=actual,
                )
            self.files[bundled] = actual
            return [data]
        if self.source is DataSource.BUNDLED:
            raise DatasetError(
                f"{spec.name} split {split!r}{' subjects ' + ', '.join(subjects) if subjects else ''}"
                " is not bundled with the package; use source='auto' or 'download' to fetch it"
            )
        try:
            paths = download(
                spec.name,
                split=split,
                subjects=subjects,
                cache_dir=self.cache_dir,
                base_url=self.base_url,
                timeout_s=self.timeout_s,
            )
        except DownloadError as exc:
            raise DownloadError(
                f"{spec.name} split {split!r} is not bundled and could not be downloaded: {exc}"
            ) from exc
        out = []
        for path in paths:
            data = path.read_bytes()
            self.files[f"{spec.name}/{path.name}"] = hashlib.sha256(data).hexdigest()
            out.append(data)
        return out


def _load_builtin(
    name: str, split: str | None, subjects: str | Sequence[str] | None, reader: _Reader
) -> Dataset:
    spec = dataset_spec(name)
    split = split or spec.default_split
    if split not in spec.splits:
        raise UnknownDatasetError(
            f"unknown split {split!r} for {name}: valid splits are {', '.join(spec.splits)}"
        )
    if subjects is not None and name != "mmlu":
        raise InvalidArgumentError(f"`subjects` applies to MMLU only, not to {name!r}")
    items: list[Item] = []
    if name == "mmlu":
        for subject in _mmlu_subjects(subjects):
            bundled = f"mmlu/{split}/{subject}_{split}.csv"
            is_bundled = split in spec.bundled_splits and subject in bundled_mmlu_subjects()
            (data,) = reader.read(spec, bundled if is_bundled else None, split, [subject])
            items += parse_mmlu(data, subject=subject, split=split, where=f"mmlu {bundled}")
    elif name == "gsm8k":
        gsm8k_file = f"gsm8k/{split}.jsonl" if split in spec.bundled_splits else None
        (data,) = reader.read(spec, gsm8k_file, split)
        items = parse_gsm8k(data, split=split, where=f"gsm8k/{split}.jsonl")
    elif name == "humaneval":
        (data,) = reader.read(spec, "humaneval/HumanEval.jsonl.gz", split)
        items = parse_humaneval(data, where="humaneval/HumanEval.jsonl.gz")
    else:
        csv_data, mc_data = _read_truthfulqa(spec, reader, split)
        items = parse_truthfulqa_mc1(csv_data, mc_data, where="truthfulqa")
    return Dataset(
        name,
        items,
        split=split,
        version=spec.version,
        source=spec.source,
        licence=spec.licence,
        citation=spec.citation,
        files=reader.files,
    )


def _read_truthfulqa(spec: DatasetSpec, reader: _Reader, split: str) -> tuple[bytes, bytes]:
    if reader.source is DataSource.DOWNLOAD:
        csv_data, mc_data = reader.read(spec, None, split)
        return csv_data, mc_data
    (csv_data,) = reader.read(spec, "truthfulqa/TruthfulQA.csv", split)
    (mc_data,) = reader.read(spec, "truthfulqa/mc_task.json", split)
    return csv_data, mc_data


def _mmlu_subjects(subjects: str | Sequence[str] | None) -> list[str]:
    if subjects is None:
        return list(bundled_mmlu_subjects())
    if subjects == "all":
        return list(mmlu_subjects())
    wanted = [subjects] if isinstance(subjects, str) else list(subjects)
    if not wanted:
        raise InvalidArgumentError("`subjects` is empty: pass None, 'all' or subject names")
    unknown = [s for s in wanted if s not in mmlu_subjects()]
    if unknown:
        bundled = ", ".join(bundled_mmlu_subjects())
        raise UnknownDatasetError(
            f"unknown MMLU subject(s) {', '.join(map(repr, unknown))}; valid subjects: "
            f"{', '.join(mmlu_subjects())} (bundled for offline use: {bundled})"
        )
    return list(dict.fromkeys(wanted))


def _load_custom(
    path: Path,
    split: str | None,
    columns: Mapping[str, str] | None,
    metadata: Sequence[str] | None,
) -> tuple[Dataset, str]:
    if path.suffix.lower() not in _CUSTOM_SUFFIXES:
        raise DatasetError(
            f"cannot read {path}: unsupported file type {path.suffix or '(none)'!r}; use one "
            f"of {', '.join(_CUSTOM_SUFFIXES)}"
        )
    if not path.is_file():
        raise DatasetError(f"dataset file {path} does not exist (or is not a file)")
    data = path.read_bytes()
    digest = hashlib.sha256(data).hexdigest()
    if not data.strip():
        raise DatasetError(f"dataset file {path} is empty")
    suffix = path.suffix.lower()
    where = str(path)
    try:
        if suffix in (".jsonl", ".ndjson"):
            frame = pl.DataFrame(_jsonl_rows(data, where), infer_schema_length=None, strict=False)
        elif suffix == ".csv":
            frame = pl.read_csv(data, infer_schema=False)
        else:
            frame = pl.read_parquet(data)
    except DatasetError:
        raise
    except Exception as exc:  # polars raises several exception types for bad files
        raise DatasetError(f"could not read {where} as {suffix[1:]}: {exc}") from None
    if frame.height == 0:
        raise DatasetError(f"dataset file {path} has a header but no rows")
    mapping = dict(columns or {})
    unknown_fields = set(mapping) - {"id", "input", "expected"}
    if unknown_fields:
        raise InvalidArgumentError(
            f"`columns` keys must be Item fields id, input, expected; got {sorted(unknown_fields)}"
        )
    expected_col: str | None = mapping.get("expected", "expected")
    if "expected" not in mapping and expected_col not in frame.columns:
        expected_col = None
    items = items_from_frame(
        frame,
        id=mapping.get("id", "id"),
        input=mapping.get("input", "input"),
        expected=expected_col,
        metadata=metadata,
        where=where,
        id_required="id" in mapping,
    )
    dataset = Dataset(path.stem, items, split=split, source=str(path), files={path.name: digest})
    return dataset, digest


def _jsonl_rows(data: bytes, where: str) -> list[dict[str, Any]]:
    from crucible.datasets._builtin import _jsonl

    return [row for _, row in _jsonl(data, where)]


def items_from_frame(
    frame: pl.DataFrame,
    *,
    id: str = "id",
    input: str = "input",
    expected: str | None = "expected",
    metadata: Sequence[str] | None = None,
    where: str = "dataframe",
    id_required: bool = False,
) -> list[Item]:
    """Items from a DataFrame's rows, one per row, with named-column errors."""
    needed = [input] + ([expected] if expected else []) + ([id] if id_required else [])
    needed += list(metadata or [])
    missing = [c for c in needed if c not in frame.columns]
    if missing:
        raise DatasetError(
            f"{where}: missing column(s) {', '.join(map(repr, missing))}; available columns: "
            f"{', '.join(map(repr, frame.columns))}. Map them with "
            "columns={'id': ..., 'input': ..., 'expected': ...}"
        )
    has_id = id in frame.columns
    used = {id, input, expected}
    meta_cols = (
        list(metadata) if metadata is not None else [c for c in frame.columns if c not in used]
    )
    items = []
    for number, row in enumerate(frame.iter_rows(named=True), start=1):
        meta: dict[str, Any] = {}
        for col in meta_cols:
            if col == "metadata":
                meta.update(_decode_metadata(row[col]))
            else:
                meta[col] = row[col]
        raw_id = row[id] if has_id else f"row-{number}"
        if raw_id is None or raw_id == "":
            raise DatasetError(f"{where} row {number}: column {id!r} is empty; ids are required")
        try:
            items.append(
                Item(
                    id=raw_id if isinstance(raw_id, str | int) else json.dumps(raw_id),
                    input=row[input],
                    expected=row[expected] if expected else None,
                    metadata=meta,
                )
            )
        except ValidationError as exc:
            raise DatasetError(f"{where} row {number}: {exc}") from None
    ids = [it.id for it in items]
    if len(set(ids)) != len(ids):
        seen: set[str] = set()
        dup = next(i for i in ids if i in seen or seen.add(i))  # type: ignore[func-returns-value]
        raise DatasetError(f"{where}: duplicate id {dup!r} in column {id!r}; ids must be unique")
    return items
