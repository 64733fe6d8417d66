"""List orders: newest first, with paging through the Link header (CASE-0037..0041)."""
from __future__ import annotations

import pytest

from tests.acceptance.uat.checks import assert_problem
from tests.acceptance.uat.flows import ORDER, ORDER_VIEW_FIELDS, as_placed, orders_of, orders_path, place_order, sign_up


@pytest.mark.case("CASE-0037")
def test_orders_newest_first_with_exact_fields(api, customer):
    before = orders_of(api, customer)
    placed = [place_order(api, customer, {**ORDER, "coffee_qty": qty}) for qty in (1, 2, 3)]
    response = api.get(orders_path(customer.user_id), token=customer.token)
    assert response.status_code == 200
    listed = response.json()
    assert all(set(order) == ORDER_VIEW_FIELDS for order in listed)
    assert as_placed(listed) == [*reversed(placed), *before]


@pytest.mark.case("CASE-0038")
def test_pages_through_link_header(api, customer):
    before = orders_of(api, customer)
    placed = [place_order(api, customer, {**ORDER, "coffee_qty": qty}) for qty in range(1, 6)]
    expected = [*reversed(placed), *before]
    seen, pages = [], 0
    response = api.get(orders_path(customer.user_id), token=customer.token, params={"limit": 2})
    while True:
        assert response.status_code == 200
        page = response.json()
        assert len(page) <= 2
        seen.extend(page)
        pages += 1
        assert pages <= len(expected) // 2 + 1, "paging does not end"
        if "next" not in response.links:
            break
        response = api.get(response.links["next"]["url"], token=customer.token)
    assert as_placed(seen) == expected


@pytest.mark.case("CASE-0039")
def test_new_customer_has_an_empty_list(api):
    customer = sign_up(api)  # a fresh account: the pooled ones already hold other cases' orders
    response = api.get(orders_path(customer.user_id), token=customer.token)
    assert response.status_code == 200
    assert response.json() == []
    assert "Link" not in response.headers


@pytest.mark.case("CASE-0040")
@pytest.mark.parametrize("limit", ["0", "501", "abc", "-1"])
def test_limit_out_of_range_is_refused(api, customer, limit, case):
    response = api.get(orders_path(customer.user_id), token=customer.token, params={"limit": limit})
    assert assert_problem(response, 422, case, field="limit").values["limit"] == limit


@pytest.mark.case("CASE-0041")
def test_foreign_cursor_is_refused(api, customer, case):
    response = api.get(orders_path(customer.user_id), token=customer.token, params={"cursor": "not-a-cursor"})
    assert_problem(response, 422, case, field="cursor")
