"""What the local ingress and gunicorn answer themselves: problem+json with X-Request-ID, never an HTML page.

Each request is one a client can send; each answer must be one the API documents promise (RFC 9457 body,
X-Request-ID), whichever of nginx, gunicorn or the app makes it."""
from __future__ import annotations

import pytest
import requests

PROBLEM = "application/problem+json"


def assert_edge_problem(response: requests.Response, status: int) -> dict:
    assert response.status_code == status, response.text[:300]
    assert response.headers.get("Content-Type", "").startswith(PROBLEM), response.headers.get("Content-Type")
    assert response.headers.get("X-Request-ID"), "every answer carries X-Request-ID"
    body = response.json()
    assert body["status"] == status and body["title"] and body["detail"] and body["hint"], body
    return body


def test_trace_is_a_problem_not_nginx_html(base_url):
    assert_edge_problem(requests.request("TRACE", f"{base_url}/order-ms/healthz", timeout=10), 405)


@pytest.mark.parametrize("length, status", [(5_000, 404), (9_000, 414)])
def test_a_long_url_is_answered_as_problem_by_the_service_or_the_ingress(base_url, length, status):
    # 5 KiB is over gunicorn's default request line (4094) and under nginx's 8 KiB: the app must answer it.
    assert_edge_problem(requests.get(f"{base_url}/order-ms/{'a' * length}", timeout=10), status)


def test_many_headers_under_the_ingress_limit_reach_the_app(base_url):
    # gunicorn's default allows 100 header fields; nginx passes any number within its 32 KiB.
    headers = {f"X-Extra-{number}": "v" for number in range(150)}
    response = requests.get(f"{base_url}/order-ms/healthz", headers=headers, timeout=10)
    assert response.status_code == 200 and response.json()["status"], response.text[:300]


def test_a_header_over_the_ingress_limit_is_a_problem(base_url):
    response = requests.get(f"{base_url}/order-ms/healthz", headers={"X-Big": "a" * 9_000}, timeout=10)
    assert_edge_problem(response, 400)


def test_a_body_over_the_ingress_limit_is_a_problem(base_url):
    response = requests.post(f"{base_url}/order-ms/users", data=b"x" * 1_100_000,
                             headers={"Content-Type": "application/json"}, timeout=10)
    assert_edge_problem(response, 413)


def test_the_ingress_echoes_the_callers_request_id_on_its_own_answers(base_url):
    response = requests.get(f"{base_url}/no-such-service", headers={"X-Request-ID": "trace-me-1"}, timeout=10)
    assert_edge_problem(response, 404)
    assert response.headers["X-Request-ID"] == "trace-me-1"


@pytest.mark.parametrize("service", ["order-ms", "delivery-ms"])
def test_docs_with_a_trailing_slash_redirects_to_the_page(base_url, service):
    response = requests.get(f"{base_url}/{service}/docs/", allow_redirects=False, timeout=10)
    assert response.status_code == 308
    assert response.headers["Location"].endswith(f"/{service}/docs")
    assert not response.content, "no HTML body"
    page = requests.get(f"{base_url}/{service}/docs/", timeout=10)
    assert page.status_code == 200 and "swagger" in page.text.lower()
