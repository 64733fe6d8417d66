"""order-ms's status consumer in the running stack: `delivery_status` events published as delivery-ms publishes them
(both types, replayed and out of order) show in the order views; poison and an event for an unknown order go to
`delivery_status.dlq` with the reason, and the events after them are still applied."""
from __future__ import annotations

import uuid

import requests
from prometheus_client.parser import text_string_to_metric_families

from services.contracts import delivery_status_changed, order_cancel_refused
from services.platform.timefmt import iso_utc, utc_now
from tests.support.polling import wait_for
from tests.support.topics import OrderProducer, TopicReader

GROUP = "order-ms-status"


def insert_order(order_db, user_id: str) -> str:
    """An order of `user_id` straight in order-ms's database, without its outbox row: delivery-ms never hears of it,
    so the only delivery events it gets are the test's own."""
    order_id = str(uuid.uuid4())
    cursor = order_db.cursor()
    cursor.execute("INSERT INTO orders (order_id, user_id, coffee_name, coffee_price, coffee_qty, ordered_at)"
                   " VALUES (?, ?, 'jslee', 2000, 1, ?)", (order_id, user_id, utc_now()))
    order_db.commit()
    return order_id


def change(order_id: str, delivery_id: str, version: int, status: str) -> dict:
    return {"delivery_id": delivery_id, "order_id": order_id, "status": status, "previous_status": None,
            "updated_at": iso_utc(utc_now()), "version": version}


def order_view(base_url, customer, order_id: str) -> dict:
    response = requests.get(f"{base_url}/order-ms/{customer.user_id}/orders/{order_id}", headers=customer.headers,
                            timeout=10)
    assert response.status_code == 200, response.text
    return response.json()


def dead_lettered(stack) -> float:
    text = requests.get(stack.metrics["order-status-consumer"], timeout=5).text
    return next(sample.value for family in text_string_to_metric_families(text) for sample in family.samples
                if sample.name == "consumer_messages_total" and sample.labels.get("group") == GROUP
                and sample.labels.get("result") == "dead_lettered")


def test_changes_in_any_order_and_replayed_show_the_highest_version_logged_once(
        base_url, customer, order_db, kafka_servers):
    order_id, delivery_id = insert_order(order_db, customer.user_id), str(uuid.uuid4())
    producer = OrderProducer(kafka_servers)
    try:
        for version, status in ((1, "CONFIRMED"), (3, "COMPLETED"), (2, "IN_DELIVERY"), (1, "CONFIRMED"),
                                (3, "COMPLETED")):
            producer.send_message(delivery_status_changed.build(change(order_id, delivery_id, version, status)))
    finally:
        producer.close()
    shown = wait_for(lambda: (view := order_view(base_url, customer, order_id))["delivery"]
                     and view["delivery"]["status"] == "COMPLETED" and view, "the order to show COMPLETED")
    assert shown["delivery"]["delivery_id"] == delivery_id and shown["cancel"] is None
    cursor = order_db.cursor()
    cursor.execute("SELECT status FROM order_status_changes WHERE order_id = ? ORDER BY id", (order_id,))
    assert [row[0] for row in cursor.fetchall()] == ["CONFIRMED", "COMPLETED"], "never backwards, never twice"


def test_a_refusal_decides_the_customer_s_pending_request(base_url, customer, order_db, kafka_servers):
    order_id, delivery_id = insert_order(order_db, customer.user_id), str(uuid.uuid4())
    cursor = order_db.cursor()
    cursor.execute("INSERT INTO order_cancel_requests (order_id, requested_at) VALUES (?, ?)", (order_id, utc_now()))
    order_db.commit()
    reason = "The delivery is already IN_DELIVERY; only a CONFIRMED delivery can be canceled."
    producer = OrderProducer(kafka_servers)
    try:
        producer.send_message(delivery_status_changed.build(change(order_id, delivery_id, 2, "IN_DELIVERY")))
        refusal = {"delivery_id": delivery_id, "order_id": order_id, "status": "IN_DELIVERY", "version": 2,
                   "reason": reason, "refused_at": iso_utc(utc_now())}
        producer.send_message(order_cancel_refused.build(refusal))
    finally:
        producer.close()
    shown = wait_for(lambda: (view := order_view(base_url, customer, order_id))["cancel"]
                     and view["cancel"]["outcome"] == "REFUSED" and view, "the refusal in the order view")
    assert shown["cancel"]["reason"] == reason and shown["cancel"]["decided_at"] == refusal["refused_at"]
    assert shown["delivery"]["status"] == "IN_DELIVERY"


def test_poison_and_unknown_orders_are_dead_lettered_with_the_reason_and_the_rest_applied(
        stack, base_url, customer, order_db, kafka_servers):
    order_id, delivery_id = insert_order(order_db, customer.user_id), str(uuid.uuid4())
    stranger = str(uuid.uuid4())
    dead_before = dead_lettered(stack)
    reader = TopicReader(kafka_servers, delivery_status_changed.DEAD_LETTER_TOPIC)
    producer = OrderProducer(kafka_servers)
    try:
        poison_key = f"poison-{uuid.uuid4()}".encode()
        # All on the partition of the good event, so it can only be applied once they are behind it.
        good = delivery_status_changed.build(change(order_id, delivery_id, 1, "CONFIRMED"))
        partition = producer.send_message(good).partition
        producer.send_raw(poison_key, b"{not json", [("event_type", b"DeliveryStatusChanged")], partition,
                          topic=delivery_status_changed.TOPIC)
        producer.send_message(delivery_status_changed.build(change(stranger, str(uuid.uuid4()), 1, "CONFIRMED")),
                              partition)
        producer.send_message(delivery_status_changed.build(change(order_id, delivery_id, 2, "IN_DELIVERY")),
                              partition)
        wait_for(lambda: (order_view(base_url, customer, order_id)["delivery"] or {}).get("status") == "IN_DELIVERY",
                 "the event after the poison to be applied")
        letters = {record.key: dict(record.headers)["error"].decode() for record in reader.wait_for(
            lambda record: record.key in {poison_key, stranger.encode()}, "both dead letters", count=2)}
    finally:
        producer.close()
        reader.close()
    assert "not JSON" in letters[poison_key]
    assert letters[stranger.encode()] == f"unknown order: order-ms has no order {stranger}"
    assert dead_lettered(stack) >= dead_before + 2
