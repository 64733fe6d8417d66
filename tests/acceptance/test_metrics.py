"""Metrics: each service counts its requests on its own port, and the ingress does not expose them (CASE-0013..0017)."""
from __future__ import annotations

import os

import pytest
import requests

from tests.acceptance.uat import metrics
from tests.acceptance.uat.checks import assert_problem
from tests.acceptance.uat.flows import orders_path

# Where Prometheus would scrape each service: its own port, never the ingress. The defaults are the
# local dev stack's; `make test` and the in-cluster Job pass their own.
METRICS_URLS = {
    "order-ms": os.environ.get("ORDER_MS_METRICS_URL", "http://127.0.0.1:9130/metrics"),
    "delivery-ms": os.environ.get("DELIVERY_MS_METRICS_URL", "http://127.0.0.1:9140/metrics"),
}


def read_metrics(service: str) -> str:
    response = requests.get(METRICS_URLS[service], timeout=10)
    assert response.status_code == 200
    assert response.headers.get("Content-Type", "").startswith("text/plain")
    assert metrics.request_series(response.text), "no http_requests_total series"
    return response.text


@pytest.mark.case("CASE-0013")
def test_order_service_counts_requests(api):
    _welcome_count_grows(api, "order-ms")


@pytest.mark.case("CASE-0014")
def test_delivery_service_counts_requests(api):
    _welcome_count_grows(api, "delivery-ms")


def _welcome_count_grows(api, service):
    def welcome(route):
        return route.rstrip("/") == f"/{service}"

    before = metrics.count(read_metrics(service), welcome, service=service, method="GET", status="200")
    assert api.get(f"/{service}").status_code == 200
    after = metrics.count(read_metrics(service), welcome, service=service, method="GET", status="200")
    assert after >= before + 1


@pytest.mark.case("CASE-0015")
def test_refused_request_is_counted_with_its_status(api, customer):
    def refused_orders() -> float:
        return metrics.count(read_metrics("order-ms"), lambda route: "orders" in route, service="order-ms",
                             method="POST", status="422")

    before = refused_orders()
    refused = api.post(orders_path(customer.user_id), token=customer.token,
                       json={"coffee_name": "jslee", "coffee_price": 2000, "coffee_qty": 0})
    assert refused.status_code == 422
    # The counter is cumulative: only its growth across this request proves the refusal was counted.
    assert refused_orders() >= before + 1


@pytest.mark.case("CASE-0016")
def test_order_metrics_are_not_reachable_through_the_ingress(api, case):
    response = api.get("/order-ms/metrics")
    assert_problem(response, 404, case)
    assert "http_requests_total" not in response.text


@pytest.mark.case("CASE-0017")
def test_delivery_metrics_are_not_reachable_through_the_ingress(api, case):
    response = api.get("/delivery-ms/metrics")
    assert_problem(response, 404, case)
    assert "http_requests_total" not in response.text
