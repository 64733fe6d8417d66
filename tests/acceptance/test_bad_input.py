"""Bad input: every kind the API promises to answer with a problem+json and a hint (CASE-0077..0095)."""
from __future__ import annotations

import json

import pytest

from tests.acceptance.uat.checks import assert_problem
from tests.acceptance.uat.flows import ORDER, delivery_path, new_delivery, orders_of, orders_path

MAX_BODY_BYTES = 64 * 1024


def endpoint(kind: str, api, customer, staff) -> tuple[str, str, str | None]:
    """(method, path, token) of an endpoint that reads a JSON body, ready to be sent something wrong."""
    if kind == "create order":
        return "POST", orders_path(customer.user_id), customer.token
    if kind == "sign-up":
        return "POST", "/order-ms/users", None
    if kind == "login":
        return "POST", "/order-ms/login", None
    # A real delivery, so that only the body can be what is wrong.
    return "PUT", f"{delivery_path(new_delivery(api, customer)['delivery_id'])}/status", staff.token


def send_raw(api, kind, customer, staff, data, content_type: str | None):
    method, path, token = endpoint(kind, api, customer, staff)
    headers = {"Content-Type": content_type} if content_type else {}
    return api.request(method, path, data=data, headers=headers, token=token)


def post_order(api, customer, body):
    return api.post(orders_path(customer.user_id), json=body, token=customer.token)


@pytest.mark.case("CASE-0077")
@pytest.mark.parametrize("kind", ["create order", "sign-up", "login", "status move"])
def test_body_not_json(api, customer, staff, kind, case):
    told = assert_problem(send_raw(api, kind, customer, staff, b"{not json", "application/json"), 400, case)
    assert isinstance(json.loads(told.values["example"]), dict), "the hint's example must be a JSON object"


@pytest.mark.case("CASE-0078")
@pytest.mark.parametrize("body", [[1, 2], "text", 3], ids=["array", "string", "number"])
def test_json_not_an_object(api, customer, body, case):
    assert_problem(post_order(api, customer, body), 400, case)


@pytest.mark.case("CASE-0079")
@pytest.mark.parametrize("kind, content_type", [
    ("create order", "text/plain"), ("create order", "application/x-www-form-urlencoded"), ("create order", None),
    ("status move", "text/plain"),
])
def test_body_not_declared_as_json(api, customer, staff, kind, content_type, case):
    body = json.dumps(ORDER if kind == "create order" else {"status": "COMPLETED"}).encode()
    told = assert_problem(send_raw(api, kind, customer, staff, body, content_type), 415, case)
    # The detail names what was sent, so the user sees which header to fix.
    assert told.values["content_type"] == (content_type or "none")
    assert isinstance(json.loads(told.values["example"]), dict), "the hint's example must be a JSON object"


@pytest.mark.case("CASE-0080")
@pytest.mark.parametrize("missing", [("coffee_name",), ("coffee_price",), ("coffee_qty",), tuple(ORDER)],
                         ids=["coffee_name", "coffee_price", "coffee_qty", "all"])
def test_missing_fields_are_named(api, customer, missing, case):
    response = post_order(api, customer, {key: value for key, value in ORDER.items() if key not in missing})
    for field in missing:
        assert_problem(response, 422, case, field=field)


@pytest.mark.case("CASE-0081")
def test_unknown_field_is_named(api, customer, case):
    before = orders_of(api, customer)
    assert_problem(post_order(api, customer, {**ORDER, "discount": 10}), 422, case, field="discount")
    assert orders_of(api, customer) == before


@pytest.mark.case("CASE-0082")
@pytest.mark.parametrize("field, value", [
    ("coffee_price", "2000"), ("coffee_price", 2000.5), ("coffee_qty", True), ("coffee_qty", None),
    ("coffee_name", 123), ("coffee_name", ["jslee"]),
])
def test_wrongly_typed_fields_are_named(api, customer, field, value, case):
    told = assert_problem(post_order(api, customer, {**ORDER, field: value}), 422, case, field=field)
    assert told.body["detail"].startswith(f"{field} "), "the detail must name the wrong field"


@pytest.mark.case("CASE-0083")
@pytest.mark.parametrize("field, value", [
    ("coffee_price", -1), ("coffee_price", 1_000_001), ("coffee_qty", 0), ("coffee_qty", 101),
])
def test_numbers_out_of_range_are_named(api, customer, field, value, case):
    told = assert_problem(post_order(api, customer, {**ORDER, field: value}), 422, case, field=field)
    assert told.body["detail"].startswith(f"{field} "), "the detail must name the wrong field"


@pytest.mark.case("CASE-0084")
@pytest.mark.parametrize("name", ["", "n" * 51], ids=["empty", "51-characters"])
def test_coffee_name_empty_or_too_long(api, customer, name, case):
    assert_problem(post_order(api, customer, {**ORDER, "coffee_name": name}), 422, case, field="coffee_name")


@pytest.mark.case("CASE-0085")
@pytest.mark.parametrize("kind", ["create order", "sign-up", "status move"])
def test_body_over_64_kib(api, customer, staff, kind, case):
    prefix, suffix = b'{"padding": "', b'"}'
    body = prefix + b"x" * (MAX_BODY_BYTES + 1 - len(prefix) - len(suffix)) + suffix
    assert len(body) == MAX_BODY_BYTES + 1
    assert_problem(send_raw(api, kind, customer, staff, body, "application/json"), 413, case)


@pytest.mark.case("CASE-0086")
@pytest.mark.parametrize("path", ["/order-ms/a/b/c/d", "/delivery-ms/no-such-thing", "/order-ms/USER0001/orders/x/y"])
def test_unknown_route_inside_a_service(api, path, case):
    assert assert_problem(api.get(path), 404, case).values["path"] == path


@pytest.mark.case("CASE-0087")
@pytest.mark.parametrize("method, path", [
    ("DELETE", "/order-ms/USER0001/orders"), ("PUT", "/order-ms/login"), ("POST", "/delivery-ms/deliveries"),
])
def test_wrong_method_lists_allowed_ones(api, method, path, case):
    response = api.request(method, path)
    told = assert_problem(response, 405, case)
    assert (told.values["method"], told.values["path"]) == (method, path)
    assert response.headers.get("Allow", "").strip(), "405 without an Allow header"
    # The hint offers exactly the methods of the Allow header.
    assert told.values["allowed"] == response.headers["Allow"]


@pytest.mark.case("CASE-0088")
def test_json_with_charset_and_unicode_is_accepted(api, customer):
    order = {**ORDER, "coffee_name": "카페라떼"}
    response = api.post(orders_path(customer.user_id), data=json.dumps(order).encode(), token=customer.token,
                        headers={"Content-Type": "application/json; charset=utf-8"})
    assert response.status_code == 201
    assert response.json()["coffee_name"] == "카페라떼"


@pytest.mark.case("CASE-0089")
@pytest.mark.parametrize("limit", ["²", "٣"], ids=["superscript-two", "arabic-indic-three"])
def test_limit_in_other_digits(api, customer, limit, case):
    told = assert_problem(api.get(orders_path(customer.user_id), params={"limit": limit}, token=customer.token),
                          422, case, field="limit")
    assert told.values["value"] == repr(limit)


@pytest.mark.case("CASE-0090")
@pytest.mark.parametrize("body", [b"[" * 2000, b"[" * 2000 + b"]" * 2000], ids=["unclosed", "closed"])
def test_body_nested_too_deeply(api, customer, staff, body, case):
    told = assert_problem(send_raw(api, "create order", customer, staff, body, "application/json"), 400, case)
    assert isinstance(json.loads(told.values["example"]), dict), "the hint's example must be a JSON object"


@pytest.mark.case("CASE-0091")
@pytest.mark.parametrize("kind, field", [("create order", "coffee_name"), ("login", "user_id"), ("sign-up", "user_id")])
def test_lone_surrogate_in_text(api, customer, staff, kind, field, case):
    body = {**ORDER} if kind == "create order" else {"user_id": "USER0100", "password": "a-long-password"}
    # json.dumps writes the lone surrogate as the escape \ud800, which is what a client would send.
    raw = json.dumps({**body, field: "\ud800"}).encode()
    before = orders_of(api, customer)
    told = assert_problem(send_raw(api, kind, customer, staff, raw, "application/json"), 422, case, field=field)
    assert told.values["field"] == field
    assert orders_of(api, customer) == before


@pytest.mark.case("CASE-0092")
def test_user_id_ending_in_a_line_break(api, case):
    user_id = "USER0100\n"
    assert_problem(api.post("/order-ms/users", json={"user_id": user_id, "password": "a-long-password"}), 422, case,
                   field="user_id")
    # No account of that name (with or without the line break) can log in.
    assert api.post("/order-ms/login", json={"user_id": user_id, "password": "a-long-password"}).status_code == 401


@pytest.mark.case("CASE-0093")
@pytest.mark.parametrize("raw, status", [
    (b'{"coffee_name": "jslee", "coffee_price": 2000, "coffee_qty": ' + b"9" * 5000 + b"}", 400),
    (b'{"coffee_name": "jslee", "coffee_price": 1e400, "coffee_qty": 1}', 422),
], ids=["5000-digits", "1e400"])
def test_numbers_too_large_to_read(api, customer, staff, raw, status, case):
    assert_problem(send_raw(api, "create order", customer, staff, raw, "application/json"), status, case)


@pytest.mark.case("CASE-0094")
def test_body_over_the_ingress_limit(api, case):
    body = b'{"user_id": "' + b"x" * 2_000_000 + b'"}'
    assert_problem(api.request("POST", "/order-ms/users", data=body, headers={"Content-Type": "application/json"}),
                   413, case)


@pytest.mark.case("CASE-0095")
def test_url_over_the_ingress_limit(api, case):
    assert_problem(api.get("/order-ms/" + "a" * 10_000), 414, case)
