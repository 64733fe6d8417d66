"""Delivery detail: one delivery by its id (CASE-0056..0057)."""
from __future__ import annotations

import uuid

import pytest

from tests.acceptance.uat.checks import assert_problem
from tests.acceptance.uat.flows import delivery_path, new_delivery


@pytest.mark.case("CASE-0056")
def test_detail_matches_the_list_for_customer_and_staff(api, customer, staff):
    delivery = new_delivery(api, customer)
    for token in (customer.token, staff.token):
        response = api.get(delivery_path(delivery["delivery_id"]), token=token)
        assert response.status_code == 200
        assert response.json() == delivery


@pytest.mark.case("CASE-0057")
@pytest.mark.parametrize("delivery_id", [str(uuid.uuid4()), "not-a-uuid"], ids=["random-uuid", "malformed"])
def test_unknown_delivery_is_not_found(api, staff, delivery_id, case):
    told = assert_problem(api.get(delivery_path(delivery_id), token=staff.token), 404, case)
    assert told.values["delivery_id"] == delivery_id
