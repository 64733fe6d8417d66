"""`/metrics` of an instrumented app: request counts per route template, and gauges read at scrape time."""
from __future__ import annotations

from flask import Flask

from services.platform.db import DatabaseUnavailable
from services.platform.metrics import ScrapeGauge, add_scrape_collector, instrument_app
from tests.support.prometheus import sample_sum


def app_with(read) -> Flask:
    app = Flask(__name__)
    instrument_app(app, "unit-ms")
    add_scrape_collector(app, ScrapeGauge("unit_things", "Things by colour.", "colour", read))

    @app.get("/unit-ms/things/<thing_id>")
    def thing(thing_id):
        return {"id": thing_id}

    return app


def test_scrape_gauge_is_read_at_every_scrape():
    counts = {"red": 1}
    client = app_with(lambda: dict(counts)).test_client()
    assert sample_sum(client.get("/metrics").text, "unit_things", colour="red") == 1
    counts.update(red=4, blue=2)
    text = client.get("/metrics").text
    assert sample_sum(text, "unit_things", colour="red") == 4 and sample_sum(text, "unit_things", colour="blue") == 2


def test_database_down_leaves_only_that_gauge_out():
    def read():
        raise DatabaseUnavailable("MariaDB is gone")

    client = app_with(read).test_client()
    client.get("/unit-ms/things/42")
    response = client.get("/metrics")
    assert response.status_code == 200
    assert "unit_things" not in response.text
    assert sample_sum(response.text, "http_requests_total", service="unit-ms",
                      route="/unit-ms/things/<thing_id>", status="200") == 1


def test_unknown_methods_share_one_label_value():
    client = app_with(dict).test_client()
    client.open("/unit-ms/things/1", method="BREW")
    text = client.get("/metrics").text
    assert sample_sum(text, "http_requests_total", service="unit-ms", method="other", route="unmatched") == 1


def test_metrics_are_served_only_at_the_root_not_under_the_prefix_the_ingress_routes():
    client = app_with(dict).test_client()
    assert client.get("/metrics").status_code == 200
    assert client.get("/unit-ms/metrics").status_code == 404
