"""The customer's live order stream: its framing, staff moves arriving in order, the replay after a reconnect,
who may open it, and a resume position that is not an event id (CASE-0115..0122, CASE-0139)."""
from __future__ import annotations

import pytest

from tests.acceptance.uat.checks import ISO_UTC_MICROSECONDS, assert_problem, media_type
from tests.acceptance.uat.flows import new_delivery, place_order, wait_for_delivery
from tests.acceptance.uat.live import (
    ORDER_EVENT,
    ORDER_EVENT_FIELDS,
    RETRY_MILLISECONDS,
    delivery_status_is,
    following,
    of_order,
    open_board_stream,
    open_order_stream,
    staff_move,
    wait_for_view,
)
from tests.acceptance.uat.streams import EVENT_STREAM, Closed, Comment, Retry

# Two default heartbeat periods (STREAM_HEARTBEAT_SECONDS, 15) and some: a deadline, not a measurement.
HEARTBEAT_DEADLINE_SECONDS = 40


def has_status(status: str):
    return lambda data: data["status"] == status


@pytest.mark.case("CASE-0115")
def test_the_stream_is_an_event_stream_that_says_how_to_reconnect(api, customer):
    with open_order_stream(api, customer.user_id, customer.token) as stream:
        assert stream.response.status_code == 200
        assert media_type(stream.response) == EVENT_STREAM
        caching = stream.response.headers.get("Cache-Control", "")
        assert "no-store" in caching or "no-cache" in caching, caching
        first = stream.wait_for(lambda item: True, "the first field")
        assert first == Retry(RETRY_MILLISECONDS)


@pytest.mark.case("CASE-0116")
def test_an_idle_stream_gets_a_heartbeat_and_stays_open(api, customer):
    with following(open_order_stream(api, customer.user_id, customer.token)) as stream:
        stream.wait_for(lambda item: item == Comment("keep-alive"), "the heartbeat comment",
                        timeout=HEARTBEAT_DEADLINE_SECONDS)
        # Still open and live after the heartbeat: a new order's event arrives on it.
        order = place_order(api, customer)
        stream.collect(ORDER_EVENT, of_order(order["order_id"]), has_status("CONFIRMED"), "the order's CONFIRMED")
        assert not any(isinstance(item, Closed) for item in stream.items)


@pytest.mark.smoke
@pytest.mark.case("CASE-0117")
def test_staff_moves_appear_on_the_open_stream_in_order(api, customer, staff):
    with following(open_order_stream(api, customer.user_id, customer.token)) as stream:
        order = place_order(api, customer)
        delivery = wait_for_delivery(api, customer.token, order["order_id"])
        staff_move(api, staff, delivery["delivery_id"], "IN_DELIVERY")
        staff_move(api, staff, delivery["delivery_id"], "COMPLETED")
        events = stream.collect(ORDER_EVENT, of_order(order["order_id"]), has_status("COMPLETED"),
                                "the order's COMPLETED")
    data = [event.json() for event in events]
    assert [change["status"] for change in data] == ["CONFIRMED", "IN_DELIVERY", "COMPLETED"]
    ids = [int(event.id) for event in events]
    assert ids == sorted(set(ids)), f"event ids must grow: {ids}"
    for change in data:
        assert set(change) == ORDER_EVENT_FIELDS
        assert (change["order_id"], change["delivery_id"], change["cancel"]) == (
            order["order_id"], delivery["delivery_id"], None)
        assert ISO_UTC_MICROSECONDS.match(change["updated_at"]), change
    shown = wait_for_view(api, customer, order["order_id"], delivery_status_is("COMPLETED"), "COMPLETED in the view")
    assert shown["delivery"] == {"delivery_id": delivery["delivery_id"], "status": "COMPLETED",
                                 "updated_at": data[-1]["updated_at"]}


@pytest.mark.parametrize("how", [
    pytest.param("header", marks=pytest.mark.case("CASE-0118"), id="Last-Event-ID"),
    pytest.param("query", marks=pytest.mark.case("CASE-0119"), id="last_event_id"),
])
def test_a_reconnect_replays_what_it_missed_then_goes_on_live(api, customer, staff, how):
    with following(open_order_stream(api, customer.user_id, customer.token)) as live:
        with following(open_order_stream(api, customer.user_id, customer.token)) as first_connection:
            order = place_order(api, customer)
            confirmed = first_connection.collect(ORDER_EVENT, of_order(order["order_id"]), has_status("CONFIRMED"),
                                                 "the order's CONFIRMED")[0]
        delivery = wait_for_delivery(api, customer.token, order["order_id"])
        staff_move(api, staff, delivery["delivery_id"], "IN_DELIVERY")
        staff_move(api, staff, delivery["delivery_id"], "COMPLETED")
        # Both changes are in order-ms's log before the reconnect: what follows is a replay, not live news.
        wait_for_view(api, customer, order["order_id"], delivery_status_is("COMPLETED"), "COMPLETED in the view")
        missed = live.collect(ORDER_EVENT, of_order(order["order_id"]), has_status("COMPLETED"), "COMPLETED live")[1:]
        resume = {"last_event_id": confirmed.id} if how == "header" else {"params": {"last_event_id": confirmed.id}}
        with following(open_order_stream(api, customer.user_id, customer.token, **resume)) as again:
            replayed = again.collect(ORDER_EVENT, of_order(order["order_id"]), has_status("COMPLETED"),
                                     "the missed COMPLETED")
            assert [(event.id, event.json()) for event in replayed] == [(event.id, event.json()) for event in missed]
            assert [event.json()["status"] for event in replayed] == ["IN_DELIVERY", "COMPLETED"]
            assert all(int(event.id) > int(confirmed.id) for event in again.events())
            # Then live: a move made now arrives too.
            other = new_delivery(api, customer)
            staff_move(api, staff, other["delivery_id"], "IN_DELIVERY")
            again.collect(ORDER_EVENT, of_order(other["order_id"]), has_status("IN_DELIVERY"),
                          "a move after the reconnect")


@pytest.mark.case("CASE-0120")
def test_staff_may_follow_a_customers_stream(api, customer, staff):
    with following(open_order_stream(api, customer.user_id, staff.token)) as stream:
        assert media_type(stream.response) == EVENT_STREAM
        order = place_order(api, customer)
        stream.collect(ORDER_EVENT, of_order(order["order_id"]), has_status("CONFIRMED"), "the order's CONFIRMED")


@pytest.mark.case("CASE-0121")
def test_the_stream_refuses_a_request_without_a_token(api, customer, case):
    with open_order_stream(api, customer.user_id, None) as stream:
        assert not stream.is_stream, "a stream was opened without a token"
        assert_problem(stream.response, 401, case)
        assert stream.response.headers.get("WWW-Authenticate", "").lower().startswith("bearer")


@pytest.mark.case("CASE-0122")
def test_a_customer_cannot_open_another_customers_stream(api, customer, other_customer, case):
    with open_order_stream(api, other_customer.user_id, customer.token) as stream:
        assert not stream.is_stream, "another customer's stream was opened"
        told = assert_problem(stream.response, 403, case)
    assert (told.values["user_id"], told.values["other_user_id"]) == (customer.user_id, other_customer.user_id)


@pytest.mark.case("CASE-0139")
def test_a_resume_position_that_is_not_an_event_id_is_refused(api, customer, staff, case):
    refused = [
        ("Last-Event-ID", "abc", open_order_stream(api, customer.user_id, customer.token, last_event_id="abc")),
        ("last_event_id", "-1", open_order_stream(api, customer.user_id, customer.token,
                                                  params={"last_event_id": "-1"})),
        ("Last-Event-ID", "1.5", open_board_stream(api, staff.token, last_event_id="1.5")),
    ]
    for field, value, stream in refused:
        with stream:
            assert not stream.is_stream, f"a stream started with {field} {value}"
            told = assert_problem(stream.response, 422, case, field=field)
            assert told.values["value"] == value
