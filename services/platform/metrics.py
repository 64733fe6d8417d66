"""Prometheus metrics: HTTP request metrics per route template, `/metrics` (on a port of its own when given), and
gunicorn multiprocess mode; and a worker's own `/metrics` and `/healthz` port."""
from __future__ import annotations

import json
import logging
import os
import threading
import time
from collections.abc import Callable, Iterable
from wsgiref.simple_server import WSGIRequestHandler, make_server

from flask import Flask, Response, abort, current_app, g, request
from prometheus_client import (
    CONTENT_TYPE_LATEST,
    REGISTRY,
    CollectorRegistry,
    Counter,
    Histogram,
    generate_latest,
    make_wsgi_app,
    multiprocess,
)
from prometheus_client.core import GaugeMetricFamily
from prometheus_client.exposition import ThreadingWSGIServer

from services.platform.db import TransientDatabaseError

log = logging.getLogger(__name__)

HTTP_REQUESTS = Counter(
    "http_requests_total", "HTTP requests handled, by route template and status.",
    ["service", "method", "route", "status"],
)
HTTP_REQUEST_DURATION = Histogram(
    "http_request_duration_seconds", "Time spent handling an HTTP request, by route template.",
    ["service", "method", "route"],
    buckets=(0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0),
)
# Any token is a valid HTTP method: unknown ones share one label value so a client cannot create series at will.
KNOWN_METHODS = frozenset({"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"})
SCRAPE_COLLECTORS = "metrics_scrape_collectors"
METRICS_PATH = "/metrics"
HEALTH_PATH = "/healthz"
READY_PATH = "/readyz"
# What an HTTP service's metrics port serves: Prometheus's scrapes and the health checks (e.g. of `helm test`).
METRICS_PORT_PATHS = frozenset({METRICS_PATH, HEALTH_PATH, READY_PATH})
# Where a worker (relay, consumer) serves /metrics and /healthz when METRICS_PORT does not say.
WORKER_METRICS_PORT = 9100


def multiprocess_dir() -> str | None:
    return os.environ.get("PROMETHEUS_MULTIPROC_DIR") or None


def render_latest() -> Response:
    """This process's metrics (every gunicorn worker's, in multiprocess mode) plus the app's scrape-time ones."""
    if multiprocess_dir():
        registry = CollectorRegistry()
        multiprocess.MultiProcessCollector(registry)
    else:
        registry = REGISTRY
    body = generate_latest(registry)
    collectors = current_app.extensions.get(SCRAPE_COLLECTORS)
    if collectors:
        # auto_describe=False: registering must not run the collectors' queries a second time.
        scrape_registry = CollectorRegistry(auto_describe=False)
        for collector in collectors:
            scrape_registry.register(collector)
        body += generate_latest(scrape_registry)
    return Response(body, mimetype=CONTENT_TYPE_LATEST)


class ScrapeGauge:
    """A gauge read fresh at every scrape, e.g. counted in the database, so it is right in whichever
    gunicorn worker answers; when the database is down the family is left out and the rest still served."""

    def __init__(self, name: str, documentation: str, label: str, read: Callable[[], dict[str, float]]):
        self._name = name
        self._documentation = documentation
        self._label = label
        self._read = read

    def collect(self) -> Iterable[GaugeMetricFamily]:
        try:
            values = self._read()
        except TransientDatabaseError as exc:
            log.warning("metric %s left out of this scrape: %s", self._name, exc)
            return
        family = GaugeMetricFamily(self._name, self._documentation, labels=[self._label])
        for label_value, value in sorted(values.items()):
            family.add_metric([label_value], value)
        yield family


def add_scrape_collector(app: Flask, collector) -> None:
    """Serve `collector` (e.g. a ScrapeGauge) on this app's `/metrics`, asked at every scrape."""
    app.extensions.setdefault(SCRAPE_COLLECTORS, []).append(collector)


def request_seconds() -> float:
    """How long the current request has taken so far: the one timer both the metrics and the access log read."""
    return time.perf_counter() - g.get("request_started", time.perf_counter())


def arrival_port(environ: dict) -> int | None:
    """The local port of the listener a request came in on (gunicorn passes the connection); None elsewhere."""
    connection = environ.get("gunicorn.socket")
    try:
        name = connection.getsockname() if connection is not None else None
    except OSError:
        return None
    return name[1] if isinstance(name, tuple) else None


def instrument_app(app: Flask, service: str, metrics_port: int | None = None) -> None:
    """Count and time every request by its route template; serve `/metrics` at the root of a port.

    Only at the root: the ingress routes the service's prefix, so metrics (which tell e.g. how many logins fail)
    are not public; Prometheus scrapes the pods directly. With `metrics_port` (gunicorn listens there too,
    gunicorn_conf.py) that port serves `/metrics` and the health checks and nothing else, and the API port no
    `/metrics`: a NetworkPolicy can then admit monitoring to the one and only the ingress controller to the other,
    whose X-Forwarded-For the service believes (docs/decisions/0007-client-address-trust.md)."""

    @app.before_request
    def _start_timer():
        g.request_started = time.perf_counter()

    if metrics_port is not None:
        @app.before_request
        def _keep_metrics_and_api_apart():
            if arrival_port(request.environ) == metrics_port:
                if request.path not in METRICS_PORT_PATHS:
                    abort(404)
            elif request.path == METRICS_PATH:
                abort(404)

    @app.after_request
    def _observe(response):
        route = request.url_rule.rule if request.url_rule is not None else "unmatched"
        method = request.method if request.method in KNOWN_METHODS else "other"
        HTTP_REQUESTS.labels(service, method, route, str(response.status_code)).inc()
        HTTP_REQUEST_DURATION.labels(service, method, route).observe(request_seconds())
        return response

    app.add_url_rule(METRICS_PATH, "metrics", render_latest, methods=["GET"])


class _QuietHandler(WSGIRequestHandler):
    def log_message(self, *_args) -> None:
        """Probes and scrapes every few seconds would flood the JSON log."""


def serve_metrics(port: int, health: Callable[[], tuple[bool, str]] = lambda: (True, "running")) -> None:
    """For the consumer and the relays: `/metrics`, and `/healthz` (200, or 503 when `health` says the loop is
    stuck: the liveness probe), on their own port from a background thread, so both answer whatever the loop does."""
    metrics_app = make_wsgi_app()

    def app(environ, start_response):
        if environ.get("PATH_INFO") != HEALTH_PATH:
            return metrics_app(environ, start_response)
        healthy, detail = health()
        body = json.dumps({"status": "ok" if healthy else "stalled", "detail": detail}).encode()
        start_response("200 OK" if healthy else "503 Service Unavailable",
                       [("Content-Type", "application/json"), ("Content-Length", str(len(body)))])
        return [body]

    server = make_server("0.0.0.0", port, app, ThreadingWSGIServer, handler_class=_QuietHandler)
    threading.Thread(target=server.serve_forever, name="metrics", daemon=True).start()
