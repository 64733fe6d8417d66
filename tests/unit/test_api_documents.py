"""The OpenAPI documents of both services: valid OpenAPI 3.1, one operation for every route the ingress reaches
and none for a route that does not exist, the field rules of the code, and the docs pages that show them."""
import re

import pytest
from openapi_spec_validator import validate

from services.contracts import identifiers, order_created
from services.contracts.delivery_status_changed import DELIVERY_ID, STATUS, STATUS_NAMES
from services.delivery_ms import create_app as create_delivery_app
from services.delivery_ms import create_stream_app as create_delivery_stream_app
from services.delivery_ms.settings import load_settings as load_delivery_settings
from services.order_ms import accounts, orders
from services.order_ms import create_app as create_order_app
from services.order_ms import create_stream_app as create_order_stream_app
from services.order_ms.settings import load_settings as load_order_settings
from services.platform.api_docs import api_document
from services.platform.paging import CURSOR
from services.platform.validation import MAX_LIMIT

APPS = {
    "/order-ms": lambda: create_order_app(load_order_settings()),
    "/delivery-ms": lambda: create_delivery_app(load_delivery_settings()),
}
# Web pages for people, and Prometheus's scrape: served, deliberately not operations of the API.
NOT_API = re.compile(r"^/order-ms/ui(/|$)|/docs(/|$)|/metrics$")


# Each service's stream process serves its live stream behind the same prefix (the ingress routes that path there).
STREAM_APPS = {
    "/order-ms": lambda: create_order_stream_app(load_order_settings()),
    "/delivery-ms": lambda: create_delivery_stream_app(load_delivery_settings()),
}


@pytest.fixture(scope="module", params=sorted(APPS))
def service(request):
    app = APPS[request.param]()
    return request.param, app, api_document(app)


def schema_of(document, path, method, parameter):
    operation = document["paths"][path][method]
    return next(p["schema"] for p in operation["parameters"] if p["name"] == parameter)


def body_schema(document, path, method):
    return document["paths"][path][method]["requestBody"]["content"]["application/json"]["schema"]


def test_the_document_is_valid_openapi_3_1(service):
    _, _, document = service
    validate(document)
    assert document["openapi"] == "3.1.0"


def test_every_route_the_ingress_reaches_is_an_operation_and_every_operation_a_route(service):
    prefix, app, document = service
    served = {(method.lower(), re.sub(r"<(?:[a-z]+:)?(\w+)>", r"{\1}", rule.rule))
              for each in (app, STREAM_APPS[prefix]()) for rule in each.url_map.iter_rules()
              if rule.rule.startswith(prefix) and not NOT_API.search(rule.rule)
              for method in rule.methods - {"HEAD", "OPTIONS"}}
    documented = {(method, path) for path, operations in document["paths"].items() for method in operations}
    assert documented == served
    assert not any("/metrics" in path for path in document["paths"])


def test_the_document_is_served_as_built(service):
    prefix, app, document = service
    response = app.test_client().get(f"{prefix}/openapi.json")
    assert response.status_code == 200 and response.mimetype == "application/json"
    assert response.get_json() == document


def test_every_secured_operation_names_the_bearer_scheme_and_answers_401(service):
    _, _, document = service
    assert document["components"]["securitySchemes"]["bearerAuth"] == {
        "type": "http", "scheme": "bearer", "bearerFormat": "JWT",
        "description": document["components"]["securitySchemes"]["bearerAuth"]["description"]}
    secured = [(path, op) for path, ops in document["paths"].items() for op in ops.values() if op["security"]]
    assert secured
    for path, operation in secured:
        unauthorized = operation["responses"]["401"]
        assert "application/problem+json" in unauthorized["content"], path
        assert "WWW-Authenticate" in unauthorized["headers"], path


def test_every_response_carries_the_request_id_and_every_error_is_a_problem_with_a_hint(service):
    _, _, document = service
    assert "hint" in document["components"]["schemas"]["Problem"]["required"]
    for path, operations in document["paths"].items():
        for operation in operations.values():
            for status, response in operation["responses"].items():
                assert "X-Request-ID" in response["headers"], (path, status)
                if int(status) >= 400:
                    assert list(response["content"]) == ["application/problem+json"], (path, status)
                if status == "422":
                    assert response["content"]["application/problem+json"]["schema"] == {
                        "$ref": "#/components/schemas/ValidationProblem"}


def test_order_rules_come_from_the_field_rules():
    document = api_document(APPS["/order-ms"]())
    body = body_schema(document, "/order-ms/{user_id}/orders", "post")
    assert body["properties"] == {name: field.json_schema() for name, field in orders.ORDER_FIELDS.items()}
    assert body["additionalProperties"] is False
    assert body["properties"]["coffee_qty"]["minimum"] == order_created.COFFEE_QTY.minimum
    assert schema_of(document, "/order-ms/{user_id}/orders", "post", "user_id") == identifiers.USER_ID.json_schema()
    assert (
        schema_of(document, "/order-ms/{user_id}/orders", "post", "Idempotency-Key")
        == orders.IDEMPOTENCY_KEY.json_schema()
    )
    assert (
        schema_of(document, "/order-ms/{user_id}/orders/{order_id}", "get", "order_id")
        == identifiers.ORDER_ID.json_schema()
    )
    assert schema_of(document, "/order-ms/{user_id}/orders", "get", "limit")["maximum"] == MAX_LIMIT
    assert schema_of(document, "/order-ms/{user_id}/orders", "get", "cursor") == CURSOR.json_schema()
    assert (
        body_schema(document, "/order-ms/users", "post")["properties"]["password"]["minLength"]
        == accounts.MIN_PASSWORD_LENGTH
    )
    order = document["components"]["schemas"]["Order"]
    assert order["required"] == [*order_created.FIELDS, "delivery", "cancel"]
    assert {name: order["properties"][name] for name in order_created.FIELDS} == {
        name: field.json_schema() for name, field in order_created.FIELDS.items()}


def test_an_order_view_s_delivery_and_cancel_are_documented_as_the_contracts_and_the_table_have_them():
    from services.contracts import delivery_status_changed

    schemas = api_document(APPS["/order-ms"]())["components"]["schemas"]
    assert schemas["Order"]["properties"]["delivery"] == {"oneOf": [{"$ref": "#/components/schemas/Delivery"},
                                                                    {"type": "null"}]}
    assert schemas["Delivery"]["required"] == ["delivery_id", "status", "updated_at"]
    assert schemas["Delivery"]["properties"]["status"]["enum"] == list(delivery_status_changed.STATUS_NAMES)
    assert schemas["Cancel"]["required"] == ["outcome", "requested_at", "reason", "decided_at"]
    assert schemas["Cancel"]["properties"]["outcome"]["enum"] == ["PENDING", "CANCELED", "REFUSED"]


def test_order_headers_are_documented():
    document = api_document(APPS["/order-ms"]())
    created = document["paths"]["/order-ms/{user_id}/orders"]["post"]["responses"]["201"]["headers"]
    assert {"Location", "Idempotent-Replayed", "X-Request-ID"} <= set(created)
    assert "Link" in document["paths"]["/order-ms/{user_id}/orders"]["get"]["responses"]["200"]["headers"]
    assert "Retry-After" in document["paths"]["/order-ms/login"]["post"]["responses"]["429"]["headers"]


def test_delivery_rules_come_from_the_contract():
    document = api_document(APPS["/delivery-ms"]())
    for path in ("/delivery-ms/deliveries/{delivery_id}/status", "/delivery-ms/deliveries/{delivery_id}"):
        assert body_schema(document, path, "put")["properties"]["status"] == STATUS.json_schema()
        assert schema_of(document, path, "put", "delivery_id") == DELIVERY_ID.json_schema()
    assert schema_of(document, "/delivery-ms/deliveries", "get", "status")["anyOf"][0]["enum"] == list(STATUS_NAMES)
    delivery = document["components"]["schemas"]["Delivery"]
    assert delivery["properties"]["next_statuses"]["items"]["enum"] == list(STATUS_NAMES)
    assert delivery["properties"]["order"]["required"] == list(order_created.FIELDS)


@pytest.mark.parametrize("prefix", sorted(APPS))
def test_the_docs_page_keeps_a_strict_csp_and_loads_swagger_ui_from_the_package(prefix):
    client = APPS[prefix]().test_client()
    page = client.get(f"{prefix}/docs")
    assert page.status_code == 200 and page.mimetype == "text/html"
    csp = page.headers["Content-Security-Policy"]
    assert "script-src 'self';" in csp and "unsafe" not in csp
    assert "<script>" not in page.text and "http" not in page.text.replace("http-equiv", "")
    for asset in re.findall(r'(?:src|href)="(docs/[^"]+)"', page.text):
        response = client.get(f"{prefix}/{asset}")
        assert response.status_code == 200, asset
        assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert client.get(f"{prefix}/docs/README.md").status_code == 404


def test_docs_is_a_reserved_user_id():
    # /order-ms/docs/... is the docs pages' path, so a user "docs" could not reach /order-ms/docs/orders.
    client = APPS["/order-ms"]().test_client()
    response = client.post("/order-ms/users", json={"user_id": "docs", "password": "a-long-password"})
    assert response.status_code == 422 and response.get_json()["errors"] == [
        {"field": "user_id", "message": "is reserved"}
    ]
