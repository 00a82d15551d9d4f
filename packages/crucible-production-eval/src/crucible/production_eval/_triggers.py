"""Retraining and re-optimisation triggers over a monitor's windows.

A :class:`TriggerPolicy` looks at each window a :class:`Monitor` has evaluated and fires a
:class:`TriggerEvent` on: performance degradation (the monitor's sustained, significant and
practically large violations), data drift (input length against a reference), concept drift
(Page-Hinkley on the error stream), cost efficiency (cost per request above a ceiling), data
volume (too few or too many events in a window) and schedule (every N windows). A fired
trigger is written to the monitor's store, emitted as an OpenTelemetry span event
``crucible.trigger``, and handed to a callback or a command.
"""

from __future__ import annotations

import json
import subprocess
from collections.abc import Callable, Sequence
from datetime import UTC, datetime
from enum import StrEnum
from typing import Any

import attrs
import numpy as np
import polars as pl
from opentelemetry import trace

from crucible.production_eval._detectors import PageHinkley
from crucible.production_eval._drift import detect_drift
from crucible.production_eval._errors import ProductionEvalError
from crucible.production_eval._monitor import Monitor

__all__ = ["TriggerEvent", "TriggerKind", "TriggerPolicy"]

_tracer = trace.get_tracer("crucible.production_eval")


class TriggerKind(StrEnum):
    DEGRADATION = "degradation"
    DATA_DRIFT = "data_drift"
    CONCEPT_DRIFT = "concept_drift"
    COST = "cost"
    VOLUME = "volume"
    SCHEDULE = "schedule"


@attrs.frozen
class TriggerEvent:
    """A fired trigger: what, where, and the evidence."""

    trigger_id: str
    kind: TriggerKind
    metric: str
    window: int
    window_start: datetime
    message: str
    evidence: dict[str, Any]

    def to_dict(self) -> dict[str, Any]:
        data = attrs.asdict(self)
        data["kind"] = self.kind.value
        data["window_start"] = self.window_start.isoformat()
        return data


class TriggerPolicy:
    """Which monitored conditions start a response, and what the response is.

    Args:
        degradation: fire on the monitor's degradation alerts.
        drift_reference: reference input lengths (tokens); a window whose input lengths drift
            (KS p < ``drift_alpha`` and PSI > ``psi_threshold``) fires ``data_drift``.
        concept_drift: a Page-Hinkley detector fed the error stream (1 - score) of each
            window; ``None`` turns it off. Calibrate its threshold with :func:`calibrate`.
        concept_false_alarm_rate: the calibrated per-observation false-alarm rate of
            ``concept_drift``, stated in its events.
        max_cost_per_request: fire ``cost`` when a window's mean cost exceeds it.
        min_volume, max_volume: fire ``volume`` when a window has fewer / more events.
        every_windows: fire ``schedule`` every this many windows.
        on_fire: called with each :class:`TriggerEvent`.
        command: run with the event as JSON in ``CRUCIBLE_TRIGGER`` (environment).
    """

    def __init__(
        self,
        *,
        degradation: bool = True,
        drift_reference: Sequence[float] | np.ndarray | None = None,
        drift_alpha: float = 0.01,
        psi_threshold: float = 0.1,
        concept_drift: PageHinkley | None = None,
        concept_false_alarm_rate: float | None = None,
        max_cost_per_request: float | None = None,
        min_volume: int | None = None,
        max_volume: int | None = None,
        every_windows: int | None = None,
        on_fire: Callable[[TriggerEvent], Any] | None = None,
        command: Sequence[str] | None = None,
    ) -> None:
        if every_windows is not None and every_windows < 1:
            raise ProductionEvalError(f"`every_windows` must be >= 1, got {every_windows!r}")
        if max_cost_per_request is not None and max_cost_per_request <= 0:
            raise ProductionEvalError(
                f"`max_cost_per_request` must be > 0, got {max_cost_per_request!r}"
            )
        self.degradation = degradation
        self.reference = (
            None if drift_reference is None else np.asarray(drift_reference, dtype=float)
        )
        self.drift_alpha, self.psi_threshold = drift_alpha, psi_threshold
        self.concept = concept_drift
        self.concept_rate = concept_false_alarm_rate
        self.max_cost = max_cost_per_request
        self.min_volume, self.max_volume = min_volume, max_volume
        self.every = every_windows
        self.on_fire = on_fire
        self.command = list(command) if command else None

    def evaluate(self, monitor: Monitor) -> list[TriggerEvent]:
        """Check every window the monitor evaluated since the last call; fire what applies."""
        con = monitor.con
        con.execute(
            "CREATE TABLE IF NOT EXISTS triggers (trigger_id VARCHAR PRIMARY KEY, kind VARCHAR, "
            "metric VARCHAR, win BIGINT, window_start TIMESTAMPTZ, message VARCHAR, "
            "evidence VARCHAR)"
        ).fetchall()
        con.execute(
            "CREATE TABLE IF NOT EXISTS trigger_state (key VARCHAR PRIMARY KEY, win BIGINT)"
        ).fetchall()
        row = con.execute("SELECT win FROM trigger_state WHERE key = 'last'").fetchall()
        last = int(row[0][0]) if row else None
        wins = [
            int(w)
            for (w,) in con.execute(
                "SELECT DISTINCT win FROM windows WHERE win > ? ORDER BY win",
                [last if last is not None else -(2**62)],
            ).fetchall()
        ]
        fired: list[TriggerEvent] = []
        for win in wins:
            fired.extend(self._window(monitor, win))
            con.execute("INSERT OR REPLACE INTO trigger_state VALUES ('last', ?)", [win]).fetchall()
        return fired

    def _window(self, monitor: Monitor, win: int) -> list[TriggerEvent]:
        start = datetime.fromtimestamp(win * monitor.window_s, UTC)
        values = monitor.window_values(win)
        out: list[TriggerEvent] = []
        if self.degradation:
            alerts = monitor.con.execute(
                "SELECT metric, message, false_alarm_rate FROM alerts WHERE kind = 'degradation' "
                "AND window_start = ?",
                [start],
            ).fetchall()
            for metric, message, rate in alerts:
                out.append(
                    self._event(
                        TriggerKind.DEGRADATION,
                        metric,
                        win,
                        start,
                        message,
                        {"false_alarm_rate": rate},
                    )
                )
        if self.reference is not None:
            cur = values["input_tokens"].drop_nulls()
            if cur.len() >= 2:
                res = detect_drift(
                    pl.DataFrame({"input_tokens": self.reference}),
                    pl.DataFrame({"input_tokens": cur}),
                    alpha=self.drift_alpha,
                    psi_threshold=self.psi_threshold,
                )[0]
                if res.drift:
                    out.append(
                        self._event(
                            TriggerKind.DATA_DRIFT,
                            "input_length",
                            win,
                            start,
                            str(res),
                            res.to_dict(),
                        )
                    )
        if self.concept is not None:
            scores = values["score"].drop_nulls().to_numpy()
            hits = [i for i, s in enumerate(scores) if self.concept.update(1.0 - float(s))]
            if hits:
                out.append(
                    self._event(
                        TriggerKind.CONCEPT_DRIFT,
                        "error_stream",
                        win,
                        start,
                        f"Page-Hinkley detected a change in the error stream ({len(hits)} alarms)",
                        {
                            "positions": hits,
                            "false_alarm_rate": self.concept_rate,
                            "threshold": self.concept.threshold,
                        },
                    )
                )
        n = values.height
        costs = values["cost_usd"].drop_nulls().to_numpy()
        mean_cost = float(costs.mean()) if costs.size else 0.0
        if self.max_cost is not None and costs.size and mean_cost > self.max_cost:
            out.append(
                self._event(
                    TriggerKind.COST,
                    "cost_per_request",
                    win,
                    start,
                    f"cost per request {mean_cost:.4g} > {self.max_cost:g}",
                    {"cost_per_request": mean_cost, "n": n},
                )
            )
        if (self.min_volume is not None and n < self.min_volume) or (
            self.max_volume is not None and n > self.max_volume
        ):
            out.append(
                self._event(
                    TriggerKind.VOLUME,
                    "events",
                    win,
                    start,
                    f"{n} events in the window (bounds {self.min_volume}, {self.max_volume})",
                    {"n": n},
                )
            )
        if self.every is not None and (win + 1) % self.every == 0:
            out.append(
                self._event(
                    TriggerKind.SCHEDULE,
                    "schedule",
                    win,
                    start,
                    f"scheduled every {self.every} windows",
                    {},
                )
            )
        for event in out:
            self._fire(monitor, event)
        return out

    def _event(
        self,
        kind: TriggerKind,
        metric: str,
        win: int,
        start: datetime,
        message: str,
        evidence: dict[str, Any],
    ) -> TriggerEvent:
        return TriggerEvent(
            f"{kind.value}:{metric}:{win}", kind, metric, win, start, message, evidence
        )

    def _fire(self, monitor: Monitor, event: TriggerEvent) -> None:
        payload = json.dumps(event.to_dict(), default=str)
        monitor.con.execute(
            "INSERT OR IGNORE INTO triggers VALUES (?,?,?,?,?,?,?)",
            [
                event.trigger_id,
                event.kind.value,
                event.metric,
                event.window,
                event.window_start,
                event.message,
                json.dumps(event.evidence, default=str),
            ],
        ).fetchall()
        with _tracer.start_as_current_span("crucible.trigger") as span:
            span.add_event(
                "crucible.trigger",
                {
                    "crucible.trigger.kind": event.kind.value,
                    "crucible.trigger.metric": event.metric,
                    "crucible.trigger.window_start": event.window_start.isoformat(),
                    "crucible.trigger.message": event.message,
                },
            )
        if self.on_fire is not None:
            self.on_fire(event)
        if self.command is not None:
            import os

            env = {**os.environ, "CRUCIBLE_TRIGGER": payload}
            subprocess.run(self.command, env=env, check=False)
