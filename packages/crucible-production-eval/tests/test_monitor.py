"""Monitor: windows against a baseline, idempotent DuckDB state, restarts without double counting."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import textwrap
from pathlib import Path
from typing import Any

import duckdb
import numpy as np
import polars as pl
import pytest

from crucible.production_eval import EventError, Monitor, ProductionEvalError, parse_window


def test_degradation_alerts_after_consecutive_violations(
    tmp_path: Path, baseline: dict, make_events: Any
) -> None:
    # 100 events per hour; accuracy drops from 0.9 to 0.7 after 6 hours.
    acc = np.where(np.arange(1200) < 600, 0.9, 0.7)
    events = make_events(1200, accuracy=acc)
    fired = []
    with Monitor(
        baseline,
        metrics=["pass_rate", "latency_p95"],
        store=tmp_path / "m.duckdb",
        consecutive=3,
        on_alert=fired.append,
    ) as mon:
        report = mon.ingest(events)
        assert (report.rows, report.inserted, report.duplicates) == (1200, 1200, 0)
        alerts = mon.evaluate()
        status = mon.status()
    assert len(status) == 2 * 11  # 12 windows, the last still open
    pass_rate = status.filter(pl.col("metric") == "pass_rate")
    assert [a.metric for a in alerts] == ["pass_rate"]
    assert alerts == fired
    alert = alerts[0]
    assert alert.consecutive == 3
    assert alert.false_alarm_rate == pytest.approx(0.01**3)
    assert len(alert.evidence) == 3
    # The alert is raised at the third violating window after the change, not before.
    assert alert.window_start == pass_rate["window_start"][8]


def test_window_counts_match_the_events(tmp_path: Path, baseline: dict, make_events: Any) -> None:
    events = make_events(500)
    with Monitor(baseline, metrics=["pass_rate"], store=tmp_path / "m.duckdb") as mon:
        mon.ingest(events)
        mon.evaluate(final=True)
        status = mon.status()
    expected = events.group_by(pl.col("time").dt.truncate("1h")).len().sort("time")["len"].to_list()
    assert status["n"].to_list() == expected
    assert status["estimate"][0] == pytest.approx(float(events["score"][:100].mean()))


def test_reingesting_adds_nothing_and_evaluates_nothing_twice(
    tmp_path: Path, baseline: dict, make_events: Any
) -> None:
    events = make_events(400)
    store = tmp_path / "m.duckdb"
    with Monitor(baseline, metrics=["pass_rate"], store=store) as mon:
        mon.ingest(events.head(250))
        mon.evaluate()
        n_windows = mon.status().height
    with Monitor(baseline, metrics=["pass_rate"], store=store) as mon:
        again = mon.ingest(events)
        assert (again.inserted, again.duplicates) == (150, 250)
        mon.evaluate()
        status = mon.status()
        assert mon.n_events == 400
    assert n_windows == 2
    assert status.height == 3
    assert status["win"].n_unique() == 3


def test_events_without_id_or_time_are_skipped_and_counted(
    tmp_path: Path, baseline: dict, make_events: Any
) -> None:
    events = make_events(20).with_columns(
        pl.when(pl.int_range(pl.len()) == 3)
        .then(None)
        .otherwise(pl.col("event_id"))
        .alias("event_id"),
        pl.when(pl.int_range(pl.len()) == 5).then(None).otherwise(pl.col("time")).alias("time"),
    )
    with Monitor(baseline, metrics=["pass_rate"], store=tmp_path / "m.duckdb") as mon:
        report = mon.ingest(events)
        assert report.skipped == {"no id": 1, "no timestamp": 1}
        assert report.inserted == 18
        with pytest.raises(EventError, match="`time`"):
            mon.ingest(events.drop("time"))
        with pytest.raises(EventError, match="event_id"):
            mon.ingest(pl.DataFrame({"time": events["time"], "score": events["score"]}))


def test_sparse_windows_are_recorded_as_skipped(
    tmp_path: Path, baseline: dict, make_events: Any
) -> None:
    # 5 events in hour 0, none in hours 1-2, 100 in hour 3.
    a = make_events(5, every_s=60)
    b = make_events(100, start=300, every_s=36.0)
    with Monitor(baseline, metrics=["pass_rate"], store=tmp_path / "m.duckdb") as mon:
        mon.ingest(pl.concat([a, b]))
        alerts = mon.evaluate(final=True)
        status = mon.status()
    assert alerts == []
    assert status["n"].to_list() == [5, 0, 0, 100]
    assert status["skipped"].to_list()[:3] == [
        "5 values < min_window_size",
        "0 values < min_window_size",
        "0 values < min_window_size",
    ]
    assert status["violated"].to_list()[:3] == [None, None, None]


def test_baseline_and_store_mismatches_are_errors(
    tmp_path: Path, baseline: dict, make_events: Any
) -> None:
    with pytest.raises(ProductionEvalError, match="no values for metric 'refusal_rate'"):
        Monitor(baseline, metrics=["refusal_rate"], store=tmp_path / "a.duckdb")
    with pytest.raises(ProductionEvalError, match="unknown metric 'accuracy_rate'"):
        Monitor(baseline, metrics=["accuracy_rate"], store=tmp_path / "a.duckdb")
    Monitor(baseline, metrics=["pass_rate"], store=tmp_path / "b.duckdb").close()
    with pytest.raises(ProductionEvalError, match="`store` was created for"):
        Monitor(baseline, metrics=["latency_p95"], store=tmp_path / "b.duckdb")
    with pytest.raises(ProductionEvalError, match="`window`"):
        parse_window("an hour")
    assert parse_window("15m") == 900.0


def test_jsonl_ingestion(tmp_path: Path, baseline: dict, make_events: Any) -> None:
    events = make_events(150)
    path = tmp_path / "events.jsonl"
    with path.open("w") as fh:
        for row in events.iter_rows(named=True):
            row["time"] = row["time"].isoformat()
            fh.write(json.dumps(row) + "\n")
    with Monitor(
        baseline, metrics=["pass_rate", "latency_p95"], store=tmp_path / "m.duckdb"
    ) as mon:
        report = mon.ingest(path)
        assert report.inserted == 150
        assert mon.ingest(path).inserted == 0


_CHILD = textwrap.dedent(
    """
    import sys
    import numpy as np
    from crucible.production_eval import Monitor
    base = {"pass_rate": np.array([1.0, 0.0] * 50)}
    mon = Monitor(base, metrics=["pass_rate"], store=sys.argv[1], batch_size=200)
    def committed(i):
        print(f"batch {i}", flush=True)
        if i == 2:
            sys.stdin.readline()  # wait for the parent to kill us, mid-file
    mon.ingest(sys.argv[2], on_batch=committed)
    """
)


def test_sigkill_mid_file_then_restart_counts_every_event_once(
    tmp_path: Path, baseline: dict, make_events: Any
) -> None:
    events = make_events(2000)
    path = tmp_path / "events.parquet"
    events.write_parquet(path)
    store = tmp_path / "m.duckdb"
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(sys.path)}
    child = subprocess.Popen(
        [sys.executable, "-c", _CHILD, str(store), str(path)],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
        env=env,
    )
    assert child.stdout is not None
    lines = [child.stdout.readline().strip() for _ in range(3)]
    assert lines == ["batch 0", "batch 1", "batch 2"]
    child.send_signal(signal.SIGKILL)
    child.wait(timeout=60)
    assert child.returncode == -signal.SIGKILL
    con = duckdb.connect(str(store))
    stored = con.execute("SELECT count(*) FROM events").fetchall()[0][0]
    con.close()
    assert stored == 600  # three committed batches of 200, nothing half-written
    with Monitor(
        {"pass_rate": np.array([1.0, 0.0] * 50)}, metrics=["pass_rate"], store=store
    ) as mon:
        report = mon.ingest(path)
        assert (report.inserted, report.duplicates) == (1400, 600)
        assert mon.n_events == 2000
        mon.evaluate(final=True)
        assert mon.status()["n"].sum() == 2000


def test_otlp_json_spans_are_keyed_by_span_id(
    tmp_path: Path, baseline: dict, make_events: Any
) -> None:
    spans = [
        {
            "traceId": f"{i + 1:032x}",
            "spanId": f"{i + 1:016x}",
            "name": "chat m",
            "startTimeUnixNano": str(1_767_225_600_000_000_000 + i * 10**9),
            "endTimeUnixNano": str(1_767_225_600_500_000_000 + i * 10**9),
            "attributes": [
                {"key": "gen_ai.request.model", "value": {"stringValue": "m"}},
                {"key": "crucible.cost_usd", "value": {"doubleValue": 0.001 + i / 1000}},
            ],
        }
        for i in range(30)
    ]
    doc = {
        "resourceSpans": [
            {
                "resource": {"attributes": []},
                "scopeSpans": [{"scope": {"name": "t"}, "spans": spans}],
            }
        ]
    }
    path = tmp_path / "spans.json"
    path.write_text(json.dumps(doc))
    with Monitor(baseline, metrics=["cost_per_request"], store=tmp_path / "m.duckdb") as mon:
        assert mon.ingest(path).inserted == 30
        assert mon.ingest(path).duplicates == 30
        mon.evaluate(final=True)
        row = mon.status().row(0, named=True)
    assert row["n"] == 30
    assert row["estimate"] == pytest.approx(0.001 + 29 / 2000)


def test_streaming_detector_alerts_state_their_calibrated_rate(
    tmp_path: Path, baseline: dict, make_events: Any
) -> None:
    from crucible.production_eval import PageHinkley

    acc = np.where(np.arange(1000) < 500, 0.9, 0.5)
    events = make_events(1000, accuracy=acc)
    store = tmp_path / "m.duckdb"
    det = PageHinkley(threshold=12.0, delta=0.01, mode="down")
    with Monitor(
        baseline,
        metrics=["pass_rate"],
        store=store,
        consecutive=50,
        detectors={"pass_rate": (det, 2e-5)},
    ) as mon:
        mon.ingest(events)
        alerts = mon.evaluate()
    drift = [a for a in alerts if a.kind == "drift"]
    assert drift and all(a.false_alarm_rate == 2e-5 for a in drift)
    assert min(a.window_start for a in drift) >= events["time"][500].replace(minute=0)
    # Reopened, the detector replays the evaluated windows silently: no alert is repeated.
    det2 = PageHinkley(threshold=12.0, delta=0.01, mode="down")
    with Monitor(
        baseline,
        metrics=["pass_rate"],
        store=store,
        consecutive=50,
        detectors={"pass_rate": (det2, 2e-5)},
    ) as mon:
        assert mon.evaluate() == []
        assert mon.alerts().height == len(drift)
        assert det2._n == det._n


def test_repeated_ids_within_a_source_count_once(
    tmp_path: Path, baseline: dict, make_events: Any
) -> None:
    events = make_events(50)
    with Monitor(baseline, metrics=["pass_rate"], store=tmp_path / "m.duckdb") as mon:
        report = mon.ingest(pl.concat([events, events.head(10)]))
        assert (report.rows, report.inserted, report.duplicates) == (60, 50, 10)


def test_window_tests_match_scipy() -> None:
    from scipy import stats

    from crucible.production_eval import METRICS, compare_window

    rng = np.random.default_rng(8)
    base, win = rng.lognormal(6, 0.4, 400), rng.lognormal(6.1, 0.4, 120)
    sig = METRICS["latency_mean"]
    welch = compare_window(sig, base, win, alpha=0.01)
    assert welch.p_value == pytest.approx(
        stats.ttest_ind(win, base, equal_var=False, alternative="greater").pvalue
    )
    mw = compare_window(sig, base, win, alpha=0.01, continuous_test="mann-whitney")
    assert mw.p_value == pytest.approx(
        stats.mannwhitneyu(win, base, alternative="greater").pvalue, rel=1e-6
    )
    b, w = (rng.random(1000) < 0.1).astype(float), (rng.random(200) < 0.2).astype(float)
    prop = compare_window(METRICS["error_rate"], b, w, alpha=0.01)
    p1, p2, pooled = w.mean(), b.mean(), (w.sum() + b.sum()) / 1200
    z = (p1 - p2) / np.sqrt(pooled * (1 - pooled) * (1 / 200 + 1 / 1000))
    assert prop.p_value == pytest.approx(stats.norm.sf(z))
    with pytest.raises(ProductionEvalError, match="`continuous_test`"):
        Monitor(
            {"latency_mean": base},
            metrics=["latency_mean"],
            store=":memory:",
            continuous_test="kruskal",
        )
