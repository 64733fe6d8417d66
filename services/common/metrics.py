"""Prometheus metrics: HTTP request metrics per route template, `/metrics`, and gunicorn multiprocess mode."""
from __future__ import annotations

import os
import time

from flask import Flask, Response, g, request
from prometheus_client import (
    CONTENT_TYPE_LATEST, CollectorRegistry, Counter, Histogram, generate_latest, multiprocess, start_http_server,
)

HTTP_REQUESTS = Counter(
    "http_requests_total", "HTTP requests handled, by route template and status.",
    ["service", "method", "route", "status"],
)
HTTP_REQUEST_DURATION = Histogram(
    "http_request_duration_seconds", "Time spent handling an HTTP request, by route template.",
    ["service", "method", "route"],
    buckets=(0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0),
)


def multiprocess_dir() -> str | None:
    return os.environ.get("PROMETHEUS_MULTIPROC_DIR") or None


def render_latest() -> Response:
    if multiprocess_dir():
        registry = CollectorRegistry()
        multiprocess.MultiProcessCollector(registry)
    else:
        from prometheus_client import REGISTRY as registry
    return Response(generate_latest(registry), mimetype=CONTENT_TYPE_LATEST)


def instrument_app(app: Flask, service: str, prefix: str) -> None:
    """Count and time every request by its route template; serve `/metrics` (and under `prefix`)."""

    @app.before_request
    def _start_timer():
        g.request_started = time.perf_counter()

    @app.after_request
    def _observe(response):
        started = g.pop("request_started", None)
        route = request.url_rule.rule if request.url_rule is not None else "unmatched"
        HTTP_REQUESTS.labels(service, request.method, route, str(response.status_code)).inc()
        if started is not None:
            HTTP_REQUEST_DURATION.labels(service, request.method, route).observe(time.perf_counter() - started)
        return response

    app.add_url_rule("/metrics", "metrics", render_latest, methods=["GET"])
    app.add_url_rule(f"{prefix}/metrics", "prefixed_metrics", render_latest, methods=["GET"])


def serve_metrics(port: int) -> None:
    """For the consumer and the relays: `/metrics` on their own port, from a background thread."""
    start_http_server(port, addr="0.0.0.0")
