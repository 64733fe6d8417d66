"""A customer's cancel request through the real broker, consumer, database and relay: a CONFIRMED delivery is
canceled, one staff already moved on is refused with the reason, an order never seen is recorded CANCELED, and a
duplicate OrderCreated publishes the delivery's current state again; every answer is read back from
`delivery_status` (design 23, section 2 and 7)."""
import json

import pytest
import requests

from services.contracts import delivery_status_changed, order_cancel_requested, order_created
from tests.integration.delivery_ms.conftest import put_status
from tests.support.board import board_log
from tests.support.polling import wait_for
from tests.support.topics import OrderProducer, TopicReader, new_order

REQUESTED_AT = "2026-11-28T15:06:00.000000Z"


@pytest.fixture
def producer(kafka_servers):
    producer = OrderProducer(kafka_servers)
    yield producer
    producer.close()


@pytest.fixture
def answers(kafka_servers):
    """What delivery-ms publishes on delivery_status, per order: [(event_type, value)] in the order published."""
    reader = TopicReader(kafka_servers, delivery_status_changed.TOPIC)

    def of(order_id: str, count: int, what: str) -> list[tuple[str, dict]]:
        records = reader.wait_for(lambda r: r.key == order_id.encode(), what, count=count)
        return [(dict(r.headers)["event_type"].decode(), json.loads(r.value)) for r in records]

    yield of
    reader.close()


def delivery_of(base_url, staff_headers, order_id):
    def find():
        response = requests.get(f"{base_url}/delivery-ms/deliveries", params={"limit": 500}, headers=staff_headers,
                                timeout=10)
        return next((d for d in response.json() if d["order_id"] == order_id), None)

    return wait_for(find, f"the delivery of order {order_id}")


def created_delivery(producer, answers, order) -> dict:
    producer.send_orders([order])
    ((event_type, created),) = answers(order["order_id"], 1, "the creation event")
    assert event_type == "DeliveryStatusChanged"
    return created


def cancel(producer, order):
    producer.send_message(order_cancel_requested.build(order, REQUESTED_AT))


def test_a_new_delivery_is_published_at_version_1_without_a_previous_status(producer, answers, delivery_db):
    order = new_order()
    created = created_delivery(producer, answers, order)
    assert created["status"] == "CONFIRMED" and created["previous_status"] is None and created["version"] == 1
    assert board_log(delivery_db, order["order_id"]) == [("CONFIRMED", None, 1)]


def test_a_cancel_of_a_confirmed_delivery_cancels_it_and_staff_can_no_longer_move_it(
        producer, answers, delivery_db, base_url, staff_headers):
    order = new_order()
    created = created_delivery(producer, answers, order)
    cancel(producer, order)
    (_, (event_type, canceled)) = answers(order["order_id"], 2, "the CANCELED event")
    assert event_type == "DeliveryStatusChanged"
    assert canceled == {**created, "status": "CANCELED", "previous_status": "CONFIRMED", "version": 2,
                        "updated_at": canceled["updated_at"]}
    assert board_log(delivery_db, order["order_id"]) == [("CONFIRMED", None, 1), ("CANCELED", "CONFIRMED", 2)]
    moved = put_status(base_url, created["delivery_id"], "IN_DELIVERY", staff_headers)
    assert moved.status_code == 409 and moved.json()["current_status"] == "CANCELED"


@pytest.mark.parametrize("status", ["IN_DELIVERY", "COMPLETED"])
def test_a_cancel_after_staff_moved_the_delivery_is_refused_with_the_reason(
        producer, answers, delivery_db, base_url, staff_headers, status):
    order = new_order()
    created = created_delivery(producer, answers, order)
    assert put_status(base_url, created["delivery_id"], status, staff_headers).status_code == 200
    cancel(producer, order)
    (_, (_, moved), (event_type, refusal)) = answers(order["order_id"], 3, "the refusal")
    assert event_type == "OrderCancelRefused"
    assert moved["status"] == status and moved["version"] == 2
    assert refusal == {"delivery_id": created["delivery_id"], "order_id": order["order_id"], "status": status,
                       "version": 2, "refused_at": refusal["refused_at"],
                       "reason": f"The delivery is already {status}; only a CONFIRMED delivery can be canceled."}
    shown = requests.get(f"{base_url}/delivery-ms/deliveries/{created['delivery_id']}", headers=staff_headers,
                         timeout=10).json()
    assert shown["status"] == status, "a refused cancel changes nothing"
    assert [row[0] for row in board_log(delivery_db, order["order_id"])] == ["CONFIRMED", status], \
        "the board shows no refusal"


def test_a_cancel_of_an_order_never_seen_records_it_canceled_and_the_late_order_changes_nothing(
        producer, answers, delivery_db, base_url, staff_headers):
    order = new_order()
    cancel(producer, order)
    ((event_type, canceled),) = answers(order["order_id"], 1, "the CANCELED creation")
    assert event_type == "DeliveryStatusChanged"
    assert (canceled["status"], canceled["previous_status"], canceled["version"]) == ("CANCELED", None, 1)
    delivery = delivery_of(base_url, staff_headers, order["order_id"])
    assert delivery["status"] == "CANCELED" and delivery["order"] == order, "the order as created, from the cancel"

    producer.send_orders([order])
    (_, republished) = answers(order["order_id"], 2, "the re-published state")
    assert republished == (event_type, canceled), "the late creation only tells the current state again"
    cursor = delivery_db.cursor()
    cursor.execute("SELECT COUNT(*) FROM delivery_status WHERE order_id = ?", (order["order_id"],))
    assert cursor.fetchone() == (1,)
    # The board shows the re-published state again, same version (its version says it is no change).
    assert board_log(delivery_db, order["order_id"]) == [("CANCELED", None, 1), ("CANCELED", None, 1)]


def test_a_redelivered_cancel_of_a_canceled_delivery_publishes_nothing(producer, answers, delivery_db):
    order = new_order()
    created_delivery(producer, answers, order)
    cancel(producer, order)
    cancel(producer, order)
    # Same key, same partition: once the duplicate creation behind them is answered, both cancels were handled.
    producer.send_orders([order])
    published = answers(order["order_id"], 3, "the CANCELED event and the re-published state")
    assert [(event_type, value["status"], value["version"]) for event_type, value in published] == [
        ("DeliveryStatusChanged", "CONFIRMED", 1), ("DeliveryStatusChanged", "CANCELED", 2),
        ("DeliveryStatusChanged", "CANCELED", 2)]
    assert published[1] == published[2]
    cursor = delivery_db.cursor()
    cursor.execute("SELECT COUNT(*) FROM delivery_outbox WHERE message_key = ?", (order["order_id"],))
    assert cursor.fetchone() == (3,), "the second cancel wrote no event"
    assert board_log(delivery_db, order["order_id"]) == [("CONFIRMED", None, 1), ("CANCELED", "CONFIRMED", 2),
                                                         ("CANCELED", "CONFIRMED", 2)], "the re-published state too"


def test_a_duplicate_order_republishes_the_moved_delivery_exactly_as_it_was_published(
        producer, answers, base_url, staff_headers):
    order = new_order()
    created = created_delivery(producer, answers, order)
    assert put_status(base_url, created["delivery_id"], "IN_DELIVERY", staff_headers).status_code == 200
    (_, moved) = answers(order["order_id"], 2, "the move")
    producer.send_message(order_created.build(order))   # a new event_id, as order-ms's reconciler sends it
    (_, _, republished) = answers(order["order_id"], 3, "the re-published state")
    assert republished == moved
    assert moved[1]["version"] == 2 and moved[1]["previous_status"] == "CONFIRMED"
