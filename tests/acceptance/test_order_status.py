"""The delivery in the order's view: order-ms follows delivery_status and shows it (CASE-0112..0114)."""
from __future__ import annotations

import pytest

from tests.acceptance.uat.checks import ISO_UTC_MICROSECONDS, assert_problem
from tests.acceptance.uat.flows import (
    ORDER,
    ORDER_VIEW_FIELDS,
    as_placed,
    move,
    new_delivery,
    orders_path,
    place_order,
    wait_for_delivery,
)
from tests.acceptance.uat.live import (
    DELIVERY_VIEW_FIELDS,
    ORDER_EVENT,
    delivery_status_is,
    following,
    of_order,
    open_order_stream,
    order_view,
    staff_move,
    wait_for_view,
)


def listed_view(api, account, order_id) -> dict:
    response = api.get(orders_path(account.user_id), token=account.token, params={"limit": 500})
    assert response.status_code == 200
    return next(view for view in response.json() if view["order_id"] == order_id)


@pytest.mark.case("CASE-0112")
def test_the_order_view_shows_its_delivery(api, customer):
    response = api.post(orders_path(customer.user_id), json=ORDER, token=customer.token)
    assert response.status_code == 201
    answer = response.json()
    assert set(answer) == ORDER_VIEW_FIELDS
    assert answer["cancel"] is None
    # The delivery may already exist when the answer is made, but never with a status other than CONFIRMED.
    assert answer["delivery"] is None or answer["delivery"]["status"] == "CONFIRMED", answer
    order = as_placed(answer)
    shown = wait_for_view(api, customer, order["order_id"], delivery_status_is("CONFIRMED"), "the order's delivery")
    delivery = wait_for_delivery(api, customer.token, order["order_id"])
    assert set(shown["delivery"]) == DELIVERY_VIEW_FIELDS
    assert shown["delivery"] == {"delivery_id": delivery["delivery_id"], "status": "CONFIRMED",
                                 "updated_at": delivery["updated_at"]}
    assert ISO_UTC_MICROSECONDS.match(shown["delivery"]["updated_at"])
    assert (as_placed(shown), shown["cancel"]) == (order, None)
    listed = listed_view(api, customer, order["order_id"])
    assert (as_placed(listed), listed["delivery"], listed["cancel"]) == (order, shown["delivery"], None)


@pytest.mark.case("CASE-0113")
def test_staff_moves_show_in_the_order_view(api, customer, staff):
    delivery = new_delivery(api, customer)
    staff_move(api, staff, delivery["delivery_id"], "IN_DELIVERY")
    completed = staff_move(api, staff, delivery["delivery_id"], "COMPLETED")
    shown = wait_for_view(api, customer, delivery["order_id"], delivery_status_is("COMPLETED"), "COMPLETED in the view")
    assert shown["delivery"] == {"delivery_id": delivery["delivery_id"], "status": "COMPLETED",
                                 "updated_at": completed["updated_at"]}
    assert listed_view(api, customer, delivery["order_id"])["delivery"] == shown["delivery"]


@pytest.mark.case("CASE-0114")
def test_a_refused_move_changes_nothing_in_the_view(api, customer, staff, case):
    with following(open_order_stream(api, customer.user_id, customer.token)) as stream:
        delivery = new_delivery(api, customer)
        order_id = delivery["order_id"]
        staff_move(api, staff, delivery["delivery_id"], "COMPLETED")
        stream.collect(ORDER_EVENT, of_order(order_id), lambda data: data["status"] == "COMPLETED", "COMPLETED")
        before = wait_for_view(api, customer, order_id, delivery_status_is("COMPLETED"), "COMPLETED in the view")
        told = assert_problem(move(api, staff.token, delivery["delivery_id"], "IN_DELIVERY"), 409, case)
        assert (told.values["status"], told.values["wanted"]) == ("COMPLETED", "IN_DELIVERY")
        # A later change of the same customer: any event the refused move had made would come before its event.
        later = place_order(api, customer)
        stream.collect(ORDER_EVENT, of_order(later["order_id"]), lambda data: data["status"] == "CONFIRMED",
                       "the later order's CONFIRMED")
        statuses = [event.json()["status"] for event in stream.events(ORDER_EVENT, of_order(order_id))]
        assert statuses == ["CONFIRMED", "COMPLETED"]
    assert order_view(api, customer, order_id)["delivery"] == before["delivery"]
