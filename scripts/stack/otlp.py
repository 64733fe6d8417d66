"""OTLP/HTTP trace export requests (protobuf, as OTEL_EXPORTER_OTLP_PROTOCOL=http/protobuf sends them) decoded into
plain spans with `opentelemetry-proto`: what the local trace backend's collector forwards, the tests' receiver
records and the bench's receiver counts; `ExportHandler` is the HTTP front all three share."""
from __future__ import annotations

import gzip
import zlib
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler
from typing import NamedTuple

from google.protobuf.message import DecodeError
from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import (
    ExportTraceServiceRequest,
    ExportTraceServiceResponse,
)
from opentelemetry.proto.common.v1.common_pb2 import AnyValue
from opentelemetry.proto.trace.v1.trace_pb2 import Span as ProtoSpan
from opentelemetry.proto.trace.v1.trace_pb2 import Status

TRACES_PATH = "/v1/traces"
CONTENT_TYPE = "application/x-protobuf"
# What an exporter is answered on success: an empty ExportTraceServiceResponse (no partial rejection).
SUCCESS_BODY = ExportTraceServiceResponse().SerializeToString()

KINDS = {ProtoSpan.SPAN_KIND_INTERNAL: "INTERNAL", ProtoSpan.SPAN_KIND_SERVER: "SERVER",
         ProtoSpan.SPAN_KIND_CLIENT: "CLIENT", ProtoSpan.SPAN_KIND_PRODUCER: "PRODUCER",
         ProtoSpan.SPAN_KIND_CONSUMER: "CONSUMER", ProtoSpan.SPAN_KIND_UNSPECIFIED: "UNSPECIFIED"}


class Link(NamedTuple):
    """A span this one refers to (a batch's parents): equal to the (trace_id, span_id) pair."""

    trace_id: str
    span_id: str


@dataclass(frozen=True)
class Span:
    """One span as received; ids in lowercase hex as W3C `traceparent` writes them."""

    service: str  # the resource's service.name
    trace_id: str
    span_id: str
    parent_span_id: str | None  # None for a root span
    name: str
    kind: str  # SERVER, CLIENT, PRODUCER, CONSUMER, INTERNAL
    start_ns: int
    end_ns: int
    attributes: dict = field(default_factory=dict, hash=False)
    links: tuple[Link, ...] = ()
    error: bool = False


def _value(value: AnyValue):
    which = value.WhichOneof("value")
    if which == "array_value":
        return [_value(item) for item in value.array_value.values]
    if which == "kvlist_value":
        return {item.key: _value(item.value) for item in value.kvlist_value.values}
    if which == "bytes_value":
        return value.bytes_value.hex()
    return getattr(value, which) if which else None


def _attributes(key_values) -> dict:
    return {item.key: _value(item.value) for item in key_values}


def decode_request(body: bytes, content_encoding: str | None = None) -> ExportTraceServiceRequest:
    """One export request; ValueError for a body that is not one."""
    try:
        if (content_encoding or "").lower() == "gzip":
            body = gzip.decompress(body)
        request = ExportTraceServiceRequest()
        request.ParseFromString(body)
    except (DecodeError, OSError, EOFError, zlib.error) as error:
        raise ValueError(f"not an OTLP ExportTraceServiceRequest: {error}") from None
    return request


def decode_spans(body: bytes, content_encoding: str | None = None) -> list[Span]:
    """Every span of one export request; ValueError for a body that is not one."""
    request = decode_request(body, content_encoding)
    spans = []
    for resource_spans in request.resource_spans:
        service = str(_attributes(resource_spans.resource.attributes).get("service.name", ""))
        for scope_spans in resource_spans.scope_spans:
            for span in scope_spans.spans:
                spans.append(Span(
                    service=service, trace_id=span.trace_id.hex(), span_id=span.span_id.hex(),
                    parent_span_id=span.parent_span_id.hex() or None, name=span.name,
                    kind=KINDS.get(span.kind, "UNSPECIFIED"), start_ns=span.start_time_unix_nano,
                    end_ns=span.end_time_unix_nano, attributes=_attributes(span.attributes),
                    links=tuple(Link(link.trace_id.hex(), link.span_id.hex()) for link in span.links),
                    error=span.status.code == Status.STATUS_CODE_ERROR))
    return spans


class ExportHandler(BaseHTTPRequestHandler):
    """`POST /v1/traces` of an OTLP/HTTP receiver: `export_body()` is the request's body (None after answering 404
    for another path), `answer()` writes a whole answer; quiet, since one line per export would drown any log."""

    def export_body(self) -> bytes | None:
        body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
        if self.path.split("?")[0] != TRACES_PATH:
            self.answer(404, b"only POST /v1/traces (OTLP/HTTP protobuf)", "text/plain")
            return None
        return body

    def export_spans(self) -> tuple[bytes, list[Span]] | None:
        """The export's body and its spans; None once answered 404 (another path) or 400 (not an export request)."""
        body = self.export_body()
        if body is None:
            return None
        try:
            return body, decode_spans(body, self.headers.get("Content-Encoding"))
        except ValueError as error:
            self.answer(400, str(error).encode(), "text/plain")
            return None

    def answer(self, status: int, body: bytes = SUCCESS_BODY, content_type: str = CONTENT_TYPE) -> None:
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format: str, *args) -> None:  # noqa: A002 (http.server's signature)
        """Quiet."""
