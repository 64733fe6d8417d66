"""With METRICS_PORT set, an HTTP service serves `/metrics` (and its health checks) on that port only, and its API on
its own port only: a NetworkPolicy can then admit monitoring to the metrics port and nothing else, and keep the API
port for the ingress controller (docs/decisions/0007-client-address-trust.md)."""
from __future__ import annotations

from dataclasses import replace

import pytest
from flask import Flask

from services import delivery_ms, order_ms
from services.platform.metrics import instrument_app

METRICS_PORT, API_PORT = 9100, 5000


class ListeningSocket:
    """What gunicorn puts in the environ as `gunicorn.socket`: the connection, whose local port tells the listener."""

    def __init__(self, port: int):
        self.port = port

    def getsockname(self):
        return ("10.1.2.3", self.port)


def on_port(port: int) -> dict:
    return {"environ_base": {"gunicorn.socket": ListeningSocket(port)}}


def unit_app(metrics_port: int | None) -> Flask:
    app = Flask(__name__)
    instrument_app(app, "unit-ms", metrics_port)
    app.add_url_rule("/unit-ms/things", "things", lambda: {"things": []})
    return app


def test_the_metrics_port_serves_metrics_and_nothing_of_the_api():
    client = unit_app(METRICS_PORT).test_client()
    assert client.get("/metrics", **on_port(METRICS_PORT)).status_code == 200
    assert client.get("/unit-ms/things", **on_port(METRICS_PORT)).status_code == 404


def test_the_api_port_serves_no_metrics():
    client = unit_app(METRICS_PORT).test_client()
    assert client.get("/unit-ms/things", **on_port(API_PORT)).status_code == 200
    assert client.get("/metrics", **on_port(API_PORT)).status_code == 404
    # A request without gunicorn's socket (e.g. another WSGI server) is an API request.
    assert client.get("/metrics").status_code == 404


def test_without_a_metrics_port_metrics_stay_on_the_api_port():
    client = unit_app(None).test_client()
    assert client.get("/metrics", **on_port(API_PORT)).status_code == 200
    assert client.get("/unit-ms/things", **on_port(API_PORT)).status_code == 200


@pytest.fixture(scope="module", params=["order-ms", "delivery-ms"])
def service_client(request, order_settings, delivery_settings):
    if request.param == "order-ms":
        app = order_ms.create_app(replace(order_settings, metrics_port=METRICS_PORT))
    else:
        app = delivery_ms.create_app(replace(delivery_settings, metrics_port=METRICS_PORT))
    return request.param, app.test_client()


@pytest.mark.parametrize("path", ["/metrics", "/healthz"])
def test_a_service_serves_metrics_and_health_on_its_metrics_port(service_client, path):
    _, client = service_client
    assert client.get(path, **on_port(METRICS_PORT)).status_code == 200


def test_a_service_answers_anything_else_on_its_metrics_port_as_unknown(service_client):
    service, client = service_client
    for path in (f"/{service}/openapi.json", f"/{service}/healthz", f"/{service}"):
        response = client.get(path, **on_port(METRICS_PORT))
        assert response.status_code == 404, path
        assert response.content_type == "application/problem+json" and response.json["hint"]


def test_a_service_answers_metrics_on_its_api_port_as_unknown(service_client):
    service, client = service_client
    response = client.get("/metrics", **on_port(API_PORT))
    assert response.status_code == 404 and response.content_type == "application/problem+json"
    assert client.get(f"/{service}/healthz", **on_port(API_PORT)).status_code == 200
    assert client.get("/healthz", **on_port(API_PORT)).status_code == 200  # the kubelet's probes stay here
