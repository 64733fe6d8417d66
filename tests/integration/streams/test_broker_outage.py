"""A broker outage with the real pipeline: the staff board's stream stays open while Kafka is down, and an order
placed meanwhile (kept in order-ms's outbox) reaches it once Kafka is back: relay, `new_orders`, delivery-ms's
consumer, its change log, the stream's poller, on the same connection."""
from __future__ import annotations

import signal

import requests

from scripts.stack.holds import hold_process, release_process
from scripts.stack.layout import layout_for
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
