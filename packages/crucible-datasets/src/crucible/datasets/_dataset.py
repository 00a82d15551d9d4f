"""``Dataset``: items plus the facts needed to cite, pin and reproduce them."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterator, Mapping, Sequence
from typing import Any, overload

import attrs
import polars as pl

from crucible.core import Item, ValidationError

__all__ = ["Dataset", "content_hash"]


def _canonical(value: Any) -> str:
    return json.dumps(value, sort_keys=True, ensure_ascii=False, separators=(",", ":"), default=str)


def content_hash(items: Sequence[Item]) -> str:
    """SHA-256 of a set of items, independent of their order and of the machine.

    Each item is serialised as canonical JSON (sorted keys, UTF-8, no whitespace); the digests of
    the items, sorted, are hashed together. Two datasets holding the same items in any order
    have the same hash.

    Example:
        >>> a, b = Item("1", "x", "y"), Item("2", "z", "w")
        >>> content_hash([a, b]) == content_hash([b, a])
        True
    """
    digests = sorted(hashlib.sha256(_canonical(it.to_dict()).encode()).digest() for it in items)
    outer = hashlib.sha256()
    for digest in digests:
        outer.update(digest)
    return outer.hexdigest()


def _str_dict(value: Mapping[str, str]) -> dict[str, str]:
    return {str(k): str(v) for k, v in value.items()}


def _items(value: Sequence[Item]) -> tuple[Item, ...]:
    items = tuple(value)
    for index, item in enumerate(items):
        if not isinstance(item, Item):
            raise ValidationError(
                f"Dataset `items[{index}]` must be a crucible.core.Item, got {type(item).__name__}"
            )
    seen: set[str] = set()
    for item in items:
        if item.id in seen:
            raise ValidationError(
                f"Dataset `items` has duplicate id {item.id!r}: ids must be unique within a dataset"
            )
        seen.add(item.id)
    return items


@attrs.frozen(slots=True)
class Dataset:
    """An immutable, hashable-by-content collection of :class:`~crucible.core.Item`.

    Attributes:
        name: the dataset's name (``"mmlu"``, or a file stem for custom files).
        items: the items, in load order.
        split: the split the items come from (``"test"``, ...), or ``None``.
        version: the upstream version (a commit, a release), or ``None``.
        source: where the data comes from.
        licence: the data's licence.
        citation: how to cite the data.
        files: SHA-256 of every source file read (path → digest).
        content_hash: :func:`content_hash` of ``items`` (order-independent).

    Example:
        >>> ds = Dataset("toy", [Item("1", "2+2?", "4")])
        >>> len(ds), ds[0].expected
        (1, '4')
    """

    name: str
    items: tuple[Item, ...] = attrs.field(converter=_items)
    split: str | None = None
    version: str | None = None
    source: str | None = None
    licence: str | None = None
    citation: str | None = None
    files: dict[str, str] = attrs.field(factory=dict, converter=_str_dict)
    content_hash: str = attrs.field(init=False)

    def __attrs_post_init__(self) -> None:
        object.__setattr__(self, "content_hash", content_hash(self.items))

    def __len__(self) -> int:
        return len(self.items)

    def __iter__(self) -> Iterator[Item]:
        return iter(self.items)

    @overload
    def __getitem__(self, index: int) -> Item: ...
    @overload
    def __getitem__(self, index: slice) -> Dataset: ...
    def __getitem__(self, index: int | slice) -> Item | Dataset:
        if isinstance(index, slice):
            return self.with_items(self.items[index])
        return self.items[index]

    @property
    def n_items(self) -> int:
        return len(self.items)

    @property
    def ids(self) -> list[str]:
        return [item.id for item in self.items]

    def with_items(self, items: Sequence[Item]) -> Dataset:
        """A dataset with the same metadata and other items (a subset, a sample, a fold)."""
        return Dataset(
            self.name,
            items,
            split=self.split,
            version=self.version,
            source=self.source,
            licence=self.licence,
            citation=self.citation,
            files=self.files,
        )

    def get(self, item_id: str) -> Item:
        """The item with id ``item_id``; raises :class:`KeyError` naming it when absent."""
        for item in self.items:
            if item.id == item_id:
                return item
        raise KeyError(f"no item with id {item_id!r} in dataset {self.name!r}")

    def info(self) -> dict[str, Any]:
        """The dataset's metadata (everything but the items), JSON-compatible."""
        return {
            "name": self.name,
            "split": self.split,
            "version": self.version,
            "source": self.source,
            "licence": self.licence,
            "citation": self.citation,
            "n_items": len(self.items),
            "content_hash": self.content_hash,
            "files": dict(self.files),
        }

    def to_dict(self) -> dict[str, Any]:
        return {**self.info(), "items": [item.to_dict() for item in self.items]}

    def __str__(self) -> str:
        split = f" [{self.split}]" if self.split else ""
        return (
            f"Dataset {self.name}{split}: {len(self.items)} items, "
            f"sha256 {self.content_hash[:16]}…, licence {self.licence or 'unknown'}"
        )

    def to_polars(self) -> pl.DataFrame:
        """One row per item: ``id``, ``input`` and ``expected`` (non-string values as JSON
        text), ``metadata`` (JSON text, the full mapping) and one column per scalar metadata key
        (``subject``, ``entry_point``, ...) for filtering and grouping.

        :meth:`from_polars` reverses it (the ``metadata`` JSON column restores the mapping).
        """
        rows = [item.to_dict() for item in self.items]
        keys = sorted({key for row in rows for key in row["metadata"]})
        data: dict[str, list[Any]] = {
            "id": [row["id"] for row in rows],
            "input": [_cell(row["input"]) for row in rows],
            "expected": [_cell(row["expected"]) for row in rows],
            "metadata": [_canonical(row["metadata"]) for row in rows],
        }
        for key in keys:
            values = [row["metadata"].get(key) for row in rows]
            scalar = all(v is None or isinstance(v, str | int | float | bool) for v in values)
            if scalar and key not in data:
                data[key] = values
        return pl.DataFrame(data, strict=False)

    @classmethod
    def from_polars(
        cls,
        frame: pl.DataFrame,
        *,
        name: str = "dataframe",
        id: str = "id",
        input: str = "input",
        expected: str | None = "expected",
        metadata: Sequence[str] | None = None,
        **info: Any,
    ) -> Dataset:
        """Build a dataset from a DataFrame, mapping columns to :class:`Item` fields.

        ``metadata`` lists the columns kept as item metadata (default: every other column; a
        ``metadata`` column of JSON text, as written by :meth:`to_polars`, is decoded).
        ``info`` sets ``split``, ``version``, ``source``, ``licence``, ``citation``.
        """
        from crucible.datasets._loading import items_from_frame

        items = items_from_frame(
            frame, id=id, input=input, expected=expected, metadata=metadata, where=name
        )
        return cls(name, items, **info)


def _cell(value: Any) -> Any:
    if value is None or isinstance(value, str):
        return value
    return _canonical(value)


def _decode_metadata(text: Any) -> Mapping[str, Any]:
    if text is None:
        return {}
    decoded = json.loads(text) if isinstance(text, str) else text
    if not isinstance(decoded, Mapping):
        raise ValidationError(f"`metadata` column must hold JSON objects, got {text!r}")
    return decoded
