"""A broker outage with the real pipeline: both streams stay open while Kafka is down, and an order placed
meanwhile (kept in order-ms's outbox) reaches them once Kafka is back, on the same connection."""
from __future__ import annotations

import signal

import requests

from scripts.stack.holds import hold_process, release_process
from scripts.stack.layout import layout_for
from tests.integration.streams.test_live_streams import order_stream
from tests.support.sse import EventStream

ORDER = {"coffee_name": "outage", "coffee_price": 2000, "coffee_qty": 1}
# The broker's restart and the relay's and the consumer's return to it: on a busy machine well under this.
CATCH_UP_SECONDS = 180


def test_the_board_stays_open_through_a_broker_outage_and_shows_the_order_placed_meanwhile(
        base_url, customer, stack, staff_headers):
    layout = layout_for(stack.profile, starting=False)
    with EventStream(f"{base_url}/delivery-ms/deliveries/events", staff_headers) as board:
        assert board.status_code == 200 and board.next_block() == {"retry": "2000"}
        hold_process(layout, "broker", signal.SIGKILL)
        try:
            placed = requests.post(f"{base_url}/order-ms/{customer.user_id}/orders", json=ORDER,
                                   headers=customer.headers, timeout=10)
            assert placed.status_code == 201, placed.text  # kept in the outbox meanwhile
            assert board.next_block() == {"comments": ["keep-alive"]}  # the stream outlives the outage
        finally:
            release_process(layout, "broker")
        order_id = placed.json()["order_id"]
        while (event := board.next_event(within=CATCH_UP_SECONDS))["data"]["order_id"] != order_id:
            pass  # other deliveries' changes (other tests' orders arriving late) come first
    assert event["event"] == "delivery-status"
    assert (event["data"]["user_id"], event["data"]["status"], event["data"]["previous_status"],
            event["data"]["version"]) == (customer.user_id, "CONFIRMED", None, 1)


def test_the_customers_stream_stays_open_through_a_broker_outage_and_catches_up(base_url, customer, stack):
    """The whole path to the customer: order-ms's relay, `new_orders`, delivery-ms's consumer and relay,
    `delivery_status`, order-ms's status consumer, the change log; all of it waits for Kafka to come back."""
    layout = layout_for(stack.profile, starting=False)
    with order_stream(base_url, customer.user_id, customer.headers) as stream:
        hold_process(layout, "broker", signal.SIGKILL)
        try:
            placed = requests.post(f"{base_url}/order-ms/{customer.user_id}/orders", json=ORDER,
                                   headers=customer.headers, timeout=10)
            assert placed.status_code == 201, placed.text
            assert stream.next_block() == {"comments": ["keep-alive"]}
        finally:
            release_process(layout, "broker")
        event = stream.next_event(within=CATCH_UP_SECONDS)
    assert event["event"] == "order-status"
    assert (event["data"]["order_id"], event["data"]["status"], event["data"]["cancel"]) == (
        placed.json()["order_id"], "CONFIRMED", None)
