"""Order detail: one order by its id, and the ids that find nothing (CASE-0042..0045)."""
from __future__ import annotations

import json
import uuid

import pytest

from tests.acceptance.uat.checks import assert_problem
from tests.acceptance.uat.flows import as_placed, orders_path, place_order


@pytest.mark.case("CASE-0042")
def test_detail_shows_the_order_as_placed(api, customer):
    order = place_order(api, customer)
    response = api.get(f"{orders_path(customer.user_id)}/{order['order_id']}", token=customer.token)
    assert response.status_code == 200
    assert as_placed(response.json()) == order


@pytest.mark.case("CASE-0043")
def test_unknown_order_id_is_not_found(api, customer, case):
    order_id = str(uuid.uuid4())
    told = assert_problem(api.get(f"{orders_path(customer.user_id)}/{order_id}", token=customer.token), 404, case)
    assert (told.values["order_id"], told.values["user_id"]) == (order_id, customer.user_id)


@pytest.mark.case("CASE-0044")
@pytest.mark.parametrize("order_id", ["not-a-uuid", "x" * 36, "%27%20OR%201%3D1"])
def test_malformed_order_id_is_not_found(api, customer, order_id, case):
    told = assert_problem(api.get(f"{orders_path(customer.user_id)}/{order_id}", token=customer.token), 404, case)
    assert told.values["user_id"] == customer.user_id


@pytest.mark.case("CASE-0045")
def test_other_customers_order_is_not_found_under_my_id(api, customer, other_customer, case):
    theirs = place_order(api, other_customer)
    response = api.get(f"{orders_path(customer.user_id)}/{theirs['order_id']}", token=customer.token)
    told = assert_problem(response, 404, case)
    assert told.values["user_id"] == customer.user_id
    # The answer must not reveal whose order it is.
    assert other_customer.user_id not in json.dumps(told.body)
