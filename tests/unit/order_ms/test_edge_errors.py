"""order-ms as ingress-nginx's error backend: the status in X-Code answered with the local ingress's problem+json."""
import json

import pytest

from scripts.stack.ingress import render_config
from services.order_ms import create_app
from services.order_ms.edge_errors import EDGE_PROBLEMS, problem_body
from services.order_ms.settings import load_settings


@pytest.fixture(scope="module")
def client():
    return create_app(load_settings()).test_client()


@pytest.mark.parametrize("code, status", [("400", 400), ("404", 404), ("413", 413), ("414", 414), ("502", 503),
                                          ("503", 503), ("504", 503)])
def test_the_code_ingress_nginx_met_is_answered_as_problem_json(client, code, status):
    response = client.get("/", headers={"X-Code": code, "X-Original-URI": "/order-ms/x", "X-Request-ID": "abc123"})
    assert response.status_code == status
    assert response.mimetype == "application/problem+json"
    assert response.get_json() == json.loads(problem_body(status))
    assert response.headers["X-Request-ID"] == "abc123"
    assert ("Retry-After" in response.headers) == (status == 503)


@pytest.mark.parametrize("method", ["POST", "PUT", "DELETE"])
def test_any_method_is_answered_the_same(client, method):
    # ingress-nginx passes an error on to its named location with the original method.
    response = client.open("/", method=method, headers={"X-Code": "414"})
    assert response.status_code == 414 and response.get_json()["type"] == "/problems/uri-too-long"


@pytest.mark.parametrize("headers", [{}, {"X-Code": "bogus"}, {"X-Code": "418"}])
def test_without_a_known_code_it_is_a_path_no_service_serves(client, headers):
    response = client.get("/", headers=headers)
    assert response.status_code == 404 and response.get_json()["detail"] == "No service is routed at this path."


def test_the_local_nginx_serves_the_same_bodies(tmp_path):
    config = render_config(tmp_path, 8080, [5000], [6000], {"order-ms": [5003], "delivery-ms": [6003]}).read_text()
    for status in EDGE_PROBLEMS:
        assert f"return {status} '{problem_body(status)}';" in config, status
