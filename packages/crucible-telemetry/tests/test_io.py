from __future__ import annotations

import json
from pathlib import Path

import polars as pl
import pytest

from crucible.core import semconv as sc
from crucible.telemetry import (
    EVALUATION_EVENT,
    EVENT_SCHEMA,
    ImportSchemaError,
    MemoryStore,
    TelemetryError,
    capture,
    export,
    import_events,
    import_otlp_json,
    record_score,
)

from .conftest import emit_call


def _captured() -> pl.DataFrame:
    with capture("exp-io") as cap:
        emit_call(item_id="q1", latency_ms=12.5)
        emit_call(item_id="q2", error="ProviderTimeoutError")
        ended = emit_call(item_id="q3")
    from opentelemetry import trace

    with capture("exp-io", store=cap.store):
        record_score("exact_match", 1.0, span=trace.NonRecordingSpan(ended))
    return cap.store.frame().sort("time", "name")


@pytest.mark.parametrize("suffix", [".csv", ".jsonl", ".parquet"])
def test_export_then_import_round_trips(tmp_path: Path, suffix: str) -> None:
    frame = _captured()
    path = export(frame, tmp_path / f"events{suffix}")
    assert sorted(p.name for p in tmp_path.iterdir()) == [f"events{suffix}"]  # no temp left
    back = import_events(path).sort("time", "name")
    assert dict(back.schema) == EVENT_SCHEMA
    assert back.equals(frame)


def test_export_from_store_and_bad_targets(tmp_path: Path) -> None:
    store = MemoryStore()
    store.extend(_captured())
    out = export(store, tmp_path / "e.data", format="parquet")
    assert pl.read_parquet(out).height == 4
    with pytest.raises(TelemetryError, match=r"cannot tell the format from the suffix '\.txt'"):
        export(store, tmp_path / "e.txt")
    with pytest.raises(TelemetryError, match="is a directory"):
        export(store, tmp_path, format="csv")
    with pytest.raises(TelemetryError, match="does not exist; create it"):
        export(store, tmp_path / "nope" / "e.csv")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["e.data"]


def test_import_with_mapping_keeps_other_columns_as_attributes(tmp_path: Path) -> None:
    path = tmp_path / "prod.csv"
    path.write_text(
        "ts,llm,duration,ok,region,usd\n"
        "2025-01-01T10:00:00Z,gpt-4o,120.5,true,eu,0.01\n"
        "2025-01-01T10:00:01+02:00,gpt-4o,80,false,us,\n"
    )
    frame = import_events(
        path,
        mapping={
            "time": "ts",
            "model": "llm",
            "latency_ms": "duration",
            "success": "ok",
            "cost_usd": "usd",
        },
        experiment="prod",
    )
    assert frame["model"].to_list() == ["gpt-4o", "gpt-4o"]
    assert frame["latency_ms"].to_list() == [120.5, 80.0]
    assert frame["success"].to_list() == [True, False]
    assert frame["cost_usd"].to_list() == [0.01, None]
    assert frame["experiment"].to_list() == ["prod", "prod"]
    assert frame["time"].dt.hour().to_list() == [10, 8]  # +02:00 converted to UTC
    assert [json.loads(a) for a in frame["attributes"]] == [{"region": "eu"}, {"region": "us"}]


def test_csv_wrong_column_type_names_file_line_and_column(tmp_path: Path) -> None:
    path = tmp_path / "bad.csv"
    path.write_text("time,latency_ms\n2025-01-01T00:00:00Z,10\n2025-01-01T00:00:01Z,fast\n")
    with pytest.raises(ImportSchemaError) as info:
        import_events(path)
    message = str(info.value)
    assert f"{path}:3:" in message
    assert "column 'latency_ms'" in message
    assert "'fast'" in message
    assert "expected a number" in message


def test_jsonl_wrong_type_and_invalid_json(tmp_path: Path) -> None:
    path = tmp_path / "bad.jsonl"
    path.write_text(
        '{"time": "2025-01-01T00:00:00Z", "input_tokens": 3}\n'
        "\n"
        '{"time": "2025-01-01T00:00:01Z", "input_tokens": "many"}\n'
    )
    with pytest.raises(
        ImportSchemaError, match=rf"{path}:3: column 'input_tokens'.*'many'.*an integer"
    ):
        import_events(path)
    broken = tmp_path / "broken.jsonl"
    broken.write_text('{"time": "2025-01-01T00:00:00Z"}\n{"time": \n')
    with pytest.raises(ImportSchemaError, match=rf"{broken}:2:\d+: invalid JSON"):
        import_events(broken)


def test_parquet_wrong_type_names_the_row(tmp_path: Path) -> None:
    path = tmp_path / "bad.parquet"
    pl.DataFrame(
        {"time": ["2025-01-01T00:00:00Z", "yesterday"], "success": [True, False]}
    ).write_parquet(path)
    with pytest.raises(ImportSchemaError, match=rf"{path}: row 2: column 'time'.*'yesterday'"):
        import_events(path)


def test_import_mapping_errors(tmp_path: Path) -> None:
    path = tmp_path / "p.csv"
    path.write_text("when,model\n2025-01-01T00:00:00Z,m\n")
    with pytest.raises(ImportSchemaError, match="no `time` column; map the file's timestamp"):
        import_events(path)
    with pytest.raises(
        ImportSchemaError, match="maps 'latency_ms' to column 'dur', which the file lacks"
    ):
        import_events(path, mapping={"time": "when", "latency_ms": "dur"})
    with pytest.raises(TelemetryError, match="`mapping` has keys \\['region'\\]"):
        import_events(path, mapping={"region": "when"})
    with pytest.raises(TelemetryError, match="is not a file"):
        import_events(tmp_path / "missing.csv")


def _any(value: object) -> dict[str, object]:
    if isinstance(value, bool):
        return {"boolValue": value}
    if isinstance(value, int):
        return {"intValue": str(value)}
    if isinstance(value, float):
        return {"doubleValue": value}
    if isinstance(value, list):
        return {"arrayValue": {"values": [_any(v) for v in value]}}
    return {"stringValue": value}


def _kv(attrs: dict[str, object]) -> list[dict[str, object]]:
    return [{"key": k, "value": _any(v)} for k, v in attrs.items()]


def test_import_otlp_json_from_collector_file_exporter(tmp_path: Path) -> None:
    start = 1_735_689_600_000_000_000  # 2025-01-01T00:00:00Z
    call = {
        "traceId": "5b8efff798038103d269b633813fc60c",
        "spanId": "eee19b7ec3c1b174",
        "parentSpanId": "",
        "name": "chat gpt-4o",
        "kind": 3,
        "startTimeUnixNano": str(start),
        "endTimeUnixNano": str(start + 250_000_000),
        "attributes": _kv(
            {
                sc.GEN_AI_PROVIDER_NAME: "openai",
                sc.GEN_AI_REQUEST_MODEL: "gpt-4o",
                sc.GEN_AI_USAGE_INPUT_TOKENS: 12,
                sc.GEN_AI_USAGE_OUTPUT_TOKENS: 34,
                sc.CRUCIBLE_COST_USD: 0.002,
                sc.GEN_AI_RESPONSE_FINISH_REASONS: ["stop"],
                "http.retry": False,
            }
        ),
        "events": [
            {
                "timeUnixNano": str(start + 300_000_000),
                "name": EVALUATION_EVENT,
                "attributes": _kv(
                    {sc.GEN_AI_EVALUATION_NAME: "relevance", sc.GEN_AI_EVALUATION_SCORE_VALUE: 0.8}
                ),
            }
        ],
        "status": {},
    }
    failed = dict(
        call,
        spanId="eee19b7ec3c1b175",
        parentSpanId="eee19b7ec3c1b174",
        events=[],
        status={"code": 2, "message": "boom"},
    )
    plain = dict(call, spanId="eee19b7ec3c1b176", attributes=_kv({"http.method": "GET"}), events=[])
    line = {
        "resourceSpans": [
            {
                "resource": {"attributes": _kv({"service.name": "api"})},
                "scopeSpans": [{"scope": {"name": "x"}, "spans": [call, failed, plain]}],
            }
        ]
    }
    path = tmp_path / "traces.json"
    path.write_text(json.dumps(line) + "\n" + json.dumps({"resourceSpans": []}) + "\n")
    frame = import_otlp_json(path, experiment="prod")
    assert frame.height == 3  # two calls and one evaluation; the plain HTTP span is skipped
    first = frame.row(0, named=True)
    assert first["trace_id"] == "5b8efff798038103d269b633813fc60c"
    assert first["model"] == "gpt-4o"
    assert first["input_tokens"] == 12
    assert first["latency_ms"] == pytest.approx(250.0)
    assert first["success"] is True
    assert json.loads(first["attributes"]) == {
        sc.GEN_AI_RESPONSE_FINISH_REASONS: ["stop"],
        "http.retry": False,
    }
    evaluation = frame.filter(pl.col("name") == EVALUATION_EVENT).row(0, named=True)
    assert evaluation["name"] == EVALUATION_EVENT
    assert evaluation["score"] == pytest.approx(0.8)
    assert evaluation["model"] == "gpt-4o"
    failure = frame.row(1, named=True)
    assert failure["success"] is False
    assert failure["parent_span_id"] == "eee19b7ec3c1b174"


def test_import_otlp_json_errors(tmp_path: Path) -> None:
    path = tmp_path / "bad.json"
    path.write_text('{"resourceSpans": []}\n{"resourceSpans": [\n')
    with pytest.raises(ImportSchemaError, match=rf"{path}:2:\d+: invalid JSON"):
        import_otlp_json(path)
    wrong = tmp_path / "wrong.json"
    wrong.write_text('{"resourceMetrics": []}\n')
    with pytest.raises(ImportSchemaError, match="expected an object with `resourceSpans`"):
        import_otlp_json(wrong)
    nospan = tmp_path / "nospan.json"
    nospan.write_text(json.dumps({"resourceSpans": [{"scopeSpans": [{"spans": [{"name": "x"}]}]}]}))
    with pytest.raises(
        ImportSchemaError, match=r"nospan.json:1: resourceSpans\[0\].scopeSpans\[0\].spans\[0\]"
    ):
        import_otlp_json(nospan)
