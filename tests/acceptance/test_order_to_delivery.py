"""Order becomes a delivery: the new_orders event and exactly one CONFIRMED delivery (CASE-0046..0049)."""
from __future__ import annotations

import uuid

import pytest

from tests.acceptance.uat.checks import ISO_UTC_MICROSECONDS, UUID4, assert_problem
from tests.acceptance.uat.events import headers_of, value_of
from tests.acceptance.uat.flows import DELIVERY_FIELDS, ORDER, orders_of, orders_path, place_order, wait_for_delivery


def all_deliveries(api, token) -> list[dict]:
    response = api.get("/delivery-ms/deliveries", token=token, params={"limit": 500})
    assert response.status_code == 200
    return response.json()


@pytest.mark.case("CASE-0046")
def test_new_order_is_published_on_new_orders(api, customer, watch):
    new_orders = watch("new_orders")
    order = place_order(api, customer)
    record = new_orders.wait_for(order["order_id"])[0]
    assert value_of(record) == order
    headers = headers_of(record)
    assert headers.get("event_type") == "OrderCreated"
    assert headers.get("schema_version") == "1"
    assert uuid.UUID(headers.get("event_id", ""))


@pytest.mark.smoke
@pytest.mark.case("CASE-0047")
def test_new_order_becomes_a_confirmed_delivery(api, customer):
    order = place_order(api, customer)
    delivery = wait_for_delivery(api, customer.token, order["order_id"])
    assert set(delivery) == DELIVERY_FIELDS
    assert delivery["status"] == "CONFIRMED"
    assert delivery["order"] == order
    assert UUID4.match(delivery["delivery_id"]), delivery["delivery_id"]
    assert ISO_UTC_MICROSECONDS.match(delivery["created_at"]) and ISO_UTC_MICROSECONDS.match(delivery["updated_at"])


@pytest.mark.case("CASE-0048")
def test_retried_order_is_still_one_delivery(api, customer):
    key = {"Idempotency-Key": str(uuid.uuid4())}
    first = place_order(api, customer, headers=key)
    assert place_order(api, customer, headers=key) == first
    second = place_order(api, customer, {**ORDER, "coffee_qty": 1})
    wait_for_delivery(api, customer.token, first["order_id"])
    wait_for_delivery(api, customer.token, second["order_id"])
    delivered = [d["order_id"] for d in all_deliveries(api, customer.token)]
    assert (delivered.count(first["order_id"]), delivered.count(second["order_id"])) == (1, 1)


@pytest.mark.case("CASE-0049")
def test_refused_order_never_becomes_a_delivery(api, customer, case):
    before = orders_of(api, customer)
    refused = api.post(orders_path(customer.user_id), token=customer.token, json={**ORDER, "coffee_price": -1})
    assert_problem(refused, 422, case, field="coffee_price")
    order = place_order(api, customer)
    wait_for_delivery(api, customer.token, order["order_id"])
    # The refused order was never stored, so no delivery can come from it: every delivery is of a stored order.
    orders = orders_of(api, customer)
    assert orders == [order, *before]
    delivered = [d["order_id"] for d in all_deliveries(api, customer.token)]
    assert set(delivered) <= {stored["order_id"] for stored in orders}
    assert len(delivered) == len(set(delivered))
