"""The staff board's live stream: new deliveries and moves as they happen, the replay after a reconnect, and
staff only (CASE-0131..0133)."""
from __future__ import annotations

import pytest

from tests.acceptance.uat.checks import ISO_UTC_MICROSECONDS, assert_problem, media_type
from tests.acceptance.uat.flows import place_order, wait_for_delivery
from tests.acceptance.uat.live import (
    BOARD_EVENT,
    BOARD_EVENT_FIELDS,
    RETRY_MILLISECONDS,
    following,
    of_order,
    open_board_stream,
    staff_move,
)
from tests.acceptance.uat.streams import EVENT_STREAM, Retry


def has_status(status: str):
    return lambda data: data["status"] == status


@pytest.mark.case("CASE-0131")
def test_the_board_stream_shows_a_new_delivery_and_a_move(api, customer, staff):
    with open_board_stream(api, staff.token) as stream:
        assert media_type(stream.response) == EVENT_STREAM
        assert stream.wait_for(lambda item: True, "the first field") == Retry(RETRY_MILLISECONDS)
        order = place_order(api, customer)
        created = stream.collect(BOARD_EVENT, of_order(order["order_id"]), has_status("CONFIRMED"),
                                 "the new delivery")[0]
        delivery = wait_for_delivery(api, customer.token, order["order_id"])
        staff_move(api, staff, delivery["delivery_id"], "IN_DELIVERY")
        events = stream.collect(BOARD_EVENT, of_order(order["order_id"]), has_status("IN_DELIVERY"), "the move")
    assert events[0] == created and len(events) == 2, events
    first, moved = (event.json() for event in events)
    for change in (first, moved):
        assert set(change) == BOARD_EVENT_FIELDS
        assert (change["delivery_id"], change["order_id"], change["user_id"]) == (
            delivery["delivery_id"], order["order_id"], customer.user_id)
        assert ISO_UTC_MICROSECONDS.match(change["updated_at"]), change
    assert (first["status"], first["previous_status"], first["version"]) == ("CONFIRMED", None, 1)
    assert (moved["status"], moved["previous_status"], moved["version"]) == ("IN_DELIVERY", "CONFIRMED", 2)
    assert int(events[0].id) < int(events[1].id)


@pytest.mark.case("CASE-0132")
def test_the_board_stream_replays_what_it_missed(api, customer, staff):
    with following(open_board_stream(api, staff.token)) as first_connection:
        order = place_order(api, customer)
        created = first_connection.collect(BOARD_EVENT, of_order(order["order_id"]), has_status("CONFIRMED"),
                                           "the new delivery")[0]
    delivery = wait_for_delivery(api, customer.token, order["order_id"])
    staff_move(api, staff, delivery["delivery_id"], "IN_DELIVERY")
    staff_move(api, staff, delivery["delivery_id"], "COMPLETED")
    with following(open_board_stream(api, staff.token, last_event_id=created.id)) as again:
        replayed = again.collect(BOARD_EVENT, of_order(order["order_id"]), has_status("COMPLETED"), "the missed moves")
        assert all(int(event.id) > int(created.id) for event in again.events())
    assert [(event.json()["status"], event.json()["version"]) for event in replayed] == [
        ("IN_DELIVERY", 2), ("COMPLETED", 3)]


@pytest.mark.case("CASE-0133")
def test_only_staff_may_open_the_board_stream(api, customer, case):
    with open_board_stream(api, customer.token) as stream:
        assert not stream.is_stream, "a customer opened the board stream"
        assert_problem(stream.response, 403, case)
    with open_board_stream(api, None) as stream:
        assert not stream.is_stream, "the board stream was opened without a token"
        assert_problem(stream.response, 401, case)
        assert stream.response.headers.get("WWW-Authenticate", "").lower().startswith("bearer")
