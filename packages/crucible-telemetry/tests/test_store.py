from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
import threading
from datetime import UTC, datetime
from pathlib import Path

import duckdb
import polars as pl
import pytest

from crucible.telemetry import (
    EVENT_SCHEMA,
    DuckDBStore,
    MemoryStore,
    StoreClosedError,
    StoreError,
    capture,
)

from .conftest import emit_call


def _fill(store: DuckDBStore | MemoryStore, n: int, *, experiment: str = "exp") -> None:
    with capture(experiment, store=store):
        for i in range(n):
            emit_call(item_id=f"q{i}", latency_ms=float(i))


def test_memory_store_commits_in_batches_of_batch_size() -> None:
    store = MemoryStore(batch_size=3, flush_interval_s=3600)
    cap = capture("exp", store=store)
    with cap:
        for i in range(7):
            emit_call(item_id=f"q{i}")
        assert store.batches_committed == 2  # 6 rows committed, 1 pending
    assert store.batches_committed == 3  # the pending row was committed on exit
    assert store.frame().height == 7


def test_time_threshold_commits_pending_rows_in_the_background() -> None:
    store = MemoryStore(batch_size=10_000, flush_interval_s=0.05)
    with capture("exp", store=store):
        emit_call()
        # Not full, no flush asked: only the background timer can commit it.
        assert store.wait_committed(1, timeout=10)
        assert store.frame().height == 1
    store.close()


def test_duckdb_store_round_trips_the_schema(tmp_path: Path) -> None:
    path = tmp_path / "events.duckdb"
    with DuckDBStore(path, batch_size=4) as store:
        _fill(store, 10)
        frame = store.frame()
        assert store.batches_committed == 3
    assert dict(frame.schema) == EVENT_SCHEMA
    assert frame.height == 10
    assert sorted(frame["latency_ms"].to_list()) == [float(i) for i in range(10)]
    assert abs(frame["time"][0] - datetime.now(UTC)).total_seconds() < 3600
    with DuckDBStore(path) as again:  # reopening keeps what was committed and appends after it
        _fill(again, 2, experiment="exp2")
        counts = again.sql("SELECT experiment, count(*) AS n FROM events GROUP BY 1 ORDER BY 1")
    assert counts.rows() == [("exp", 10), ("exp2", 2)]


def test_duckdb_store_accepts_concurrent_threads(tmp_path: Path) -> None:
    with DuckDBStore(tmp_path / "t.duckdb", batch_size=7) as store:
        threads = [
            threading.Thread(target=_fill, args=(store, 40), kwargs={"experiment": f"e{i}"})
            for i in range(4)
        ]
        for t in threads:
            t.start()
        for t in threads:
            t.join(20)
        frame = store.frame()
    assert frame.group_by("experiment").len().sort("experiment")["len"].to_list() == [40] * 4


def test_path_is_a_directory(tmp_path: Path) -> None:
    with pytest.raises(StoreError, match=r"is a directory; give a file inside it"):
        DuckDBStore(tmp_path)
    assert list(tmp_path.iterdir()) == []


def test_parent_missing_or_not_a_directory(tmp_path: Path) -> None:
    with pytest.raises(StoreError, match="does not exist; create it first"):
        DuckDBStore(tmp_path / "missing" / "e.duckdb")
    blocker = tmp_path / "file.txt"
    blocker.write_text("x")
    with pytest.raises(StoreError, match="is not a directory"):
        DuckDBStore(blocker / "e.duckdb")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["file.txt"]


def test_unwritable_directory(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    locked = tmp_path / "locked"
    locked.mkdir()
    real_access = os.access
    # Permission bits do not stop root, so the check is exercised through os.access itself.
    monkeypatch.setattr(
        os, "access", lambda p, mode: False if Path(p) == locked else real_access(p, mode)
    )
    with pytest.raises(StoreError, match="is not writable; fix the permissions"):
        DuckDBStore(locked / "e.duckdb")
    assert list(locked.iterdir()) == []


@pytest.mark.skipif(not Path("/proc/self").exists(), reason="needs Linux /proc")
def test_path_where_no_file_can_be_created() -> None:
    with pytest.raises(StoreError, match=r"cannot open DuckDB store `path` '/proc/events\.duckdb'"):
        DuckDBStore("/proc/events.duckdb")


def test_file_that_is_not_a_database(tmp_path: Path) -> None:
    path = tmp_path / "notes.duckdb"
    path.write_text("these are notes, not a database\n")
    with pytest.raises(StoreError, match="cannot open DuckDB store"):
        DuckDBStore(path)
    assert path.read_text() == "these are notes, not a database\n"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["notes.duckdb"]


def test_table_with_another_schema(tmp_path: Path) -> None:
    path = tmp_path / "other.duckdb"
    con = duckdb.connect(str(path))
    con.execute("CREATE TABLE events (x INTEGER)")
    con.close()
    with pytest.raises(StoreError, match="not the event schema; pass another `table=`"):
        DuckDBStore(path)
    with DuckDBStore(path, table="crucible_events") as store:
        assert store.frame().height == 0


def test_bad_table_name_and_thresholds(tmp_path: Path) -> None:
    with pytest.raises(StoreError, match="`table` must be a SQL identifier"):
        DuckDBStore(tmp_path / "e.duckdb", table="events; DROP TABLE x")
    with pytest.raises(StoreError, match="`batch_size` must be a positive integer"):
        MemoryStore(batch_size=0)
    with pytest.raises(StoreError, match="`flush_interval_s` must be a positive number"):
        MemoryStore(flush_interval_s=-1)
    assert list(tmp_path.iterdir()) == []


def test_closed_store_raises_and_capture_counts_drops(tmp_path: Path) -> None:
    store = DuckDBStore(tmp_path / "c.duckdb")
    _fill(store, 2)
    store.close()
    store.close()  # closing twice is harmless
    with pytest.raises(StoreClosedError, match="is closed; open a new store"):
        store.frame()
    with pytest.raises(StoreClosedError, match="cannot append"):
        store.append(None)  # type: ignore[arg-type]
    with capture("late", store=store) as cap:
        emit_call()
    assert cap.dropped == 1
    assert cap.spans_captured == 0
    with DuckDBStore(tmp_path / "c.duckdb") as reopened:
        assert reopened.frame().height == 2


def test_extend_validates_columns() -> None:
    store = MemoryStore()
    with pytest.raises(StoreError, match="lacks the event columns"):
        store.extend(pl.DataFrame({"time": [1]}))


_WRITER = textwrap.dedent(
    """
    import sys
    from opentelemetry import trace
    from crucible.telemetry import DuckDBStore, capture
    from crucible.core import semconv as sc

    store = DuckDBStore(sys.argv[1], batch_size=25, flush_interval_s=3600)
    tracer = trace.get_tracer("writer")
    with capture("killed", store=store):
        i = 0
        while True:
            with tracer.start_as_current_span("chat m") as span:
                span.set_attribute(sc.GEN_AI_REQUEST_MODEL, "m")
                span.set_attribute(sc.CRUCIBLE_ITEM_ID, str(i))
            i += 1
            if i % 25 == 0:
                print(store.batches_committed, flush=True)
    """
)


def test_committed_batches_survive_kill_9(tmp_path: Path) -> None:
    path = tmp_path / "crash.duckdb"
    proc = subprocess.Popen(
        [sys.executable, "-c", _WRITER, str(path)], stdout=subprocess.PIPE, text=True
    )
    seen = 0
    timer = threading.Timer(60, proc.kill)  # bound the wait if the writer hangs
    timer.start()
    try:
        assert proc.stdout is not None
        for line in proc.stdout:
            seen = int(line)
            if seen >= 4:
                break
        os.kill(proc.pid, signal.SIGKILL)
        proc.wait(30)
    finally:
        timer.cancel()
        if proc.stdout is not None:
            proc.stdout.close()
    assert proc.returncode == -signal.SIGKILL
    assert seen >= 4
    with DuckDBStore(path) as store:
        frame = store.frame()
    # Every batch reported committed before the kill is there, whole (batches are atomic).
    assert frame.height >= 25 * seen
    assert frame.height % 25 == 0
    assert sorted(int(i) for i in frame["item_id"]) == list(range(frame.height))


def test_flush_waits_for_a_batch_another_thread_is_writing() -> None:
    from opentelemetry.sdk.trace import TracerProvider
    from opentelemetry.sdk.trace.export import SimpleSpanProcessor
    from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter

    provider = TracerProvider()
    exporter = InMemorySpanExporter()
    provider.add_span_processor(SimpleSpanProcessor(exporter))
    with provider.get_tracer("t").start_as_current_span("chat m") as span:
        span.set_attribute("gen_ai.request.model", "m")
    (ended,) = exporter.get_finished_spans()

    class SlowStore(MemoryStore):
        entered = threading.Event()
        release = threading.Event()

        def _write(self, table: object) -> None:
            self.entered.set()
            assert self.release.wait(10)
            super()._write(table)  # type: ignore[arg-type]

    store = SlowStore()
    store.append(ended, "e")
    first = threading.Thread(target=store.flush)  # takes the batch, then stalls writing it
    first.start()
    assert store.entered.wait(10)
    seen: list[int] = []
    second = threading.Thread(target=lambda: (store.flush(), seen.append(store.batches_committed)))
    second.start()
    second.join(0.5)  # a flush that returned here would have returned before the commit
    store.release.set()
    first.join(10)
    second.join(10)
    assert seen == [1]
    assert store.frame()["model"].to_list() == ["m"]
