"""Continuous monitoring: production events in time windows, each compared with a baseline.

State lives in DuckDB: events keyed by their id (ingestion is idempotent, so a file
re-ingested after a crash adds only what was not committed), evaluated windows and alerts.
A monitor reopened on the same store continues where the last one stopped.
"""

from __future__ import annotations

import json
import os
from collections.abc import Callable, Mapping, Sequence
from datetime import UTC, datetime
from typing import Any

import attrs
import duckdb
import numpy as np
import polars as pl

from crucible.production_eval._errors import EventError, ProductionEvalError
from crucible.production_eval._events import IngestReport, event_ids, parse_window, read_events
from crucible.production_eval._signals import VALUE_EXPRESSIONS, Signal, get_signal, signal_values
from crucible.production_eval._window_test import compare_window

__all__ = ["Alert", "Monitor"]

_VALUE_COLS = tuple(VALUE_EXPRESSIONS)


@attrs.frozen
class Alert:
    """A sustained degradation (or a detector's drift alarm) with its evidence.

    ``false_alarm_rate`` is the probability per window that a stable system raises this alert:
    ``alpha ** consecutive`` for window tests, the calibrated per-observation rate for detectors.
    """

    alert_id: str
    metric: str
    kind: str
    window_start: datetime
    consecutive: int
    false_alarm_rate: float
    message: str
    evidence: list[dict[str, Any]]

    def to_dict(self) -> dict[str, Any]:
        data = attrs.asdict(self)
        data["window_start"] = self.window_start.isoformat()
        return data

    def __str__(self) -> str:
        return f"[{self.kind}] {self.message} (false-alarm rate {self.false_alarm_rate:.2e})"


class Monitor:
    """Windows of production events compared with a baseline; alerts after sustained violations.

    Args:
        baseline: baseline events (a frame in the event schema) or ``{metric: values}``.
        metrics: metric names (see ``crucible.production_eval.METRICS``).
        window: window length (``"1h"``, ``"15m"``, seconds).
        alpha: one-sided level of each window test.
        consecutive: violations in a row that raise an :class:`Alert`.
        store: the DuckDB file holding the state.
        min_window_size: windows with fewer values are recorded as skipped, not tested.
        min_effect: per metric, the smallest degradation that counts (practical significance).
        detectors: per metric, a streaming detector fed each window's values in time order,
            with the false-alarm rate it was calibrated to (``(detector, rate)``).
        on_alert: called with each new :class:`Alert`.
        continuous_test: ``"welch"`` or ``"mann-whitney"`` for mean metrics.
    """

    def __init__(
        self,
        baseline: pl.DataFrame | Mapping[str, Sequence[float] | np.ndarray],
        *,
        metrics: Sequence[str],
        window: str | float = "1h",
        alpha: float = 0.01,
        consecutive: int = 3,
        store: str | os.PathLike[str] = "monitor.duckdb",
        min_window_size: int = 10,
        min_effect: Mapping[str, float] | None = None,
        detectors: Mapping[str, tuple[Any, float]] | None = None,
        on_alert: Callable[[Alert], None] | None = None,
        batch_size: int = 5000,
        seed: int = 0,
        continuous_test: str = "welch",
    ) -> None:
        if not metrics:
            raise ProductionEvalError("`metrics` is empty: name at least one metric to monitor")
        self.signals: list[Signal] = [get_signal(m) for m in metrics]
        if not 0 < alpha < 1:
            raise ProductionEvalError(f"`alpha` must be in (0, 1), got {alpha!r}")
        if isinstance(consecutive, bool) or not isinstance(consecutive, int) or consecutive < 1:
            raise ProductionEvalError(f"`consecutive` must be an int >= 1, got {consecutive!r}")
        if batch_size < 1:
            raise ProductionEvalError(f"`batch_size` must be >= 1, got {batch_size!r}")
        if continuous_test not in ("welch", "mann-whitney"):
            raise ProductionEvalError(
                f"`continuous_test` must be 'welch' or 'mann-whitney', got {continuous_test!r}"
            )
        self.continuous_test = continuous_test
        self.window_s = parse_window(window)
        self.alpha, self.consecutive = alpha, consecutive
        self.min_window_size, self.seed, self.batch_size = min_window_size, seed, batch_size
        self.min_effect = dict(min_effect or {})
        self.detectors = dict(detectors or {})
        self.on_alert = on_alert
        self.baseline = self._baseline(baseline)
        self.con = duckdb.connect(str(store))
        self._schema()
        self._replay_detectors()

    def _baseline(
        self, baseline: pl.DataFrame | Mapping[str, Sequence[float] | np.ndarray]
    ) -> dict[str, np.ndarray]:
        out: dict[str, np.ndarray] = {}
        values = signal_values(baseline) if isinstance(baseline, pl.DataFrame) else None
        for sig in self.signals:
            if values is not None:
                arr = values[sig.column].drop_nulls().to_numpy().astype(float)
            elif isinstance(baseline, Mapping) and sig.name in baseline:
                arr = np.asarray(baseline[sig.name], dtype=float)
            else:
                have = sorted(baseline) if isinstance(baseline, Mapping) else []
                raise ProductionEvalError(
                    f"`baseline` has no values for metric {sig.name!r} (it has {have}); give "
                    "the baseline of every monitored metric"
                )
            arr = arr[np.isfinite(arr)]
            if arr.size < 2:
                raise ProductionEvalError(
                    f"`baseline` has {arr.size} values for metric {sig.name!r}; need at least 2"
                )
            out[sig.name] = arr
        return out

    def _schema(self) -> None:
        cols = ", ".join(f"{c} DOUBLE" for c in _VALUE_COLS)
        self._all(
            f"CREATE TABLE IF NOT EXISTS events (event_id VARCHAR PRIMARY KEY, "
            f"time TIMESTAMPTZ NOT NULL, win BIGINT NOT NULL, {cols})"
        )
        self._all(
            "CREATE TABLE IF NOT EXISTS windows (win BIGINT, metric VARCHAR, window_start "
            "TIMESTAMPTZ, n BIGINT, test VARCHAR, estimate DOUBLE, baseline DOUBLE, "
            "difference DOUBLE, ci_low DOUBLE, ci_high DOUBLE, p_value DOUBLE, violated BOOLEAN,"
            " skipped VARCHAR, PRIMARY KEY (win, metric))"
        )
        self._all(
            "CREATE TABLE IF NOT EXISTS alerts (alert_id VARCHAR PRIMARY KEY, metric VARCHAR, "
            "kind VARCHAR, window_start TIMESTAMPTZ, consecutive INTEGER, false_alarm_rate "
            "DOUBLE, message VARCHAR, evidence VARCHAR)"
        )
        self._all("CREATE TABLE IF NOT EXISTS meta (key VARCHAR PRIMARY KEY, value VARCHAR)")
        config = json.dumps({"metrics": [s.name for s in self.signals], "window_s": self.window_s})
        row = self._one("SELECT value FROM meta WHERE key = 'config'")
        if row is None:
            self._all("INSERT INTO meta VALUES ('config', ?)", [config])
        elif row[0] != config:
            raise ProductionEvalError(
                f"`store` was created for {row[0]}, not {config}: a store holds one monitor's "
                "windows; use another store file for other metrics or window lengths"
            )

    # -- ingestion ---------------------------------------------------------------------------

    def ingest(
        self,
        source: str | os.PathLike[str] | pl.DataFrame,
        *,
        on_batch: Callable[[int], None] | None = None,
    ) -> IngestReport:
        """Store the events of ``source`` not stored yet (by event id), in batch transactions.

        Events without an id or a timestamp are skipped and counted in the report. Calling it
        again with the same (or an overlapping) source adds nothing twice.
        """
        frame = read_events(source)
        if "time" not in frame.columns:
            raise EventError("events have no `time` column: every event needs a timestamp")
        frame = frame.with_columns(event_ids(frame).alias("_id"))
        skipped = {
            "no id": int(frame["_id"].is_null().sum()),
            "no timestamp": int((frame["_id"].is_not_null() & frame["time"].is_null()).sum()),
        }
        frame = frame.filter(pl.col("_id").is_not_null() & pl.col("time").is_not_null())
        valid = frame.height
        rows = valid + sum(skipped.values())
        frame = frame.unique("_id", keep="first", maintain_order=True)
        values = signal_values(frame)
        epoch = frame["time"].dt.epoch("us").cast(pl.Float64) / 1e6
        table = pl.concat(
            [
                frame.select(
                    pl.col("_id").alias("event_id"),
                    pl.col("time").cast(pl.Datetime("us", "UTC")),
                ),
                (epoch / self.window_s).floor().cast(pl.Int64).alias("win").to_frame(),
                values,
            ],
            how="horizontal",
        )
        before = self._count()
        for i, start in enumerate(range(0, table.height, self.batch_size)):
            self.con.register("_pe_batch", table.slice(start, self.batch_size).to_arrow())
            try:
                self._all("BEGIN")
                self._all("INSERT OR IGNORE INTO events SELECT * FROM _pe_batch")
                self._all("COMMIT")
            finally:
                self.con.unregister("_pe_batch")
            if on_batch is not None:
                on_batch(i)
        inserted = self._count() - before
        # Duplicates: events already stored, or repeated within this source (first kept).
        return IngestReport(rows, inserted, valid - inserted, skipped)

    def _count(self) -> int:
        row = self._one("SELECT count(*) FROM events")
        return int(row[0]) if row else 0

    # -- evaluation --------------------------------------------------------------------------

    def evaluate(self, *, final: bool = False) -> list[Alert]:
        """Test every closed window not tested yet; return the alerts it raises.

        A window closes when an event of a later window has arrived (``final=True`` closes all).
        Events arriving for a window already tested are stored but do not re-open it.
        Windows with fewer than ``min_window_size`` values are recorded as skipped.
        """
        bounds = self._one("SELECT min(win), max(win) FROM events")
        if bounds is None or bounds[0] is None:
            return []
        last = self._one("SELECT max(win) FROM windows")
        first = int(bounds[0]) if last is None or last[0] is None else int(last[0]) + 1
        stop = int(bounds[1]) + (1 if final else 0)
        alerts: list[Alert] = []
        for win in range(first, stop):
            alerts.extend(self._evaluate_window(win))
        return alerts

    def _all(self, sql: str, params: list[Any] | None = None) -> list[tuple[Any, ...]]:
        # DuckDB 2 needs every result consumed before the next statement.
        return self.con.execute(sql, params or []).fetchall()

    def _one(self, sql: str, params: list[Any] | None = None) -> tuple[Any, ...] | None:
        rows = self._all(sql, params)
        return rows[0] if rows else None

    def _frame(self, sql: str, params: list[Any] | None = None) -> pl.DataFrame:
        frame: pl.DataFrame = self.con.sql(sql, params=params or []).pl()
        return frame

    def window_values(self, win: int) -> pl.DataFrame:
        """The per-event values of window ``win`` (index of the window since the epoch), by time."""
        return self._window_values(win)

    def _window_values(self, win: int) -> pl.DataFrame:
        cols = ", ".join(_VALUE_COLS)
        return self._frame(
            f"SELECT {cols} FROM events WHERE win = ? ORDER BY time, event_id", [win]
        )

    def _evaluate_window(self, win: int) -> list[Alert]:
        start = datetime.fromtimestamp(win * self.window_s, UTC)
        data = self._window_values(win)
        alerts: list[Alert] = []
        for sig in self.signals:
            vals = data[sig.column].drop_nulls().to_numpy().astype(float)
            vals = vals[np.isfinite(vals)]
            if vals.size < self.min_window_size:
                self._all(
                    "INSERT INTO windows (win, metric, window_start, n, skipped) VALUES (?,?,?,?,?)",
                    [win, sig.name, start, int(vals.size), f"{vals.size} values < min_window_size"],
                )
                continue
            ev = compare_window(
                sig,
                self.baseline[sig.name],
                vals,
                alpha=self.alpha,
                min_effect=self.min_effect.get(sig.name, 0.0),
                seed=self.seed + win,
                continuous_test=self.continuous_test,
            )
            self._all(
                "INSERT INTO windows VALUES (?,?,?,?,?,?,?,?,?,?,?,?,NULL)",
                [
                    win,
                    sig.name,
                    start,
                    ev.n,
                    ev.test,
                    ev.estimate,
                    ev.baseline,
                    ev.difference,
                    ev.ci_low,
                    ev.ci_high,
                    ev.p_value,
                    ev.violated,
                ],
            )
            alerts.extend(self._check_run(sig, win, start))
            alerts.extend(self._feed_detector(sig, vals, win, start))
        for alert in alerts:
            if self.on_alert is not None:
                self.on_alert(alert)
        return alerts

    def _check_run(self, sig: Signal, win: int, start: datetime) -> list[Alert]:
        recent = self._frame(
            "SELECT * FROM windows WHERE metric = ? AND skipped IS NULL AND win <= ? "
            "ORDER BY win DESC LIMIT ?",
            [sig.name, win, self.consecutive + 1],
        )
        flags = recent["violated"].to_list()
        run = next((i for i, f in enumerate(flags) if not f), len(flags))
        if run != self.consecutive:
            return []
        evidence = recent.head(self.consecutive).reverse().drop("skipped")
        evidence = evidence.with_columns(pl.col("window_start").cast(pl.String))
        latest = evidence.row(-1, named=True)
        message = (
            f"{sig.name} degraded for {self.consecutive} consecutive windows: "
            f"{latest['estimate']:.4g} vs baseline {latest['baseline']:.4g} "
            f"(p = {latest['p_value']:.2g}, {latest['test']})"
        )
        return [
            self._record(
                sig.name,
                "degradation",
                start,
                self.alpha**self.consecutive,
                message,
                evidence.to_dicts(),
            )
        ]

    def _feed_detector(
        self, sig: Signal, vals: np.ndarray, win: int, start: datetime, *, silent: bool = False
    ) -> list[Alert]:
        if sig.name not in self.detectors:
            return []
        detector, rate = self.detectors[sig.name]
        fired = [i for i, v in enumerate(vals) if detector.update(float(v))]
        if not fired or silent:
            return []
        message = f"{type(detector).__name__} detected a change in {sig.name} ({len(fired)} alarms)"
        evidence = [{"window": win, "positions": fired, "n": int(vals.size)}]
        return [self._record(sig.name, "drift", start, rate, message, evidence)]

    def _replay_detectors(self) -> None:
        if not self.detectors:
            return
        done = self._all("SELECT DISTINCT win FROM windows ORDER BY win")
        for (win,) in done:
            data = self._window_values(int(win))
            for sig in self.signals:
                vals = data[sig.column].drop_nulls().to_numpy().astype(float)
                self._feed_detector(
                    sig, vals[np.isfinite(vals)], int(win), datetime.now(UTC), silent=True
                )

    def _record(
        self,
        metric: str,
        kind: str,
        start: datetime,
        rate: float,
        message: str,
        evidence: list[dict[str, Any]],
    ) -> Alert:
        alert_id = f"{kind}:{metric}:{start.isoformat()}"
        alert = Alert(alert_id, metric, kind, start, self.consecutive, rate, message, evidence)
        self._all(
            "INSERT OR IGNORE INTO alerts VALUES (?,?,?,?,?,?,?,?)",
            [
                alert_id,
                metric,
                kind,
                start,
                self.consecutive,
                rate,
                message,
                json.dumps(evidence, default=str),
            ],
        )
        return alert

    # -- reading -----------------------------------------------------------------------------

    def status(self) -> pl.DataFrame:
        """Every evaluated window and metric, oldest first."""
        return self._frame("SELECT * FROM windows ORDER BY win, metric")

    def alerts(self) -> pl.DataFrame:
        """Every alert raised on this store, oldest first."""
        return self._frame("SELECT * FROM alerts ORDER BY window_start, alert_id")

    @property
    def n_events(self) -> int:
        return self._count()

    def close(self) -> None:
        self.con.close()

    def __enter__(self) -> Monitor:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
