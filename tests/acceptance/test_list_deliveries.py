"""List and filter deliveries: by status, per customer, page by page (CASE-0050..0055)."""
from __future__ import annotations

import pytest

from tests.acceptance.uat.checks import assert_problem
from tests.acceptance.uat.flows import DELIVERY_FIELDS, move, new_delivery, place_order, wait_for_delivery

DELIVERIES = "/delivery-ms/deliveries"
MAX_PAGES = 50


def list_ids(api, token, **params) -> list[str]:
    response = api.get(DELIVERIES, token=token, params={"limit": 500, **params})
    assert response.status_code == 200
    return [delivery["delivery_id"] for delivery in response.json()]


@pytest.mark.case("CASE-0050")
def test_staff_filter_by_confirmed(api, customer, staff):
    delivery = new_delivery(api, customer)
    response = api.get(DELIVERIES, token=staff.token, params={"status": "CONFIRMED", "limit": 100})
    for _ in range(MAX_PAGES):
        assert response.status_code == 200
        page = response.json()
        assert all(set(item) == DELIVERY_FIELDS for item in page)
        assert {item["status"] for item in page} <= {"CONFIRMED"}
        if delivery["delivery_id"] in [item["delivery_id"] for item in page] or "next" not in response.links:
            break
        response = api.get(response.links["next"]["url"], token=staff.token)
    assert delivery["delivery_id"] in [item["delivery_id"] for item in page], "the new delivery is not listed"


@pytest.mark.case("CASE-0051")
def test_filter_follows_a_moved_delivery(api, customer, staff):
    delivery = new_delivery(api, customer)
    assert move(api, staff.token, delivery["delivery_id"], "COMPLETED").status_code == 200
    assert delivery["delivery_id"] in list_ids(api, customer.token, status="COMPLETED")
    assert delivery["delivery_id"] not in list_ids(api, customer.token, status="CONFIRMED")


@pytest.mark.case("CASE-0052")
def test_customer_sees_only_own_deliveries(api, customer, other_customer):
    mine = new_delivery(api, customer)
    theirs = new_delivery(api, other_customer)
    response = api.get(DELIVERIES, token=customer.token, params={"limit": 500})
    assert response.status_code == 200
    listed = response.json()
    assert mine["delivery_id"] in [item["delivery_id"] for item in listed]
    assert {item["order"]["user_id"] for item in listed} == {customer.user_id}
    assert theirs["delivery_id"] not in response.text


@pytest.mark.case("CASE-0053")
def test_deliveries_page_through_link_header(api, customer):
    orders = [place_order(api, customer) for _ in range(3)]
    new = {wait_for_delivery(api, customer.token, order["order_id"])["delivery_id"] for order in orders}
    everything = api.get(DELIVERIES, token=customer.token, params={"limit": 500})
    assert everything.status_code == 200
    expected = {item["delivery_id"] for item in everything.json()}
    assert new <= expected
    seen = []
    response = api.get(DELIVERIES, token=customer.token, params={"limit": 1})
    for _ in range(len(expected) + MAX_PAGES):
        assert response.status_code == 200
        page = response.json()
        assert len(page) <= 1
        seen.extend(page)
        if "next" not in response.links:
            break
        response = api.get(response.links["next"]["url"], token=customer.token)
    # Each exactly once. Their order is not checked: with several consumers, the delivery created
    # first may be committed last, and no black-box observation tells which one is newer. An earlier case's
    # order may become a delivery while this one pages, so more may be seen than were listed before.
    seen_ids = [item["delivery_id"] for item in seen]
    assert len(seen_ids) == len(set(seen_ids)), "a delivery was listed twice"
    assert expected <= set(seen_ids)


@pytest.mark.case("CASE-0054")
def test_unknown_status_filter_is_refused(api, staff, case):
    assert_problem(api.get(DELIVERIES, token=staff.token, params={"status": "BOGUS"}), 422, case, field="status")


@pytest.mark.case("CASE-0055")
@pytest.mark.parametrize("param, value", [("limit", "0"), ("limit", "501"), ("cursor", "not-a-cursor")])
def test_bad_limit_or_cursor_is_refused(api, staff, param, value, case):
    told = assert_problem(api.get(DELIVERIES, token=staff.token, params={param: value}), 422, case, field=param)
    # Of the catalog's variants, the detail and the hint served are those about the parameter that was wrong.
    assert told.body["detail"].startswith(param) and param in told.body["hint"], told.body
