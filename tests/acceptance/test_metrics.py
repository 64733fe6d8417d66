"""Metrics endpoints through the ingress: Prometheus text that counts requests (CASE-0013..0017)."""
from __future__ import annotations

import pytest

from tests.acceptance.uat import metrics
from tests.acceptance.uat.checks import assert_problem
from tests.acceptance.uat.flows import orders_path


def read_metrics(api, service: str) -> str:
    response = api.get(f"/{service}/metrics")
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

    before = metrics.count(read_metrics(api, service), welcome, service=service, method="GET", status="200")
    assert api.get(f"/{service}").status_code == 200
    after = metrics.count(read_metrics(api, service), welcome, service=service, method="GET", status="200")
    assert after >= before + 1


@pytest.mark.case("CASE-0015")
def test_refused_request_is_counted_with_its_status(api, customer):
    refused = api.post(orders_path(customer.user_id), token=customer.token,
                       json={"coffee_name": "jslee", "coffee_price": 2000, "coffee_qty": 0})
    assert refused.status_code == 422
    text = read_metrics(api, "order-ms")
    assert metrics.count(text, lambda route: "orders" in route, service="order-ms", method="POST", status="422") >= 1


@pytest.mark.case("CASE-0016")
def test_order_metrics_refuse_writes(api, case):
    response = api.post("/order-ms/metrics")
    assert_problem(response, 405, case)
    assert "GET" in response.headers.get("Allow", "")


@pytest.mark.case("CASE-0017")
def test_delivery_metrics_refuse_writes(api, case):
    response = api.request("DELETE", "/delivery-ms/metrics")
    assert_problem(response, 405, case)
    assert "GET" in response.headers.get("Allow", "")
