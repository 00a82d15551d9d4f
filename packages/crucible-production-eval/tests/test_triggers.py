"""Triggers: fired from monitor windows, stored, emitted as OpenTelemetry events, handed on."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

import numpy as np
import polars as pl
import pytest

from crucible.production_eval import (
    Monitor,
    PageHinkley,
    ProductionEvalError,
    TriggerKind,
    TriggerPolicy,
)


def test_triggers_fire_store_and_emit(
    tmp_path: Path, baseline: dict, make_events: Any, spans: Any
) -> None:
    acc = np.where(np.arange(1200) < 600, 0.9, 0.6)
    events = make_events(1200, accuracy=acc)
    # input lengths shift after the change too
    events = events.with_columns(
        pl.when(pl.int_range(pl.len()) >= 600)
        .then(pl.col("input_tokens") + 80)
        .otherwise(pl.col("input_tokens"))
        .alias("input_tokens")
    )
    reference = np.random.default_rng(5).integers(100, 200, 2000)
    fired: list[Any] = []
    policy = TriggerPolicy(
        drift_reference=reference,
        concept_drift=PageHinkley(threshold=15.0, delta=0.01),
        concept_false_alarm_rate=1e-4,
        max_cost_per_request=0.01,
        min_volume=50,
        every_windows=4,
        on_fire=fired.append,
    )
    with Monitor(baseline, metrics=["pass_rate"], store=tmp_path / "m.duckdb") as mon:
        mon.ingest(events)
        mon.evaluate()
        events_out = policy.evaluate(mon)
        assert policy.evaluate(mon) == []  # nothing new, nothing fired twice
        stored = mon.con.execute("SELECT kind, win FROM triggers ORDER BY win, kind").fetchall()
        first_win = int(mon.status()["win"].min())
    kinds = {e.kind for e in events_out}
    assert kinds == {
        TriggerKind.DEGRADATION,
        TriggerKind.DATA_DRIFT,
        TriggerKind.CONCEPT_DRIFT,
        TriggerKind.SCHEDULE,
    }
    assert fired == events_out
    assert len(stored) == len(events_out)
    # drift fires only in windows after the change (window 6 on)
    drift_wins = sorted(
        e.window - first_win for e in events_out if e.kind is TriggerKind.DATA_DRIFT
    )
    assert drift_wins == list(range(6, 11))
    concept = [e for e in events_out if e.kind is TriggerKind.CONCEPT_DRIFT]
    assert min(e.window - first_win for e in concept) >= 6
    assert concept[0].evidence["false_alarm_rate"] == 1e-4
    emitted = [
        ev for s in spans.get_finished_spans() for ev in s.events if ev.name == "crucible.trigger"
    ]
    assert len(emitted) == len(events_out)
    assert {ev.attributes["crucible.trigger.kind"] for ev in emitted} == {k.value for k in kinds}


def test_volume_cost_and_command(tmp_path: Path, baseline: dict, make_events: Any) -> None:
    events = make_events(300, every_s=60.0)  # 60 events per hour
    out = tmp_path / "fired.txt"
    script = f"import os; open({str(out)!r}, 'a').write(os.environ['CRUCIBLE_TRIGGER'][:1])"
    policy = TriggerPolicy(
        degradation=False,
        min_volume=80,
        max_cost_per_request=0.0012,
        command=[sys.executable, "-c", script],
    )
    with Monitor(baseline, metrics=["pass_rate"], store=tmp_path / "m.duckdb") as mon:
        mon.ingest(events)
        mon.evaluate()
        fired = policy.evaluate(mon)
    assert [e.kind for e in fired].count(TriggerKind.VOLUME) == 4
    assert [e.kind for e in fired].count(TriggerKind.COST) == 4
    assert out.read_text() == "{" * len(fired)


def test_bad_policy_arguments() -> None:
    with pytest.raises(ProductionEvalError, match="`every_windows`"):
        TriggerPolicy(every_windows=0)
    with pytest.raises(ProductionEvalError, match="`max_cost_per_request`"):
        TriggerPolicy(max_cost_per_request=0)
