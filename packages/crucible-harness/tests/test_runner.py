from __future__ import annotations

import asyncio
import json
from pathlib import Path

import duckdb
import polars as pl
import pytest
from polars.testing import assert_frame_equal

from crucible.core import BadRequestError, Completion, Item, Usage, get_model
from crucible.harness import (
    Budget,
    Condition,
    Experiment,
    FingerprintMismatchError,
    Limits,
    RunStatus,
    TrialContext,
    load_run,
    run,
    run_sync,
    schedule,
)

from .conftest import arithmetic, experiment, sim

VOLATILE = ["started_at", "finished_at", "wall_ms", "session"]


def stable(frame: pl.DataFrame) -> pl.DataFrame:
    return frame.drop(VOLATILE).sort(["condition", "item_id", "repeat"])


async def test_one_row_per_trial_with_scores_tokens_and_costs(tmp_path: Path) -> None:
    exp = experiment(n=10, repeats=2)
    result = await run(exp, tmp_path)
    trials = result.trials
    assert result.status is RunStatus.COMPLETE
    assert trials.height == 40
    assert trials.select("condition", "item_id", "repeat").unique().height == 40
    assert trials["order"].to_list() == list(range(40))
    ok = trials.filter(pl.col("error_type").is_null())
    expected = {f"q{i}": str(2 * i + 1) for i in range(10)}
    for row in ok.iter_rows(named=True):
        assert row["score_numeric"] == float(row["prediction"] == expected[row["item_id"]])
        assert row["input_tokens"] > 0 and row["output_tokens"] > 0
        assert row["cost_usd"] > 0
        assert row["provider"] == "sim"
    assert 0.6 < ok["score_numeric"].mean() < 1.0  # type: ignore[operator]
    summary = result.summary()
    assert summary["condition"].to_list() == ["a", "b"]
    a = trials.filter(pl.col("condition") == "a")
    assert summary["numeric"][0] == pytest.approx(a["score_numeric"].mean())
    assert result.cost_usd == pytest.approx(trials["cost_usd"].sum())
    assert "toy-" in str(result) and "[complete]: 40/40 trials" in str(result)


async def test_concurrency_and_order_do_not_change_results(tmp_path: Path) -> None:
    exp = experiment(n=40, repeats=2)
    serial = await run(
        exp.with_options(limits=Limits(concurrency=1, backoff_base_s=0.001)), tmp_path / "c1"
    )
    wide = await run(
        exp.with_options(limits=Limits(concurrency=64, backoff_base_s=0.001)), tmp_path / "c64"
    )
    assert serial.trials.height == 160
    assert_frame_equal(stable(serial.trials), stable(wide.trials))
    keys = ["condition", "item_id", "repeat", "attempt", "error_type"]
    assert_frame_equal(
        serial.attempts.select(keys).sort(keys), wide.attempts.select(keys).sort(keys)
    )
    retried = serial.trials.filter(pl.col("attempts") > 1).height
    assert retried > 0  # the 10 % transient failures were retried, identically in both runs


def test_schedule_is_a_seeded_permutation() -> None:
    exp = experiment(n=5, repeats=2)
    order = schedule(exp)
    assert sorted(order) == sorted(
        (c, f"q{i}", r) for c in "ab" for i in range(5) for r in range(2)
    )
    assert order == schedule(experiment(n=5, repeats=2))
    assert order != schedule(exp.with_options(seed=12))
    assert schedule(exp.with_options(randomize=False))[:3] == [
        ("a", "q0", 0),
        ("a", "q0", 1),
        ("a", "q1", 0),
    ]


async def test_exhausted_retries_are_recorded_as_errors(tmp_path: Path) -> None:
    exp = experiment(
        n=3,
        repeats=1,
        conditions=[Condition("down", sim(error_rate=1.0))],
        limits=Limits(max_retries=2, backoff_base_s=0.001),
    )
    result = await run(exp, tmp_path)
    assert result.trials["error_type"].to_list() == ["ServerError"] * 3
    assert result.trials["attempts"].to_list() == [3, 3, 3]
    assert result.trials["score_numeric"].null_count() == 3
    assert result.attempts.height == 9
    assert set(result.attempts["retryable"].to_list()) == {True}
    assert result.errors == 3


async def test_pipeline_errors_that_are_not_transient_are_not_retried(tmp_path: Path) -> None:
    calls: list[int] = []

    async def rejects(item: Item, context: TrialContext) -> Completion:
        calls.append(context.attempt)
        raise BadRequestError("bad request", provider="custom")

    exp = experiment(n=2, repeats=1, conditions=[Condition("p", rejects)])
    result = await run(exp, tmp_path)
    assert result.trials["error_type"].to_list() == ["BadRequestError"] * 2
    assert calls == [0, 0]


async def test_per_call_timeout_is_retried_then_recorded(tmp_path: Path) -> None:
    never = asyncio.Event()

    async def hangs(item: Item, context: TrialContext) -> Completion:
        await never.wait()
        raise AssertionError("unreachable")

    exp = experiment(
        n=2,
        repeats=1,
        conditions=[Condition("slow", hangs)],
        limits=Limits(timeout_s=0.02, max_retries=1, backoff_base_s=0.001),
    )
    result = await run(exp, tmp_path)
    assert result.trials["error_type"].to_list() == ["ProviderTimeoutError"] * 2
    assert result.trials["attempts"].to_list() == [2, 2]


async def test_pipeline_context_carries_a_schedule_independent_seed(tmp_path: Path) -> None:
    seen: dict[tuple[str, int], int] = {}

    async def pipeline(item: Item, context: TrialContext) -> Completion:
        seen[(item.id, context.repeat)] = context.seed
        assert context.prompt == f"Q: {item.input}"
        return Completion(item.expected, "p", "custom", Usage(3, 1), cost_usd=0.001)

    exp = experiment(n=4, repeats=2, conditions=[Condition("p", pipeline, prompt="Q: {input}")])
    result = await run(exp, tmp_path / "1")
    first = dict(seen)
    seen.clear()
    await run(exp.with_options(limits=Limits(concurrency=1)), tmp_path / "2")
    assert seen == first
    assert len(set(first.values())) == 8
    assert result.trials["score_numeric"].to_list() == [1.0] * 8


async def test_resume_runs_only_missing_trials(tmp_path: Path) -> None:
    exp = experiment(n=20, repeats=2)
    whole = await run(exp, tmp_path / "whole")
    stopped = await run(exp.with_options(budget=Budget(usd=0.08)), tmp_path / "run")
    assert stopped.status is RunStatus.PARTIAL
    assert 0 < stopped.trials.height < 80
    assert "budget of $0.0800 reached" in (stopped.reason or "")
    resumed = await run(exp, tmp_path / "run", resume=True)
    assert resumed.status is RunStatus.COMPLETE
    assert resumed.new_trials == 80 - stopped.trials.height
    assert_frame_equal(stable(resumed.trials), stable(whole.trials))
    sessions = load_run(tmp_path / "run").sessions
    assert sessions["status"].to_list() == ["partial", "complete"]


async def test_resume_refuses_a_changed_experiment_and_names_the_change(tmp_path: Path) -> None:
    exp = experiment(n=5, repeats=1)
    await run(exp.with_options(budget=Budget(usd=0.01)), tmp_path)
    changed = exp.with_options(
        conditions=[exp.conditions[0], Condition("b", exp.conditions[1].model, prompt="A: {input}")]
    )
    with pytest.raises(FingerprintMismatchError, match=r"conditions\.b\.prompt\.text") as info:
        await run(changed, tmp_path, resume=True)
    assert info.value.changed == ["conditions.b.prompt.text"]
    with pytest.raises(FingerprintMismatchError, match="seed"):
        await run(exp.with_options(seed=99), tmp_path, resume=True)
    forced = await run(changed, tmp_path, resume=True, force=True)
    assert forced.trials.height == 10


async def test_manifest_records_the_environment_and_never_an_api_key(tmp_path: Path) -> None:
    secret = "sk-test-do-not-store-0123456789"
    model = get_model(
        "openai-compatible:local", base_url="http://127.0.0.1:9/v1", api_key=secret, max_retries=0
    )
    exp = experiment(
        n=1,
        repeats=1,
        conditions=[Condition("remote", model, params={"api_key": secret, "temperature": 0})],
        limits=Limits(max_retries=0, timeout_s=5),
    )
    try:
        result = await run(exp, tmp_path)
    finally:
        await model.aclose()  # type: ignore[attr-defined]
    assert result.trials["error_type"].to_list() == ["ProviderConnectionError"]
    manifest = json.loads((tmp_path / "manifest.json").read_text())
    assert manifest["dataset"]["content_hash"] == exp.dataset.content_hash
    assert manifest["price_table"]["default"].startswith("20")
    assert manifest["seeds"]["root"] == 11
    assert manifest["packages"]["crucible-harness"] == "0.1.0"
    assert manifest["python"].count(".") == 2
    assert manifest["config"]["conditions"][0]["params"] == {"api_key": "***", "temperature": 0}
    con = duckdb.connect(str(tmp_path / "run.duckdb"), read_only=True)
    try:
        tables = [
            r[0] for r in con.execute("SELECT table_name FROM information_schema.tables").fetchall()
        ]
        assert {"trials", "attempts", "manifest", "sessions", "events"} <= set(tables)
        for table in tables:
            dump = str(con.execute(f'SELECT CAST(COLUMNS(*) AS VARCHAR) FROM "{table}"').fetchall())
            assert secret not in dump, table
    finally:
        con.close()
    assert secret not in (tmp_path / "manifest.json").read_text()


@pytest.mark.parametrize("trace_trials", [False, True])
async def test_model_spans_and_scores_are_captured_as_events(
    tmp_path: Path, trace_trials: bool
) -> None:
    exp = experiment(n=3, repeats=1)
    result = await run(exp, tmp_path, trace_trials=trace_trials)
    con = duckdb.connect(str(tmp_path / "run.duckdb"), read_only=True)
    try:
        rows = con.execute(
            "SELECT count(*) FILTER (WHERE name = 'gen_ai.evaluation.result'), "
            "count(*) FILTER (WHERE name LIKE 'chat %'), count(DISTINCT experiment) "
            "FROM events WHERE experiment = ?",
            [result.experiment_id],
        ).fetchone()
    finally:
        con.close()
    assert rows is not None
    scored = result.trials["score_numeric"].drop_nulls().len()
    assert rows[0] == (scored if trace_trials else 0)
    assert rows[1] == result.attempts.height  # one span per model call, retries included
    assert rows[2] == 1


def test_run_sync_and_string_specs_use_the_experiment_seed(tmp_path: Path) -> None:
    exp = Experiment(
        "spec", arithmetic(4), [Condition("g", "sim:model-b")], scorers=["numeric"], seed=3
    )
    first = run_sync(exp, tmp_path / "1")
    again = run_sync(exp, tmp_path / "2")
    assert first.trials["prediction"].to_list() == again.trials["prediction"].to_list()
    assert exp.models["g"].seed == 3  # type: ignore[union-attr]


async def test_fail_on_error_stops_the_run(tmp_path: Path) -> None:
    exp = experiment(
        n=10,
        repeats=1,
        conditions=[Condition("down", sim(error_rate=1.0))],
        limits=Limits(concurrency=1, max_retries=0, fail_on_error=3),
    )
    result = await run(exp, tmp_path)
    assert result.status is RunStatus.FAILED
    assert result.reason == "3 of 3 trials failed (fail_on_error=3)"
    assert result.trials.height == 3
