"""The run store: ``run_dir/run.duckdb`` with the trials, attempts, sessions and manifest tables.

A batch of finished trials and their attempts is committed in one transaction, so after a crash
(even ``kill -9``) the file holds whole trials only: a trial is done once it is committed.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import duckdb
import polars as pl
import pyarrow as pa

from crucible.harness._errors import RunDirectoryError

__all__ = ["ATTEMPT_SCHEMA", "CONSENSUS_SCHEMA", "DB_NAME", "RunStore", "TrialKey", "trial_schema"]

DB_NAME = "run.duckdb"
TrialKey = tuple[str, str, int]

_UTC = pl.Datetime("us", "UTC")

#: Columns of the trials table before the score columns.
_HEAD: dict[str, pl.DataType] = {
    "condition": pl.String(),
    "item_id": pl.String(),
    "repeat": pl.Int64(),
    "order": pl.Int64(),
    "prediction": pl.String(),
}
#: Columns after the score columns.
_TAIL: dict[str, pl.DataType] = {
    "model": pl.String(),
    "provider": pl.String(),
    "finish_reason": pl.String(),
    "input_tokens": pl.Int64(),
    "output_tokens": pl.Int64(),
    "cached_input_tokens": pl.Int64(),
    "reasoning_tokens": pl.Int64(),
    "cost_usd": pl.Float64(),
    "latency_ms": pl.Float64(),
    "ttft_ms": pl.Float64(),
    "wall_ms": pl.Float64(),
    "error_type": pl.String(),
    "error_message": pl.String(),
    "attempts": pl.Int64(),
    "started_at": _UTC,
    "finished_at": _UTC,
    "session": pl.Int64(),
}

ATTEMPT_SCHEMA: dict[str, pl.DataType] = {
    "condition": pl.String(),
    "item_id": pl.String(),
    "repeat": pl.Int64(),
    "attempt": pl.Int64(),
    "error_type": pl.String(),
    "error_message": pl.String(),
    "retryable": pl.Boolean(),
    "retry_after_s": pl.Float64(),
    "waited_s": pl.Float64(),
    "duration_ms": pl.Float64(),
    "started_at": _UTC,
    "session": pl.Int64(),
}

CONSENSUS_SCHEMA: dict[str, pl.DataType] = {
    "condition": pl.String(),
    "item_id": pl.String(),
    "repeat": pl.Int64(),
    "agreement": pl.Float64(),
    "members": pl.Int64(),
    "votes": pl.String(),
}

_SQL_TYPES = {
    pl.String(): "VARCHAR",
    pl.Int64(): "BIGINT",
    pl.Float64(): "DOUBLE",
    pl.Boolean(): "BOOLEAN",
    _UTC: "TIMESTAMPTZ",
}


def _frame(result: Any) -> pl.DataFrame:
    # DuckDB >= 1.4 names it to_arrow_table; older releases fetch_arrow_table.
    fetch = getattr(result, "to_arrow_table", None) or result.arrow
    table = fetch()
    if isinstance(table, pa.RecordBatchReader):
        table = table.read_all()
    frame = pl.from_arrow(table)
    assert isinstance(frame, pl.DataFrame)
    return frame


def _column(values: list[Any], dtype: pl.DataType) -> pl.Series:
    if dtype == _UTC and any(isinstance(v, float) for v in values):
        # Epoch seconds (what the runner records: cheaper than datetimes) to UTC timestamps.
        micros = pl.Series([None if v is None else round(v * 1e6) for v in values], dtype=pl.Int64)
        return micros.cast(_UTC)
    return pl.Series(values, dtype=dtype)


def _columns_frame(rows: list[dict[str, Any]], schema: dict[str, pl.DataType]) -> pl.DataFrame:
    # Column by column: much faster than letting polars read a list of row dicts.
    return pl.DataFrame([_column([r[c] for r in rows], t).alias(c) for c, t in schema.items()])


def score_column(name: str) -> str:
    return f"score_{name}"


def trial_schema(scorers: Sequence[str]) -> dict[str, pl.DataType]:
    """The trials table's columns, in order, for an experiment with ``scorers``."""
    scores: dict[str, pl.DataType] = {score_column(s): pl.Float64() for s in scorers}
    return {**_HEAD, **scores, **_TAIL}


def _create(table: str, schema: Mapping[str, pl.DataType], key: str | None) -> str:
    cols = ", ".join(f'"{c}" {_SQL_TYPES[t]}' for c, t in schema.items())
    pk = f", PRIMARY KEY ({key})" if key else ""
    return f'CREATE TABLE IF NOT EXISTS "{table}" ({cols}{pk})'


class RunStore:
    """One run directory's DuckDB file.

    Args:
        run_dir: the directory (created if missing).
        scorers: the score names (fixed for the life of the run); ``None`` reads them from
            an existing run.

    Raises:
        RunDirectoryError: the directory or its database cannot be opened or holds another
            schema.
    """

    def __init__(self, run_dir: str | Path, scorers: Sequence[str] | None) -> None:
        self.run_dir = Path(run_dir)
        if self.run_dir.exists() and not self.run_dir.is_dir():
            raise RunDirectoryError(
                f"run directory {str(self.run_dir)!r} is a file, not a directory"
            )
        try:
            self.run_dir.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise RunDirectoryError(
                f"cannot create run directory {str(self.run_dir)!r}: {exc}"
            ) from exc
        self.path = self.run_dir / DB_NAME
        try:
            self._con = duckdb.connect(str(self.path))
        except duckdb.Error as exc:
            raise RunDirectoryError(
                f"cannot open {str(self.path)!r}: {exc}; is another run using this directory?"
            ) from exc
        if scorers is None:
            scorers = [c.removeprefix("score_") for c in self._columns() if c.startswith("score_")]
        self.schema = trial_schema(scorers)
        self._lock = threading.Lock()
        self._create_tables()

    @staticmethod
    def exists(run_dir: str | Path) -> bool:
        return (Path(run_dir) / DB_NAME).exists()

    def _columns(self) -> list[str]:
        try:
            cursor = self._con.execute("SELECT * FROM trials LIMIT 0")
        except duckdb.CatalogException:
            return []
        return [str(d[0]) for d in cursor.description or []]

    def _create_tables(self) -> None:
        con = self._con
        existing = self._columns()
        if existing and existing != list(self.schema):
            raise RunDirectoryError(
                f"{str(self.path)!r} holds trials with columns {existing}, not those of this "
                "experiment (its scorers differ); use another run directory"
            )
        # Ensemble consensus per trial (agreement of the members' answers), for runs whose
        # model reports votes; created on its own so runs from older versions gain it too.
        con.execute(
            'CREATE TABLE IF NOT EXISTS consensus ("condition" VARCHAR, item_id VARCHAR, '
            '"repeat" BIGINT, agreement DOUBLE, members BIGINT, votes VARCHAR)'
        )
        if existing:
            return
        # One transaction (one WAL sync) for the whole schema.
        con.execute("BEGIN TRANSACTION")
        con.execute("CREATE TABLE IF NOT EXISTS manifest (key VARCHAR, value VARCHAR)")
        con.execute(
            "CREATE TABLE IF NOT EXISTS sessions (session BIGINT PRIMARY KEY, started_at "
            "TIMESTAMPTZ, finished_at TIMESTAMPTZ, status VARCHAR, reason VARCHAR, "
            "committed BIGINT, info VARCHAR)"
        )
        con.execute(_create("trials", self.schema, '"condition", item_id, "repeat"'))
        con.execute(_create("attempts", ATTEMPT_SCHEMA, None))
        con.execute("COMMIT")

    # --- manifest and sessions ---------------------------------------------------------------

    def manifest(self) -> dict[str, Any]:
        rows = self._con.execute("SELECT key, value FROM manifest").fetchall()
        return {k: json.loads(v) for k, v in rows}

    def write_manifest(self, values: Mapping[str, Any]) -> None:
        """Set manifest entries (replacing entries of the same keys), in one transaction."""
        if not values:
            return
        rows = [(k, json.dumps(v, default=str, sort_keys=True)) for k, v in values.items()]
        placeholders = ", ".join("(?, ?)" for _ in rows)
        with self._lock:
            con = self._con
            con.execute("BEGIN TRANSACTION")
            try:
                con.execute(
                    f"DELETE FROM manifest WHERE key IN ({', '.join('?' for _ in rows)})",
                    [k for k, _ in rows],
                )
                con.execute(
                    f"INSERT INTO manifest VALUES {placeholders}", [x for row in rows for x in row]
                )
                con.execute("COMMIT")
            except BaseException:
                con.execute("ROLLBACK")
                raise

    def start_session(self, info: Mapping[str, Any]) -> int:
        """Open a session; sessions still marked running died with their process (only one
        process can hold the database), so they are marked ``crashed``."""
        with self._lock:
            self._con.execute(
                "UPDATE sessions SET status = 'crashed', reason = 'the process ended without "
                "closing the session (killed or crashed)', committed = (SELECT count(*) FROM "
                "trials t WHERE t.session = sessions.session) WHERE status = 'running'"
            )
            row = self._con.execute("SELECT coalesce(max(session), 0) + 1 FROM sessions").fetchone()
            session = int(row[0]) if row else 1
            self._con.execute(
                "INSERT INTO sessions VALUES (?, now(), NULL, 'running', NULL, 0, ?)",
                [session, json.dumps(info, default=str)],
            )
        return session

    def end_session(self, session: int, status: str, reason: str | None, committed: int) -> None:
        with self._lock:
            self._con.execute(
                "UPDATE sessions SET finished_at = now(), status = ?, reason = ?, committed = ? "
                "WHERE session = ?",
                [status, reason, committed, session],
            )

    def sessions(self) -> pl.DataFrame:
        return _frame(self._con.sql("SELECT * FROM sessions ORDER BY session"))

    # --- trials ------------------------------------------------------------------------------

    def done_keys(self) -> set[TrialKey]:
        rows = self._con.execute('SELECT "condition", item_id, "repeat" FROM trials').fetchall()
        return {(str(c), str(i), int(r)) for c, i, r in rows}

    def totals(self) -> tuple[float, int]:
        """Committed spend: (USD, tokens)."""
        row = self._con.execute(
            "SELECT coalesce(sum(cost_usd), 0), coalesce(sum(input_tokens + output_tokens + "
            "reasoning_tokens), 0) FROM trials"
        ).fetchone()
        return (float(row[0]), int(row[1])) if row else (0.0, 0)

    def commit(self, trials: list[dict[str, Any]], attempts: list[dict[str, Any]]) -> None:
        """Insert finished trials and their attempts in one transaction."""
        trial_frame = _columns_frame(trials, self.schema)
        attempt_frame = _columns_frame(attempts, ATTEMPT_SCHEMA)
        with self._lock:
            con = self._con
            con.execute("BEGIN TRANSACTION")
            try:
                con.register("_trial_batch", trial_frame.to_arrow())
                con.register("_attempt_batch", attempt_frame.to_arrow())
                con.execute("INSERT INTO trials SELECT * FROM _trial_batch")
                con.execute("INSERT INTO attempts SELECT * FROM _attempt_batch")
                votes = [t for t in trials if t.get("consensus") is not None]
                if votes:
                    con.executemany(
                        "INSERT INTO consensus VALUES (?, ?, ?, ?, ?, ?)",
                        [
                            [t["condition"], t["item_id"], t["repeat"], *t["consensus"]]
                            for t in votes
                        ],
                    )
                con.execute("COMMIT")
            except BaseException:
                con.execute("ROLLBACK")
                raise
            finally:
                con.unregister("_trial_batch")
                con.unregister("_attempt_batch")

    def trials(self) -> pl.DataFrame:
        """Every committed trial, in schedule order."""
        frame = _frame(self._con.sql('SELECT * FROM trials ORDER BY "order"'))
        return frame.cast(self.schema)  # type: ignore[arg-type]

    def consensus(self) -> pl.DataFrame:
        """Per-trial ensemble agreement (empty when no model reported votes)."""
        frame = _frame(
            self._con.sql('SELECT * FROM consensus ORDER BY "condition", item_id, "repeat"')
        )
        return frame.cast(CONSENSUS_SCHEMA)  # type: ignore[arg-type]

    def attempts(self) -> pl.DataFrame:
        frame = _frame(
            self._con.sql(
                'SELECT * FROM attempts ORDER BY "condition", item_id, "repeat", attempt, session'
            )
        )
        return frame.cast(ATTEMPT_SCHEMA)  # type: ignore[arg-type]

    def close(self) -> None:
        self._con.close()
