"""A directory of chains, one JSON file each, written atomically."""

from __future__ import annotations

import builtins
import json
import os
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import attrs

from crucible.trace._chain import Chain, _chain_safe_id
from crucible.trace._errors import ChainStoreError, EventValidationError
from crucible.trace._event import Event
from crucible.trace._files import write_atomic

__all__ = ["ChainStore", "ChainSummary", "SearchHit"]


@attrs.frozen
class ChainSummary:
    """What :meth:`ChainStore.list` tells about a stored chain without loading its events."""

    id: str
    name: str
    created: datetime
    n_events: int


@attrs.frozen
class SearchHit:
    """One event found by :meth:`ChainStore.search`, with the chain it belongs to."""

    chain_id: str
    chain_name: str
    event: Event


def _utc(value: datetime | str | None, argument: str) -> datetime | None:
    if value is None:
        return None
    if isinstance(value, str):
        try:
            value = datetime.fromisoformat(value)
        except ValueError:
            raise ChainStoreError(f"`{argument}` must be an ISO-8601 time, got {value!r}") from None
    if not isinstance(value, datetime):
        raise ChainStoreError(f"`{argument}` must be a datetime, got {value!r}")
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value


class ChainStore:
    """Chains saved as ``<directory>/<chain id>.json``.

    Writes go to a temporary file in the same directory and are renamed into place, so a crash
    never leaves a half-written chain.

    >>> import tempfile
    >>> store = ChainStore(tempfile.mkdtemp())
    >>> chain = Chain(name="demo")
    >>> _ = chain.add(type="pattern_applied", decision="memoise")
    >>> store.load(store.save(chain).stem) == chain
    True

    Raises:
        ChainStoreError: ``directory`` is a file, or cannot be created.
    """

    def __init__(self, directory: str | os.PathLike[str], *, create: bool = True) -> None:
        self.directory = Path(directory)
        if self.directory.exists() and not self.directory.is_dir():
            raise ChainStoreError(
                f"`directory` {str(self.directory)!r} is a file; give a directory for the chains"
            )
        if not self.directory.exists():
            if not create:
                raise ChainStoreError(
                    f"`directory` {str(self.directory)!r} does not exist; create it or pass "
                    "create=True"
                )
            try:
                self.directory.mkdir(parents=True)
            except OSError as exc:
                raise ChainStoreError(
                    f"cannot create `directory` {str(self.directory)!r}: {exc.strerror}"
                ) from exc

    def __repr__(self) -> str:
        return f"ChainStore({str(self.directory)!r})"

    def _path(self, chain_id: str) -> Path:
        try:
            return self.directory / f"{_chain_safe_id(chain_id)}.json"
        except EventValidationError as exc:
            raise ChainStoreError(str(exc)) from None

    def save(self, chain: Chain) -> Path:
        """Write ``chain`` (replacing an earlier save of the same id); returns the file."""
        if not isinstance(chain, Chain):
            raise ChainStoreError(f"`chain` must be a Chain, got {type(chain).__name__}")
        text = json.dumps(chain.to_dict(), ensure_ascii=False, indent=1)
        return write_atomic(self._path(chain.id), text + "\n")

    def load(self, chain_id: str) -> Chain:
        """The chain saved under ``chain_id``.

        Raises:
            ChainStoreError: no such chain, or its file is not valid chain JSON (the message
                names the file, line and column).
        """
        path = self._path(chain_id)
        if not path.is_file():
            raise ChainStoreError(
                f"no chain {chain_id!r} in {str(self.directory)!r}; list() shows the saved ids"
            )
        return self._read(path)

    def _read(self, path: Path) -> Chain:
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
        except json.JSONDecodeError as exc:
            raise ChainStoreError(
                f"{path}:{exc.lineno}:{exc.colno}: not valid JSON ({exc.msg}); restore the file "
                "or delete it"
            ) from None
        try:
            return Chain.from_dict(data)
        except EventValidationError as exc:
            raise ChainStoreError(f"{path}: not a valid chain: {exc}") from None

    def delete(self, chain_id: str) -> None:
        """Remove a saved chain."""
        path = self._path(chain_id)
        if not path.is_file():
            raise ChainStoreError(f"no chain {chain_id!r} in {str(self.directory)!r}")
        path.unlink()

    def _chains(self) -> Iterator[Chain]:
        for path in sorted(self.directory.glob("*.json")):
            yield self._read(path)

    def list(self) -> list[ChainSummary]:
        """Every saved chain, oldest first."""
        out = [ChainSummary(c.id, c.name, c.created, len(c.events)) for c in self._chains()]
        return sorted(out, key=lambda s: (s.created, s.id))

    def search(
        self,
        *,
        type: str | None = None,
        min_confidence: float | None = None,
        max_confidence: float | None = None,
        text: str | None = None,
        since: datetime | str | None = None,
        until: datetime | str | None = None,
        trace_id: str | None = None,
        span_id: str | None = None,
    ) -> builtins.list[SearchHit]:
        """Events of all saved chains matching every given criterion.

        Args:
            type: the event type.
            min_confidence, max_confidence: inclusive bounds (events without a confidence never
                match a bound).
            text: case-insensitive substring of the decision, reasoning or an alternative.
            since, until: inclusive bounds on the event time.
            trace_id, span_id: the model call the events came from (open a chain from a span).
        """
        for name, bound in (("min_confidence", min_confidence), ("max_confidence", max_confidence)):
            if bound is not None and (not isinstance(bound, int | float) or not 0 <= bound <= 1):
                raise ChainStoreError(f"`{name}` must be in [0, 1], got {bound!r}")
        start, end = _utc(since, "since"), _utc(until, "until")
        needle = text.lower() if text else None
        hits: builtins.list[SearchHit] = []
        for chain in self._chains():
            for event in chain.events:
                if _matches(
                    event,
                    type,
                    min_confidence,
                    max_confidence,
                    needle,
                    start,
                    end,
                    trace_id,
                    span_id,
                ):
                    hits.append(SearchHit(chain.id, chain.name, event))
        return sorted(hits, key=lambda h: h.event.time)


def _matches(
    event: Event,
    type_: str | None,
    low: float | None,
    high: float | None,
    needle: str | None,
    start: datetime | None,
    end: datetime | None,
    trace_id: str | None,
    span_id: str | None,
) -> bool:
    if type_ is not None and event.type != type_:
        return False
    if low is not None and (event.confidence is None or event.confidence < low):
        return False
    if high is not None and (event.confidence is None or event.confidence > high):
        return False
    if needle is not None:
        haystack = " ".join([event.decision, event.reasoning, *event.alternatives]).lower()
        if needle not in haystack:
            return False
    if start is not None and event.time < start:
        return False
    if end is not None and event.time > end:
        return False
    if trace_id is not None and event.trace_id != trace_id.lower():
        return False
    return not (span_id is not None and event.span_id != span_id.lower())
