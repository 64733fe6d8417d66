"""Idempotent retry: the Idempotency-Key header makes a retried POST safe (CASE-0033..0036)."""
from __future__ import annotations

import uuid

import pytest

from tests.acceptance.uat.checks import assert_problem
from tests.acceptance.uat.flows import ORDER, orders_path


def post_order(api, customer, key: str, order: dict = ORDER):
    return api.post(orders_path(customer.user_id), json=order, token=customer.token, headers={"Idempotency-Key": key})


def my_orders(api, customer) -> list[dict]:
    response = api.get(orders_path(customer.user_id), token=customer.token)
    assert response.status_code == 200
    return response.json()


@pytest.mark.case("CASE-0033")
def test_same_key_returns_the_first_order(api, customer):
    key = str(uuid.uuid4())
    first = post_order(api, customer, key)
    again = post_order(api, customer, key)
    assert first.status_code == 201 and again.status_code == 201
    assert again.json() == first.json()
    assert again.headers.get("Idempotent-Replayed") == "true"
    assert first.headers.get("Idempotent-Replayed") is None
    assert [order["order_id"] for order in my_orders(api, customer)] == [first.json()["order_id"]]


@pytest.mark.case("CASE-0034")
def test_different_keys_make_different_orders(api, customer):
    first = post_order(api, customer, str(uuid.uuid4()))
    second = post_order(api, customer, str(uuid.uuid4()))
    assert first.status_code == 201 and second.status_code == 201
    assert first.json()["order_id"] != second.json()["order_id"]
    assert {order["order_id"] for order in my_orders(api, customer)} == {first.json()["order_id"], second.json()["order_id"]}


@pytest.mark.case("CASE-0035")
def test_same_key_with_another_body_is_refused(api, customer, case):
    key = str(uuid.uuid4())
    first = post_order(api, customer, key)
    assert first.status_code == 201
    told = assert_problem(post_order(api, customer, key, {**ORDER, "coffee_qty": ORDER["coffee_qty"] + 1}), 409, case)
    # The detail names the key and the order it already made, so the user can fetch that order.
    assert (told.values["key"], told.values["order_id"]) == (key, first.json()["order_id"])
    assert my_orders(api, customer) == [first.json()]


@pytest.mark.case("CASE-0036")
def test_overlong_key_is_refused(api, customer, case):
    assert_problem(post_order(api, customer, "k" * 256), 422, case, field="Idempotency-Key")
    assert my_orders(api, customer) == []
