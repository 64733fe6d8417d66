"""Health and readiness: the welcome pages and the probes, through the ingress (CASE-0007..0012)."""
from __future__ import annotations

import pytest

from tests.acceptance.uat.checks import assert_problem, media_type


@pytest.mark.smoke
@pytest.mark.case("CASE-0007")
def test_order_service_welcome_page(api):
    response = api.get("/order-ms")
    assert response.status_code == 200
    assert response.text.strip() == "Welcome to ORDER Microservice!"


@pytest.mark.smoke
@pytest.mark.case("CASE-0008")
def test_delivery_service_welcome_page(api):
    response = api.get("/delivery-ms")
    assert response.status_code == 200
    assert response.text.strip() == "Welcome to DELIVERY Microservice!"


@pytest.mark.smoke
@pytest.mark.case("CASE-0009")
def test_order_service_is_alive_and_ready(api):
    _alive_and_ready(api, "order-ms")


@pytest.mark.case("CASE-0010")
def test_delivery_service_is_alive_and_ready(api):
    _alive_and_ready(api, "delivery-ms")


def _alive_and_ready(api, service):
    # The exact bodies the API document gives: "ready" only once the database has answered.
    for probe, status in (("healthz", "ok"), ("readyz", "ready")):
        response = api.get(f"/{service}/{probe}")
        assert response.status_code == 200, probe
        assert media_type(response) == "application/json"
        assert response.json() == {"status": status}, probe


@pytest.mark.case("CASE-0011")
def test_unrouted_path_answers_problem(api, case):
    assert_problem(api.get("/no-such-service/healthz"), 404, case)


@pytest.mark.case("CASE-0012")
@pytest.mark.parametrize("path", ["/order-ms/readyz", "/delivery-ms/healthz"])
def test_probes_accept_only_get(api, path, case):
    response = api.post(path)
    assert assert_problem(response, 405, case).values["path"] == path
    assert "GET" in response.headers.get("Allow", "")
