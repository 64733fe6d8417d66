"""A minimal OTLP/HTTP trace receiver for the bench: accepts `POST /v1/traces` (protobuf, as the SDK's
http/protobuf exporter sends it), decodes it with opentelemetry-proto and counts requests and spans per
service.name; `GET /counts` answers the counts as JSON. It stands for a trace backend's front door, so that the
exporters in the stack do all their real work (encode, POST, wait for the answer); storing spans is not its job.

    python -m scripts.bench.otlp_receiver PORT"""
from __future__ import annotations

import json
import sys
import threading
from collections import Counter
from http.server import ThreadingHTTPServer

from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import ExportTraceServiceRequest

from scripts.stack.otlp import ExportHandler, decode_request

SERVICE_NAME = "service.name"


class Counts:
    def __init__(self):
        self.lock = threading.Lock()
        self.requests = 0
        self.spans: Counter[str] = Counter()  # by service.name

    def add(self, request: ExportTraceServiceRequest) -> None:
        with self.lock:
            self.requests += 1
            for resource_spans in request.resource_spans:
                service = next((a.value.string_value for a in resource_spans.resource.attributes
                                if a.key == SERVICE_NAME), "")
                self.spans[service] += sum(len(scope.spans) for scope in resource_spans.scope_spans)

    def as_json(self) -> bytes:
        with self.lock:
            return json.dumps({"requests": self.requests, "spans": dict(self.spans)}).encode()


COUNTS = Counts()


class Handler(ExportHandler):
    protocol_version = "HTTP/1.1"  # the exporter keeps its connection open between exports

    def do_POST(self):
        body = self.export_body()
        if body is None:
            return
        try:
            COUNTS.add(decode_request(body, self.headers.get("Content-Encoding")))
        except ValueError as error:
            return self.answer(400, str(error).encode(), "text/plain")
        self.answer(200)

    def do_GET(self):
        if self.path != "/counts":
            return self.answer(404, b"", "text/plain")
        self.answer(200, COUNTS.as_json(), "application/json")


def main() -> None:
    server = ThreadingHTTPServer(("127.0.0.1", int(sys.argv[1])), Handler)
    server.daemon_threads = True
    server.serve_forever()


if __name__ == "__main__":
    main()
