"""The local collector's two steps: an OTLP/HTTP export request, as the SDK's own encoder makes it, decoded into
spans; each span in Zipkin's v2 model (ids, parent, kind, microseconds, string tags, links and errors kept)."""
from __future__ import annotations

import gzip

import pytest
from opentelemetry.exporter.otlp.proto.common.trace_encoder import encode_spans
from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from opentelemetry.trace import Link, SpanKind, Status, StatusCode

from scripts.stack.otlp import decode_spans
from scripts.stack.otlp_zipkin import zipkin_span


@pytest.fixture
def finished():
    """Spans the SDK finished: a SERVER root, an INTERNAL child with attributes and a link, a failed PRODUCER."""
    exporter = InMemorySpanExporter()
    provider = TracerProvider(resource=Resource.create({"service.name": "order-ms"}))
    provider.add_span_processor(SimpleSpanProcessor(exporter))
    tracer = provider.get_tracer("test")
    with tracer.start_as_current_span("POST /orders", kind=SpanKind.SERVER) as root:
        linked = root.get_span_context()
        with tracer.start_as_current_span("write", attributes={"count": 3, "names": ["a", "b"], "ok": True},
                                          links=[Link(linked)]):
            pass
        with tracer.start_as_current_span("new_orders publish", kind=SpanKind.PRODUCER) as publish:
            publish.set_status(Status(StatusCode.ERROR, "no acknowledgement"))
    return exporter.get_finished_spans()


def body_of(spans) -> bytes:
    return encode_spans(spans).SerializeToString()


def test_an_export_request_decodes_into_its_spans(finished):
    decoded = {span.name: span for span in decode_spans(body_of(finished))}
    root, write, publish = decoded["POST /orders"], decoded["write"], decoded["new_orders publish"]
    trace_id = format(finished[0].context.trace_id, "032x")
    assert {span.trace_id for span in decoded.values()} == {trace_id}
    assert {span.service for span in decoded.values()} == {"order-ms"}
    assert (root.kind, root.parent_span_id) == ("SERVER", None)
    assert write.parent_span_id == publish.parent_span_id == root.span_id
    assert write.attributes == {"count": 3, "names": ["a", "b"], "ok": True}
    assert list(write.links) == [(trace_id, root.span_id)]
    assert (publish.kind, publish.error, root.error) == ("PRODUCER", True, False)


def test_gzip_bodies_decode_and_garbage_is_a_value_error(finished):
    assert len(decode_spans(gzip.compress(body_of(finished)), "gzip")) == 3
    for body, encoding in ((b"\xff\xff\xff", None), (b"not gzip", "gzip")):
        with pytest.raises(ValueError):
            decode_spans(body, encoding)


def test_each_span_becomes_zipkins_model(finished):
    decoded = {span.name: span for span in decode_spans(body_of(finished))}
    root, write, publish = (zipkin_span(decoded[name]) for name in ("POST /orders", "write", "new_orders publish"))
    assert (root["kind"], "parentId" in root, root["localEndpoint"]) == ("SERVER", False, {"serviceName": "order-ms"})
    assert "kind" not in write and write["parentId"] == root["id"] == decoded["POST /orders"].span_id
    assert write["tags"] == {"count": "3", "names": '["a", "b"]', "ok": "true",
                             "otel.link.0": f"{root['traceId']}-{root['id']}"}
    assert (publish["kind"], publish["tags"]["error"]) == ("PRODUCER", "true")
    assert root["timestamp"] == decoded["POST /orders"].start_ns // 1000 and root["duration"] >= 1
