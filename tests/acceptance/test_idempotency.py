"""Idempotent retry: the Idempotency-Key header makes a retried POST safe (CASE-0033..0036)."""
from __future__ import annotations

import uuid

import pytest

from tests.acceptance.uat.checks import assert_problem
from tests.acceptance.uat.flows import ORDER, as_placed, orders_of, orders_path


def post_order(api, customer, key: str, order: dict = ORDER):
    return api.post(orders_path(customer.user_id), json=order, token=customer.token, headers={"Idempotency-Key": key})


@pytest.mark.case("CASE-0033")
def test_same_key_returns_the_first_order(api, customer):
    before = orders_of(api, customer)
    key = str(uuid.uuid4())
    first = post_order(api, customer, key)
    again = post_order(api, customer, key)
    assert first.status_code == 201 and again.status_code == 201
    assert as_placed(again.json()) == as_placed(first.json())
    assert again.headers.get("Idempotent-Replayed") == "true"
    assert first.headers.get("Idempotent-Replayed") is None
    assert orders_of(api, customer) == [as_placed(first.json()), *before]


@pytest.mark.case("CASE-0034")
def test_different_keys_make_different_orders(api, customer):
    before = orders_of(api, customer)
    first = post_order(api, customer, str(uuid.uuid4()))
    second = post_order(api, customer, str(uuid.uuid4()))
    assert first.status_code == 201 and second.status_code == 201
    assert first.json()["order_id"] != second.json()["order_id"]
    assert orders_of(api, customer) == [as_placed(second.json()), as_placed(first.json()), *before]


@pytest.mark.case("CASE-0035")
def test_same_key_with_another_body_is_refused(api, customer, case):
    before = orders_of(api, customer)
    key = str(uuid.uuid4())
    first = post_order(api, customer, key)
    assert first.status_code == 201
    told = assert_problem(post_order(api, customer, key, {**ORDER, "coffee_qty": ORDER["coffee_qty"] + 1}), 409, case)
    # The detail names the key and the order it already made, so the user can fetch that order.
    assert (told.values["key"], told.values["order_id"]) == (key, first.json()["order_id"])
    assert orders_of(api, customer) == [as_placed(first.json()), *before]


@pytest.mark.case("CASE-0036")
def test_overlong_key_is_refused(api, customer, case):
    before = orders_of(api, customer)
    assert_problem(post_order(api, customer, "k" * 256), 422, case, field="Idempotency-Key")
    assert orders_of(api, customer) == before


@pytest.mark.case("CASE-0106")
def test_keys_differing_only_in_case_are_two_orders(api, customer):
    before = orders_of(api, customer)
    key = f"order-{uuid.uuid4().hex[:12]}"
    first = post_order(api, customer, key)
    second = post_order(api, customer, key.upper())
    assert first.status_code == 201 and second.status_code == 201
    assert first.json()["order_id"] != second.json()["order_id"]
    assert second.headers.get("Idempotent-Replayed") is None
    again = post_order(api, customer, key.upper())
    assert as_placed(again.json()) == as_placed(second.json()) and again.headers.get("Idempotent-Replayed") == "true"
    assert orders_of(api, customer) == [as_placed(second.json()), as_placed(first.json()), *before]
