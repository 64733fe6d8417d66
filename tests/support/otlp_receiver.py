"""A real OTLP/HTTP trace receiver for the tests: an HTTP server on a loopback port that decodes each export request
with opentelemetry-proto (scripts/stack/otlp.py) and keeps the spans, optionally passing the request on unchanged to
another receiver (the stack's collector, so the local trace UI shows the same spans)."""
from __future__ import annotations

import threading
import urllib.request
from collections.abc import Callable
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from scripts.stack.otlp import CONTENT_TYPE, SUCCESS_BODY, TRACES_PATH, Span, decode_spans
from tests.support.polling import wait_for


class OtlpReceiver:
    """Listens on 127.0.0.1:`port` at /v1/traces until `stop`; `start` again binds the same port (the processes'
    OTEL_EXPORTER_OTLP_ENDPOINT does not change while the receiver is away)."""

    def __init__(self, port: int, forward_to: str | None = None):
        self.port = port
        self.forward_to = forward_to  # another receiver's base URL, or None
        self._spans: list[Span] = []
        self._lock = threading.Lock()
        self._server: ThreadingHTTPServer | None = None
        self.requests = 0

    @property
    def endpoint(self) -> str:
        """What OTEL_EXPORTER_OTLP_ENDPOINT names (the exporter appends /v1/traces)."""
        return f"http://127.0.0.1:{self.port}"

    def start(self) -> OtlpReceiver:
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:  # noqa: N802 (http.server's name)
                body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
                if self.path != TRACES_PATH:
                    self._answer(404, b"", "text/plain")
                    return
                try:
                    spans = decode_spans(body, self.headers.get("Content-Encoding"))
                except ValueError:
                    self._answer(400, b"not an ExportTraceServiceRequest", "text/plain")
                    return
                receiver._keep(spans)
                receiver._forward(body, self.headers)
                self._answer(200, SUCCESS_BODY, CONTENT_TYPE)

            def _answer(self, status: int, body: bytes, content_type: str) -> None:
                self.send_response(status)
                self.send_header("Content-Type", content_type)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, format: str, *args) -> None:  # noqa: A002 (http.server's signature)
                """Quiet: pytest's output is for failures."""

        self._server = ThreadingHTTPServer(("127.0.0.1", self.port), Handler)
        threading.Thread(target=self._server.serve_forever, name=f"otlp-receiver-{self.port}", daemon=True).start()
        return self

    def stop(self) -> None:
        """Gone: the port refuses connections until `start`."""
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None

    def _keep(self, spans: list[Span]) -> None:
        with self._lock:
            self._spans.extend(spans)
            self.requests += 1

    def _forward(self, body: bytes, headers) -> None:
        if not self.forward_to:
            return
        request = urllib.request.Request(f"{self.forward_to}{TRACES_PATH}", data=body, method="POST", headers={
            "Content-Type": CONTENT_TYPE, **({"Content-Encoding": headers["Content-Encoding"]}
                                             if headers.get("Content-Encoding") else {})})
        with urllib.request.urlopen(request, timeout=10):
            pass

    # --- what arrived --------------------------------------------------------------------------------------------
    def spans(self, trace_id: str | None = None) -> list[Span]:
        with self._lock:
            return [span for span in self._spans if trace_id is None or span.trace_id == trace_id]

    def wait_for_trace(self, trace_id: str, complete: Callable[[list[Span]], bool], what: str,
                       timeout: float = 60) -> list[Span]:
        """The spans of `trace_id` once `complete` holds for them (they arrive batch by batch, process by process)."""
        return wait_for(lambda: (lambda spans: spans if complete(spans) else None)(self.spans(trace_id)),
                        what, timeout=timeout)
