"""The local trace backend's collector: receives OTLP/HTTP (protobuf) where the processes export
(OTEL_EXPORTER_OTLP_ENDPOINT), and hands each span to Zipkin's own API in Zipkin's v2 JSON model.

Zipkin's server on Maven Central carries its UI but no OTLP receiver (that is a module published nowhere these
machines reach), and Jaeger's Go module embeds only a placeholder UI; this is the OpenTelemetry Collector's
`otlp` receiver + `zipkin` exporter pipeline in a page of Python.

    python -m scripts.stack.otlp_zipkin --port 4318 --zipkin http://127.0.0.1:9411
"""
from __future__ import annotations

import argparse
import json
import urllib.error
import urllib.request
from http.server import ThreadingHTTPServer

from scripts.stack.otlp import ExportHandler, Span

# Zipkin has no INTERNAL kind: such a span is a local span without one.
ZIPKIN_KINDS = {"SERVER", "CLIENT", "PRODUCER", "CONSUMER"}


def zipkin_span(span: Span) -> dict:
    """Zipkin's model of one span (https://zipkin.io/zipkin-api/): microseconds, string tags."""
    tags = {key: value if isinstance(value, str) else json.dumps(value) for key, value in span.attributes.items()}
    # Zipkin has no links: a batch's parents stay readable as tags.
    for number, link in enumerate(span.links):
        tags[f"otel.link.{number}"] = f"{link.trace_id}-{link.span_id}"
    if span.error:
        tags["error"] = "true"
    converted = {"traceId": span.trace_id, "id": span.span_id, "name": span.name,
                 "timestamp": span.start_ns // 1000, "duration": max(1, (span.end_ns - span.start_ns) // 1000),
                 "localEndpoint": {"serviceName": span.service or "unknown"}, "tags": tags}
    if span.parent_span_id:
        converted["parentId"] = span.parent_span_id
    if span.kind in ZIPKIN_KINDS:
        converted["kind"] = span.kind
    return converted


class Forwarder(ExportHandler):
    zipkin_url = ""

    def do_POST(self) -> None:  # noqa: N802 (http.server's name)
        received = self.export_spans()
        if received is None:
            return
        _body, spans = received
        request = urllib.request.Request(f"{self.zipkin_url}/api/v2/spans", method="POST",
                                         data=json.dumps([zipkin_span(span) for span in spans]).encode(),
                                         headers={"Content-Type": "application/json"})
        try:
            with urllib.request.urlopen(request, timeout=10):
                pass
        except (urllib.error.URLError, OSError) as error:
            # 503: the exporter keeps the batch and retries with backoff, as the OTLP spec says.
            self.answer(503, f"Zipkin is not reachable: {error}".encode(), "text/plain")
            return
        self.answer(200)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--zipkin", required=True, help="Zipkin's base URL")
    args = parser.parse_args()
    Forwarder.zipkin_url = args.zipkin.rstrip("/")
    server = ThreadingHTTPServer((args.host, args.port), Forwarder)
    print(json.dumps({"msg": "OTLP/HTTP receiver forwarding to Zipkin", "listen": f"{args.host}:{args.port}",
                      "zipkin": Forwarder.zipkin_url}), flush=True)
    server.serve_forever()


if __name__ == "__main__":
    main()
