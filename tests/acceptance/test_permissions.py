"""Permissions: who may read and change what, and tokens that are refused (CASE-0069..0076)."""
from __future__ import annotations

import base64
import hashlib
import hmac
import json
import secrets
import time
import uuid

import pytest

from tests.acceptance.uat.checks import assert_problem
from tests.acceptance.uat.flows import (
    ORDER,
    as_placed,
    delivery_path,
    move,
    new_delivery,
    orders_of,
    orders_path,
    place_order,
)


def forged_token(user_id: str, role: str) -> str:
    """A well-formed HS256 JWT with plausible claims, signed with a key the services do not have."""
    def part(data: bytes) -> str:
        return base64.urlsafe_b64encode(data).decode().rstrip("=")

    now = int(time.time())
    header = part(json.dumps({"alg": "HS256", "typ": "JWT"}).encode())
    claims = part(json.dumps({"sub": user_id, "role": role, "iss": "coffee-order", "iat": now,
                              "exp": now + 600}).encode())
    signature = hmac.new(secrets.token_bytes(32), f"{header}.{claims}".encode(), hashlib.sha256).digest()
    return f"{header}.{claims}.{part(signature)}"


@pytest.mark.case("CASE-0069")
def test_staff_read_any_customers_orders(api, customer, staff):
    order = place_order(api, customer)
    listed = api.get(orders_path(customer.user_id), token=staff.token)
    assert listed.status_code == 200
    assert as_placed(listed.json()[0]) == order
    assert as_placed(listed.json()) == as_placed(api.get(orders_path(customer.user_id), token=customer.token).json())
    detail = api.get(f"{orders_path(customer.user_id)}/{order['order_id']}", token=staff.token)
    assert detail.status_code == 200
    assert as_placed(detail.json()) == order


@pytest.mark.case("CASE-0070")
def test_staff_see_every_customers_delivery(api, customer, staff):
    delivery = new_delivery(api, customer)
    response = api.get(delivery_path(delivery["delivery_id"]), token=staff.token)
    assert response.status_code == 200
    assert response.json()["order"]["user_id"] == customer.user_id


PROTECTED = [
    ("GET", "orders", None),
    ("GET", "order", None),
    ("POST", "orders", ORDER),
    ("GET", "deliveries", None),
    ("GET", "delivery", None),
    ("PUT", "delivery_status", {"status": "COMPLETED"}),
]


def protected_path(kind: str, user_id: str) -> str:
    return {
        "orders": orders_path(user_id),
        "order": f"{orders_path(user_id)}/{uuid.uuid4()}",
        "deliveries": "/delivery-ms/deliveries",
        "delivery": delivery_path(str(uuid.uuid4())),
        "delivery_status": f"{delivery_path(str(uuid.uuid4()))}/status",
    }[kind]


@pytest.mark.case("CASE-0071")
@pytest.mark.parametrize("method, kind, body", PROTECTED, ids=[f"{m} {k}" for m, k, _ in PROTECTED])
def test_no_token_is_refused_everywhere(api, customer, method, kind, body, case):
    response = api.request(method, protected_path(kind, customer.user_id), json=body)
    assert_problem(response, 401, case)
    assert response.headers.get("WWW-Authenticate", "").lower().startswith("bearer")


@pytest.mark.case("CASE-0072")
@pytest.mark.parametrize("authorization", ["Bearer not.a.token", "Basic dXNlcjpwYXNz", "Bearer", "Bearer   "])
def test_malformed_token_is_refused(api, customer, authorization, case):
    response = api.get(orders_path(customer.user_id), headers={"Authorization": authorization})
    assert_problem(response, 401, case)


@pytest.mark.case("CASE-0073")
@pytest.mark.parametrize("path", ["orders", "deliveries"])
def test_token_signed_elsewhere_is_refused(api, customer, path, case):
    token = forged_token(customer.user_id, "staff")
    target = orders_path(customer.user_id) if path == "orders" else "/delivery-ms/deliveries"
    assert_problem(api.get(target, token=token), 401, case)


@pytest.mark.case("CASE-0074")
def test_customer_cannot_touch_other_customers_orders(api, customer, other_customer, case):
    whose = (customer.user_id, other_customer.user_id)
    before = orders_of(api, other_customer)
    read = assert_problem(api.get(orders_path(other_customer.user_id), token=customer.token), 403, case)
    assert (read.values["user_id"], read.values["other_user_id"]) == whose
    placed = assert_problem(api.post(orders_path(other_customer.user_id), json=ORDER, token=customer.token), 403, case)
    assert (placed.values["user_id"], placed.values["other_user_id"]) == whose
    assert orders_of(api, other_customer) == before


@pytest.mark.case("CASE-0075")
def test_customer_cannot_read_other_customers_delivery(api, customer, other_customer, case):
    theirs = new_delivery(api, other_customer)
    # 404, as for a delivery that does not exist: a 403 would confirm that the id is someone's delivery.
    told = assert_problem(api.get(delivery_path(theirs["delivery_id"]), token=customer.token), 404, case)
    assert told.values["delivery_id"] == theirs["delivery_id"]
    assert other_customer.user_id not in json.dumps(told.body)


@pytest.mark.case("CASE-0076")
def test_customer_cannot_change_a_status(api, customer, staff, case):
    delivery = new_delivery(api, customer)
    assert_problem(move(api, customer.token, delivery["delivery_id"], "COMPLETED"), 403, case)
    assert_problem(api.put(delivery_path(delivery["delivery_id"]), json={"status": "COMPLETED"},
                           token=customer.token), 403, case)
    assert api.get(delivery_path(delivery["delivery_id"]), token=staff.token).json()["status"] == "CONFIRMED"


@pytest.mark.case("CASE-0109")
def test_a_token_opens_its_user_id_in_one_form_only(api, customer, case):
    look_alike = customer.user_id.upper()
    before = orders_of(api, customer)
    read = assert_problem(api.get(orders_path(look_alike), token=customer.token), 403, case)
    assert (read.values["user_id"], read.values["other_user_id"]) == (customer.user_id, look_alike)
    placed = assert_problem(api.post(orders_path(look_alike), json=ORDER, token=customer.token), 403, case)
    assert (placed.values["user_id"], placed.values["other_user_id"]) == (customer.user_id, look_alike)
    assert orders_of(api, customer) == before
