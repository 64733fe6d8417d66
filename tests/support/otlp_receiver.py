"""A real OTLP/HTTP trace receiver for tests: an HTTP server on a loopback port that decodes what exporters POST to
/v1/traces (protobuf, gzip or not) with opentelemetry-proto (scripts/stack/otlp.py, the local collector's own
decoding) and keeps every span; optionally it passes each request on unchanged to another receiver (the stack's
collector, so the local trace UI shows the same spans).

    with OtlpReceiver() as receiver:
        env = {"OTEL_EXPORTER_OTLP_ENDPOINT": receiver.endpoint}
        ...
        spans = receiver.wait_for(lambda spans: ..., "the relay's publish span")"""
from __future__ import annotations

import threading
import urllib.request
from collections.abc import Callable
from http.server import ThreadingHTTPServer

from scripts.stack.otlp import CONTENT_TYPE, TRACES_PATH, ExportHandler, Span
from tests.support.polling import wait_for

# What a test reads: service, name, kind, trace_id, span_id, parent_span_id (None for a root), attributes, links as
# (trace_id, span_id) pairs, error.
ReceivedSpan = Span


class OtlpReceiver:
    """Listens on 127.0.0.1:`port` (0: a free one, kept from the first start on) between `start` and `stop` (or as a
    context manager); `stop` then `start` again binds the same port, as a receiver that was down and came back."""

    def __init__(self, port: int = 0, forward_to: str | None = None):
        self.port = port
        self.forward_to = forward_to  # another receiver's base URL, or None
        self._spans: list[Span] = []
        self._lock = threading.Lock()
        self._server: ThreadingHTTPServer | None = None

    @property
    def endpoint(self) -> str:
        """What OTEL_EXPORTER_OTLP_ENDPOINT names (the exporter appends /v1/traces)."""
        return f"http://127.0.0.1:{self.port}"

    def __enter__(self) -> OtlpReceiver:
        return self.start()

    def __exit__(self, *_exc) -> None:
        self.stop()

    def start(self) -> OtlpReceiver:
        receiver = self

        class Handler(ExportHandler):
            def do_POST(self) -> None:  # noqa: N802 (http.server's name)
                received = self.export_spans()
                if received is None:
                    return
                body, spans = received
                receiver._keep(spans)
                receiver._forward(body, self.headers.get("Content-Encoding"))
                self.answer(200)

        self._server = ThreadingHTTPServer(("127.0.0.1", self.port), Handler)
        self.port = self._server.server_address[1]
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

    def _forward(self, body: bytes, content_encoding: str | None) -> None:
        if not self.forward_to:
            return
        headers = {"Content-Type": CONTENT_TYPE, **({"Content-Encoding": content_encoding} if content_encoding else {})}
        request = urllib.request.Request(f"{self.forward_to}{TRACES_PATH}", data=body, method="POST", headers=headers)
        with urllib.request.urlopen(request, timeout=10):
            pass

    # --- what arrived --------------------------------------------------------------------------------------------
    def received(self) -> list[Span]:
        """Every span so far."""
        with self._lock:
            return list(self._spans)

    def spans(self, trace_id: str | None = None) -> list[Span]:
        """The spans of one trace so far (every span without `trace_id`)."""
        return [span for span in self.received() if trace_id is None or span.trace_id == trace_id]

    def wait_for(self, found: Callable[[list[Span]], object], what: str, timeout: float = 30.0):
        """`found(spans)` once it is truthy (asked again as spans arrive), else AssertionError naming `what`."""
        return wait_for(lambda: found(self.received()), what, timeout)

    def wait_for_trace(self, trace_id: str | None, complete: Callable[[list[Span]], bool], what: str,
                       timeout: float = 60) -> list[Span]:
        """The spans of `trace_id` once `complete` holds for them (they arrive batch by batch, process by process)."""
        return wait_for(lambda: (lambda spans: spans if complete(spans) else None)(self.spans(trace_id)),
                        what, timeout=timeout)
