"""The customer's cancel on the real stack (gunicorn behind nginx, MariaDB, the broker): the request, its change row
and its OrderCancelRequested event are written together and published after the order's creation on the same key;
a second request, a delivery past CONFIRMED and an unknown order are refused; parallel requests get one 202.

delivery-ms's answer (the delivery CANCELED or the cancel refused) and order-ms applying it are proven where those
parts live; here order-ms's side only. The stack's pipeline runs all the while, so a delivery the read model knows
is made the real way (the consumer, staff's move, the status consumer), never written beside it: a row written by
the test would race the status consumer's own."""
import json
import threading
import uuid

import requests

from services.contracts import order_created
from tests.support.polling import wait_for
from tests.support.topics import TopicReader

ORDER = {"coffee_name": "jslee", "coffee_price": 2000, "coffee_qty": 1}
CLIENTS = 8


def place_order(base_url, customer) -> dict:
    response = requests.post(f"{base_url}/order-ms/{customer.user_id}/orders", json=ORDER, headers=customer.headers,
                             timeout=10)
    assert response.status_code == 201, response.text
    return response.json()


def cancel(base_url, customer, order_id, session=requests):
    return session.post(f"{base_url}/order-ms/{customer.user_id}/orders/{order_id}/cancel", headers=customer.headers,
                        timeout=30)


def rows(db, sql, params) -> list[tuple]:
    db.commit()  # a fresh snapshot: what the services committed since
    cursor = db.cursor()
    cursor.execute(sql, params)
    return cursor.fetchall()


def count(db, table, order_id) -> int:
    return rows(db, f"SELECT COUNT(*) FROM {table} WHERE order_id = ?", (order_id,))[0][0]


def outbox_events(db, order_id) -> list[tuple[int, str, dict, str | None]]:
    """(id, event_type, value, sent_at) of every outbox row keyed by the order, oldest first."""
    found = rows(db, "SELECT id, headers, payload, sent_at FROM order_outbox WHERE message_key = ? ORDER BY id",
                 (order_id,))
    return [(row_id, dict(json.loads(headers))["event_type"], json.loads(payload), sent_at)
            for row_id, headers, payload, sent_at in found]


def test_a_cancel_is_recorded_pending_and_published_after_the_orders_creation(base_url, customer, order_db,
                                                                              kafka_servers):
    order = place_order(base_url, customer)
    response = cancel(base_url, customer, order["order_id"])
    assert response.status_code == 202, response.text
    body = response.json()
    assert response.headers["Location"] == f"/order-ms/{customer.user_id}/orders/{order['order_id']}"
    placed = {name: order[name] for name in order_created.FIELDS}  # the order's own fields (its delivery moves on)
    assert {name: body[name] for name in placed} == placed
    assert body["cancel"]["outcome"] == "PENDING" and body["watch"] == f"/order-ms/{customer.user_id}/orders/events"

    # The stack's pipeline runs on meanwhile: the delivery may exist and delivery-ms may have answered the cancel
    # by now, each a change of its own. What the cancel itself wrote is its request and the first CANCEL change.
    assert rows(order_db, "SELECT COUNT(*) FROM order_cancel_requests WHERE order_id = ?",
                (order["order_id"],)) == [(1,)]
    assert rows(order_db, "SELECT user_id, kind, cancel_outcome, reason FROM order_status_changes"
                          " WHERE order_id = ? AND kind = 'CANCEL' ORDER BY id LIMIT 1",
                (order["order_id"],)) == [(customer.user_id, "CANCEL", "PENDING", None)]
    events = outbox_events(order_db, order["order_id"])
    assert [event_type for _, event_type, _, _ in events] == ["OrderCreated", "OrderCancelRequested"]
    assert events[1][2] == {**placed, "requested_at": body["cancel"]["requested_at"]}

    # On the broker: both on one partition (the same key), the creation first.
    reader = TopicReader(kafka_servers, "new_orders")
    try:
        records = reader.wait_for(lambda record: record.key == order["order_id"].encode(),
                                  "the order's two events", count=2, timeout=60)
    finally:
        reader.close()
    assert len({record.partition for record in records}) == 1
    ordered = sorted(records, key=lambda record: record.offset)
    assert [dict(record.headers)["event_type"] for record in ordered] == [b"OrderCreated", b"OrderCancelRequested"]


def test_a_second_cancel_is_409_and_publishes_nothing_more(base_url, customer, order_db):
    order = place_order(base_url, customer)
    first = cancel(base_url, customer, order["order_id"])
    assert first.status_code == 202
    second = cancel(base_url, customer, order["order_id"])
    assert second.status_code == 409 and second.headers["Content-Type"] == "application/problem+json"
    problem = second.json()
    assert problem["type"] == "/problems/cancel-already-requested" and problem["cancel"] == first.json()["cancel"]
    assert f"/order-ms/{customer.user_id}/orders/events" in problem["hint"]
    assert [t for _, t, _, _ in outbox_events(order_db, order["order_id"])] == ["OrderCreated", "OrderCancelRequested"]


def test_a_cancel_after_the_delivery_moved_on_is_409_naming_its_status(base_url, customer, order_db, staff_headers):
    order = place_order(base_url, customer)
    delivery = known_delivery(base_url, customer, order["order_id"], "CONFIRMED")
    moved = requests.put(f"{base_url}/delivery-ms/deliveries/{delivery['delivery_id']}/status",
                         json={"status": "IN_DELIVERY"}, headers=staff_headers, timeout=10)
    assert moved.status_code == 200, moved.text
    known_delivery(base_url, customer, order["order_id"], "IN_DELIVERY")
    response = cancel(base_url, customer, order["order_id"])
    assert response.status_code == 409, response.text
    problem = response.json()
    assert problem["type"] == "/problems/cancel-not-allowed" and problem["delivery_status"] == "IN_DELIVERY"
    assert "IN_DELIVERY" in problem["hint"]
    assert count(order_db, "order_cancel_requests", order["order_id"]) == 0
    assert [t for _, t, _, _ in outbox_events(order_db, order["order_id"])] == ["OrderCreated"]


def test_a_cancel_while_confirmed_is_accepted_and_shows_the_delivery(base_url, customer, order_db):
    order = place_order(base_url, customer)
    delivery = known_delivery(base_url, customer, order["order_id"], "CONFIRMED")
    response = cancel(base_url, customer, order["order_id"])
    assert response.status_code == 202, response.text
    assert response.json()["delivery"]["delivery_id"] == delivery["delivery_id"]
    assert response.json()["delivery"]["status"] == "CONFIRMED"
    assert rows(order_db, "SELECT delivery_id, status FROM order_status_changes WHERE order_id = ? AND kind = 'CANCEL'",
                (order["order_id"],)) == [(delivery["delivery_id"], "CONFIRMED")]


def known_delivery(base_url, customer, order_id, status) -> dict:
    """The order's delivery once order-ms's read model shows it in `status` (GET of the order)."""
    def shown():
        response = requests.get(f"{base_url}/order-ms/{customer.user_id}/orders/{order_id}", headers=customer.headers,
                                timeout=10)
        assert response.status_code == 200, response.text
        delivery = response.json()["delivery"]
        return delivery if delivery and delivery["status"] == status else None
    return wait_for(shown, f"order-ms showing the delivery of {order_id} {status}", timeout=60)


def test_an_unknown_order_is_404_with_a_hint(base_url, customer):
    response = cancel(base_url, customer, str(uuid.uuid4()))
    assert response.status_code == 404 and "GET /order-ms/" in response.json()["hint"]


def test_parallel_cancels_of_one_order_get_exactly_one_202(base_url, customer, order_db):
    order = place_order(base_url, customer)
    start = threading.Barrier(CLIENTS)
    answers = [None] * CLIENTS

    def post(slot):
        with requests.Session() as session:
            start.wait()
            answers[slot] = cancel(base_url, customer, order["order_id"], session)

    threads = [threading.Thread(target=post, args=(slot,)) for slot in range(CLIENTS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    statuses = sorted(answer.status_code for answer in answers)
    assert statuses == [202] + [409] * (CLIENTS - 1), [a.text for a in answers if a.status_code not in (202, 409)]
    assert {answer.json()["type"] for answer in answers if answer.status_code == 409} == {
        "/problems/cancel-already-requested"}
    assert count(order_db, "order_cancel_requests", order["order_id"]) == 1
    # One CANCEL change (the PENDING request); the status consumer may have added the delivery's creation by now.
    assert rows(order_db, "SELECT COUNT(*) FROM order_status_changes WHERE order_id = ? AND kind = 'CANCEL'",
                (order["order_id"],))[0][0] == 1
    assert [t for _, t, _, _ in outbox_events(order_db, order["order_id"])] == ["OrderCreated", "OrderCancelRequested"]
    wait_for(lambda: all(sent for *_, sent in outbox_events(order_db, order["order_id"])),
             "the relay publishing the order's two events", timeout=60)
