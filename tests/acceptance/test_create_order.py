"""Create order: a customer's order is stored and shown back (CASE-0029..0032)."""
from __future__ import annotations

import pytest

from tests.acceptance.uat.checks import ISO_UTC_MICROSECONDS, UUID4, assert_problem
from tests.acceptance.uat.flows import ORDER, ORDER_VIEW_FIELDS, as_placed, orders_of, orders_path


@pytest.mark.smoke
@pytest.mark.case("CASE-0029")
def test_customer_places_an_order(api, customer):
    response = api.post(orders_path(customer.user_id), json=ORDER, token=customer.token)
    assert response.status_code == 201
    order = response.json()
    assert set(order) == ORDER_VIEW_FIELDS
    assert order["user_id"] == customer.user_id
    assert {key: order[key] for key in ORDER} == ORDER
    assert UUID4.match(order["order_id"]), order["order_id"]
    assert ISO_UTC_MICROSECONDS.match(order["ordered_at"]), order["ordered_at"]
    location = response.headers["Location"]
    assert location.endswith(f"{orders_path(customer.user_id)}/{order['order_id']}")
    detail = api.get(location, token=customer.token)
    assert detail.status_code == 200
    assert as_placed(detail.json()) == as_placed(order)


@pytest.mark.case("CASE-0030")
@pytest.mark.parametrize("order", [
    {"coffee_name": "x", "coffee_price": 0, "coffee_qty": 1},
    {"coffee_name": "y" * 50, "coffee_price": 1_000_000, "coffee_qty": 100},
], ids=["lowest", "highest"])
def test_field_limits_are_accepted(api, customer, order):
    response = api.post(orders_path(customer.user_id), json=order, token=customer.token)
    assert response.status_code == 201
    assert {key: response.json()[key] for key in order} == order


@pytest.mark.case("CASE-0031")
def test_order_under_invalid_user_id_is_refused(api, customer, case):
    response = api.post("/order-ms/has%20space/orders", json=ORDER, token=customer.token)
    assert_problem(response, 422, case, field="user_id")


@pytest.mark.case("CASE-0032")
def test_order_without_token_is_refused(api, customer, case):
    before = orders_of(api, customer)
    response = api.post(orders_path(customer.user_id), json=ORDER)
    assert_problem(response, 401, case)
    assert response.headers.get("WWW-Authenticate", "").lower().startswith("bearer")
    assert orders_of(api, customer) == before
