"""Event stores: rows are buffered and committed in Arrow batches (never row by row)."""

from __future__ import annotations

import os
import re
import threading
import time
import weakref
from abc import ABC, abstractmethod
from collections.abc import Sequence
from pathlib import Path
from types import TracebackType
from typing import Any, Self

import duckdb
import polars as pl
import pyarrow as pa

from crucible.telemetry._errors import StoreClosedError, StoreError
from crucible.telemetry._rows import SpanLike, spans_to_arrow
from crucible.telemetry._schema import EVENT_COLUMNS, EVENT_SCHEMA, arrow_schema, empty_events

__all__ = ["DuckDBStore", "MemoryStore", "Store"]

_IDENT = re.compile(r"[A-Za-z_][A-Za-z0-9_]*\Z")


def _check_thresholds(batch_size: int, flush_interval_s: float) -> None:
    if isinstance(batch_size, bool) or not isinstance(batch_size, int) or batch_size < 1:
        raise StoreError(f"`batch_size` must be a positive integer, got {batch_size!r}")
    if not isinstance(flush_interval_s, int | float) or not flush_interval_s > 0:
        raise StoreError(f"`flush_interval_s` must be a positive number, got {flush_interval_s!r}")


def _run_timer(ref: weakref.ref[Store], stop: threading.Event, interval: float) -> None:
    while not stop.wait(interval / 2):
        store = ref()
        if store is None:
            return
        if time.monotonic() - store._last_flush >= interval and store._pending:
            try:
                store.flush()
            except StoreError:
                return
        del store


class Store(ABC):
    """A place events are committed to, in batches.

    Rows are buffered and committed when ``batch_size`` rows are pending, when
    ``flush_interval_s`` has passed since the last commit (a background thread checks), on
    :meth:`flush`, and on :meth:`close`. A committed batch is durable as the backend allows.
    """

    def __init__(self, *, batch_size: int = 1000, flush_interval_s: float = 1.0) -> None:
        _check_thresholds(batch_size, flush_interval_s)
        self.batch_size = batch_size
        self.flush_interval_s = float(flush_interval_s)
        self._pending: list[tuple[str | None, SpanLike]] = []
        self._lock = threading.Lock()
        self._write_lock = threading.RLock()
        self._closed = False
        self._last_flush = time.monotonic()
        self._stop = threading.Event()
        self._timer: threading.Thread | None = None
        self.batches_committed = 0
        self._committed = threading.Condition()

    @property
    def closed(self) -> bool:
        """Whether :meth:`close` was called."""
        return self._closed

    def _check_open(self, action: str) -> None:
        if self._closed:
            raise StoreClosedError(
                f"cannot {action}: {self!r} is closed; open a new store on the same path to continue"
            )

    def append(self, span: SpanLike, experiment: str | None = None) -> None:
        """Queue an ended span for ``experiment`` (default: its ``crucible.experiment_id``).

        It becomes event rows when its batch is committed: at ``batch_size`` pending spans,
        after ``flush_interval_s``, on :meth:`flush` or on :meth:`close`.
        """
        self._check_open("append")
        with self._lock:
            self._pending.append((experiment, span))
            full = len(self._pending) >= self.batch_size
        if self._timer is None:
            self._start_timer()
        if full:
            self.flush()

    def extend(self, events: pl.DataFrame) -> int:
        """Commit a frame already in the event schema (from an import); returns the rows written."""
        self._check_open("extend")
        if not isinstance(events, pl.DataFrame):
            raise StoreError(f"`events` must be a polars DataFrame, got {type(events).__name__}")
        missing = [c for c in EVENT_COLUMNS if c not in events.columns]
        if missing:
            raise StoreError(
                f"`events` lacks the event columns {missing}; build it with import_events(...) "
                "or select the columns of EVENT_SCHEMA"
            )
        frame = events.select([pl.col(c).cast(t) for c, t in EVENT_SCHEMA.items()])
        self.flush()
        with self._write_lock:
            self._write(frame.to_arrow().cast(arrow_schema()))
            self._count_commit()
        return frame.height

    def flush(self) -> int:
        """Commit every pending span now; returns how many event rows were committed.

        When it returns, every span appended before the call is committed, including a batch
        another thread (the background timer) had already taken.
        """
        # The write lock is taken first and held until the batch is written, so a flush never
        # returns while an earlier batch is still on its way to the backend.
        with self._write_lock:
            with self._lock:
                spans, self._pending = self._pending, []
                self._last_flush = time.monotonic()
            if not spans:
                return 0
            if self._closed and not self._closing:
                raise StoreClosedError(f"cannot flush: {self!r} is closed")
            table = spans_to_arrow(spans)
            self._write(table)
            self._count_commit()
        return int(table.num_rows)

    def _count_commit(self) -> None:
        with self._committed:
            self.batches_committed += 1
            self._committed.notify_all()

    def wait_committed(self, batches: int, timeout: float) -> bool:
        """Block until at least ``batches`` batches are committed or ``timeout`` seconds pass;
        returns whether they were (for tests and shutdown code, not for normal use)."""
        with self._committed:
            return bool(
                self._committed.wait_for(lambda: self.batches_committed >= batches, timeout)
            )

    _closing = False

    def frame(self, columns: Sequence[str] | None = None) -> pl.DataFrame:
        """Every committed event (pending rows are committed first) as a polars DataFrame."""
        self._check_open("read")
        cols = list(EVENT_COLUMNS) if columns is None else list(columns)
        unknown = [c for c in cols if c not in EVENT_SCHEMA]
        if unknown:
            raise StoreError(f"`columns` has unknown names {unknown}; choose from {EVENT_COLUMNS}")
        self.flush()
        with self._write_lock:
            return self._read(cols)

    def __len__(self) -> int:
        return self.frame(["experiment"]).height

    def _start_timer(self) -> None:
        with self._lock:
            if self._timer is not None or self._closed:
                return
            # The thread holds the store weakly, so a store nobody references can be collected
            # (and its connection released) without waiting for interpreter exit.
            self._timer = threading.Thread(
                target=_run_timer,
                args=(weakref.ref(self), self._stop, self.flush_interval_s),
                name=f"crucible-telemetry-flush-{id(self):x}",
                daemon=True,
            )
            self._timer.start()

    def close(self) -> None:
        """Commit pending rows and release the backend; further use raises StoreClosedError."""
        if self._closed:
            return
        self._stop.set()
        if self._timer is not None:
            self._timer.join(timeout=10)
        self._closing = True
        try:
            self.flush()
        finally:
            with self._write_lock:
                self._closed = True
                self._release()

    def __enter__(self) -> Self:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()

    @abstractmethod
    def _write(self, table: pa.Table) -> None: ...

    @abstractmethod
    def _read(self, columns: list[str]) -> pl.DataFrame: ...

    def _release(self) -> None:  # noqa: B027 - nothing to release for in-memory stores
        pass


class MemoryStore(Store):
    """Events kept in memory as Arrow batches: for tests, notebooks and short experiments.

    >>> store = MemoryStore()
    >>> store.frame().height
    0
    """

    def __init__(self, *, batch_size: int = 1000, flush_interval_s: float = 1.0) -> None:
        super().__init__(batch_size=batch_size, flush_interval_s=flush_interval_s)
        self._tables: list[pa.Table] = []

    def __repr__(self) -> str:
        return f"MemoryStore(batches={len(self._tables)})"

    def _write(self, table: pa.Table) -> None:
        self._tables.append(table)

    def _read(self, columns: list[str]) -> pl.DataFrame:
        if not self._tables:
            return empty_events().select(columns)
        table = pa.concat_tables(self._tables)
        if len(self._tables) > 1:
            self._tables = [table]
        return _frame(table.select(columns))

    def _release(self) -> None:
        self._tables = []


def _arrow(result: Any) -> pa.Table:
    # DuckDB >= 1.4 names it to_arrow_table; older releases fetch_arrow_table.
    fetch = getattr(result, "to_arrow_table", None) or result.fetch_arrow_table
    table = fetch()
    return table.read_all() if isinstance(table, pa.RecordBatchReader) else table


def _frame(table: pa.Table) -> pl.DataFrame:
    return pl.DataFrame(table)


_DUCK_TYPES = {
    pl.Datetime("us", "UTC"): "TIMESTAMPTZ",
    pl.String(): "VARCHAR",
    pl.Int64(): "BIGINT",
    pl.Float64(): "DOUBLE",
    pl.Boolean(): "BOOLEAN",
}


class DuckDBStore(Store):
    """Events in a DuckDB file: each batch is one ``INSERT … SELECT`` from an Arrow table, one
    transaction, so every committed batch survives a crash (kill -9) of the writing process.

    Args:
        path: the database file (created if missing; its directory must exist).
        table: the table name (a SQL identifier).
        batch_size: commit when this many rows are pending.
        flush_interval_s: commit pending rows at least this often.

    Raises:
        StoreError: ``path`` is a directory, its directory is missing or not writable, the file
            is not a DuckDB database, or ``table`` exists with another schema.
    """

    def __init__(
        self,
        path: str | os.PathLike[str],
        *,
        table: str = "events",
        batch_size: int = 1000,
        flush_interval_s: float = 1.0,
    ) -> None:
        super().__init__(batch_size=batch_size, flush_interval_s=flush_interval_s)
        if not isinstance(table, str) or not _IDENT.match(table):
            raise StoreError(
                f"`table` must be a SQL identifier (letters, digits, underscore), got {table!r}"
            )
        self.path = Path(path)
        self.table = table
        self._check_path()
        existed = self.path.exists()
        try:
            self._con = duckdb.connect(str(self.path))
        except duckdb.Error as exc:
            if not existed:
                for leftover in (self.path, self.path.with_name(self.path.name + ".wal")):
                    leftover.unlink(missing_ok=True)
            raise StoreError(
                f"cannot open DuckDB store `path` {str(self.path)!r}: {exc}; give a new file path "
                "or an existing DuckDB database"
            ) from exc
        try:
            self._ensure_table()
        except BaseException:
            self._con.close()
            raise
        # A store dropped or left open at interpreter exit still releases its connection.
        self._finalizer = weakref.finalize(self, self._con.close)

    def __repr__(self) -> str:
        return f"DuckDBStore({str(self.path)!r}, table={self.table!r})"

    def _check_path(self) -> None:
        p = self.path
        if p.is_dir():
            raise StoreError(
                f"`path` {str(p)!r} is a directory; give a file inside it, e.g. "
                f"{str(p / 'events.duckdb')!r}"
            )
        parent = p.parent
        if not parent.exists():
            raise StoreError(
                f"`path` {str(p)!r}: directory {str(parent)!r} does not exist; create it first"
            )
        if not parent.is_dir():
            raise StoreError(
                f"`path` {str(p)!r}: {str(parent)!r} is not a directory; choose a path in a directory"
            )
        target = p if p.exists() else parent
        if not os.access(target, os.W_OK):
            raise StoreError(
                f"`path` {str(p)!r} is not writable; fix the permissions of {str(target)!r} or "
                "choose another path"
            )

    def _ensure_table(self) -> None:
        existing = self._con.execute(
            "SELECT column_name, data_type FROM information_schema.columns "
            "WHERE table_name = ? ORDER BY ordinal_position",
            [self.table],
        ).fetchall()
        expected = [(c, _DUCK_TYPES[t]) for c, t in EVENT_SCHEMA.items()]
        if not existing:
            cols = ", ".join(f'"{c}" {t}' for c, t in expected)
            self._con.execute(f'CREATE TABLE "{self.table}" ({cols})')
            return
        got = [
            (str(c), str(t).replace("TIMESTAMP WITH TIME ZONE", "TIMESTAMPTZ")) for c, t in existing
        ]
        if got != expected:
            self._con.close()
            raise StoreError(
                f"table {self.table!r} in {str(self.path)!r} has columns {got}, not the event "
                "schema; pass another `table=` or another `path`"
            )

    def _write(self, table: pa.Table) -> None:
        self._con.register("_crucible_batch", table)
        try:
            self._con.execute(f'INSERT INTO "{self.table}" SELECT * FROM _crucible_batch')
        finally:
            self._con.unregister("_crucible_batch")

    def _read(self, columns: list[str]) -> pl.DataFrame:
        cols = ", ".join(f'"{c}"' for c in columns)
        table = _arrow(self._con.sql(f'SELECT {cols} FROM "{self.table}"'))
        return _frame(table).cast({c: EVENT_SCHEMA[c] for c in columns})

    def sql(self, query: str, parameters: Sequence[Any] | None = None) -> pl.DataFrame:
        """Run a read query against the store (pending rows are committed first); ``?``
        placeholders take ``parameters``.

        Example::

            store.sql("SELECT model, count(*) AS n FROM events WHERE experiment = ? GROUP BY 1", ["e1"])
        """
        self._check_open("query")
        self.flush()
        with self._write_lock:
            if parameters:
                return _frame(_arrow(self._con.sql(query, params=list(parameters))))
            return _frame(_arrow(self._con.sql(query)))

    def _release(self) -> None:
        self._finalizer.detach()
        self._con.close()
