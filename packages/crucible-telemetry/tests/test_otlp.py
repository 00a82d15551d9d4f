from __future__ import annotations

import importlib.util
from collections.abc import AsyncIterator

import pytest
from aiohttp import web

from crucible.core import semconv as sc
from crucible.telemetry import TelemetryError, capture, record_score

from .conftest import emit_call

pytestmark = pytest.mark.skipif(
    importlib.util.find_spec("opentelemetry.exporter.otlp.proto.http") is None,
    reason="the `otlp` extra (opentelemetry-exporter-otlp-proto-http) is not installed",
)


class Collector:
    """A minimal OTLP/HTTP trace receiver on 127.0.0.1 that decodes protobuf requests."""

    def __init__(self) -> None:
        self.requests: list[tuple[str, str, bytes]] = []
        self.url = ""

    async def handle(self, request: web.Request) -> web.Response:
        self.requests.append((request.path, request.content_type, await request.read()))
        return web.Response(body=b"", content_type="application/x-protobuf")

    def spans(self) -> list[object]:
        from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import (
            ExportTraceServiceRequest,
        )

        out: list[object] = []
        for _, _, body in self.requests:
            message = ExportTraceServiceRequest()
            message.ParseFromString(body)
            for resource_spans in message.resource_spans:
                for scope_spans in resource_spans.scope_spans:
                    out.extend(scope_spans.spans)
        return out


@pytest.fixture
async def collector() -> AsyncIterator[Collector]:
    c = Collector()
    app = web.Application()
    app.router.add_post("/v1/traces", c.handle)
    runner = web.AppRunner(app)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
    c.url = f"http://127.0.0.1:{port}"
    yield c
    await runner.cleanup()


async def test_spans_reach_the_collector_as_otlp_protobuf(collector: Collector) -> None:
    async with capture("exp-otlp", otlp_endpoint=collector.url) as cap:
        emit_call(item_id="q1", model="gpt-4o")
        emit_call(item_id="q2", model="gpt-4o", error="RateLimitError")
        record_score("exact_match", 1.0, item_id="q1")
    assert {(path, ctype) for path, ctype, _ in collector.requests} == {
        ("/v1/traces", "application/x-protobuf")
    }
    spans = collector.spans()
    names = sorted(s.name for s in spans)  # type: ignore[attr-defined]
    assert names == ["chat gpt-4o", "chat gpt-4o", "evaluation exact_match"]
    by_item = {}
    for span in spans:
        attrs = {kv.key: kv.value for kv in span.attributes}  # type: ignore[attr-defined]
        if sc.CRUCIBLE_ITEM_ID in attrs:
            by_item[attrs[sc.CRUCIBLE_ITEM_ID].string_value] = (span, attrs)
    span, attrs = by_item["q2"]
    assert attrs[sc.ERROR_TYPE].string_value == "RateLimitError"
    assert span.status.code == 2  # type: ignore[attr-defined]
    evaluation = next(s for s in spans if s.name == "evaluation exact_match")  # type: ignore[attr-defined]
    event = evaluation.events[0]  # type: ignore[attr-defined]
    assert event.name == "gen_ai.evaluation.result"
    event_attrs = {kv.key: kv.value for kv in event.attributes}
    assert event_attrs[sc.GEN_AI_EVALUATION_SCORE_VALUE].double_value == 1.0
    # The same spans were stored locally, with matching ids.
    local = cap.frame()
    sent_ids = {span.span_id.hex() for span, _ in by_item.values()}  # type: ignore[attr-defined]
    assert sent_ids <= set(local["span_id"])


def test_bad_endpoint() -> None:
    with pytest.raises(TelemetryError, match="`otlp_endpoint` must be an http"):
        capture("x", otlp_endpoint="localhost:4318")
