"""What the relays and the consumer really publish conforms to the AsyncAPI document: records read from the
stack's broker after orders, status moves and a poison record went through the real services."""
import json
import uuid

import pytest
import requests

from services.contracts import delivery_status_changed, order_cancel_requested, order_created
from tests.support.asyncapi import load_document, record_errors
from tests.support.polling import wait_for
from tests.support.topics import OrderProducer, TopicReader, new_order

ORDER = {"coffee_name": "contract latte", "coffee_price": 3100, "coffee_qty": 2}


@pytest.fixture(scope="module")
def document():
    return load_document()


@pytest.fixture
def reader(kafka_servers):
    readers = []

    def open_reader(topic):
        readers.append(TopicReader(kafka_servers, topic))
        return readers[-1]

    yield open_reader
    for topic_reader in readers:
        topic_reader.close()


def place_order(base_url, customer) -> dict:
    user_id, headers = customer.user_id, customer.headers
    response = requests.post(f"{base_url}/order-ms/{user_id}/orders", json=ORDER, headers=headers, timeout=10)
    assert response.status_code == 201, response.text
    return response.json()


def assert_conforms(document, record):
    assert record_errors(document, record.topic, record.key, record.value, record.headers) == []


def test_the_order_relay_publishes_order_created_as_documented(base_url, customer, reader, document):
    order = place_order(base_url, customer)
    new_orders = reader(order_created.TOPIC)
    (record,) = new_orders.wait_for(lambda r: r.key == order["order_id"].encode(), "the order's OrderCreated")
    assert_conforms(document, record)


def test_the_delivery_relay_publishes_status_changes_as_documented(base_url, customer, staff_headers, reader,
                                                                     document):
    order = place_order(base_url, customer)

    def delivery():
        response = requests.get(f"{base_url}/delivery-ms/deliveries", params={"limit": 500}, headers=staff_headers,
                                timeout=10)
        return next((d for d in response.json() if d["order_id"] == order["order_id"]), None)

    delivery_id = wait_for(delivery, "the order's delivery")["delivery_id"]
    moved = requests.put(f"{base_url}/delivery-ms/deliveries/{delivery_id}/status", json={"status": "IN_DELIVERY"},
                         headers=staff_headers, timeout=10)
    assert moved.status_code == 200, moved.text
    changes = reader(delivery_status_changed.TOPIC)
    created, moved_event = changes.wait_for(lambda r: r.key == order["order_id"].encode(),
                                            "the creation's and the move's DeliveryStatusChanged events", count=2)
    assert json.loads(created.value)["previous_status"] is None, "the creation's event has a null previous_status"
    for record in (created, moved_event):
        assert_conforms(document, record)


def test_creations_cancels_and_refusals_are_published_as_documented(kafka_servers, base_url, staff_headers, reader,
                                                                     document):
    """A canceled order and a refused cancel: the records on both topics, each checked against the message its
    event_type header names (OrderCancelRequested is produced here with the contract, as order-ms's relay does)."""
    canceled, refused = new_order(), new_order()
    producer = OrderProducer(kafka_servers)
    try:
        producer.send_orders([canceled, refused])
        changes = reader(delivery_status_changed.TOPIC)
        (created,) = changes.wait_for(lambda r: r.key == refused["order_id"].encode(), "the creation event")
        delivery_id = json.loads(created.value)["delivery_id"]
        moved = requests.put(f"{base_url}/delivery-ms/deliveries/{delivery_id}/status",
                             json={"status": "COMPLETED"}, headers=staff_headers, timeout=10)
        assert moved.status_code == 200, moved.text
        for order in (canceled, refused):
            producer.send_message(order_cancel_requested.build(order, "2026-11-28T15:06:00.000000Z"))
    finally:
        producer.close()
    published = [*changes.wait_for(lambda r: r.key == canceled["order_id"].encode(), "the cancel", count=2),
                 *changes.wait_for(lambda r: r.key == refused["order_id"].encode(), "the refusal", count=3)]
    assert sorted(dict(r.headers)["event_type"] for r in published) == [
        b"DeliveryStatusChanged"] * 4 + [b"OrderCancelRefused"]
    requests_read = reader(order_created.TOPIC).wait_for(
        lambda r: r.key in (canceled["order_id"].encode(), refused["order_id"].encode()), "both orders' records",
        count=4)
    for record in [*published, *requests_read]:
        assert_conforms(document, record)


def test_the_consumer_dead_letters_as_documented(kafka_servers, reader, document):
    key = f"contract-poison-{uuid.uuid4()}".encode()
    headers = [("event_id", str(uuid.uuid4()).encode()), ("event_type", b"OrderCreated"), ("schema_version", b"1")]
    producer = OrderProducer(kafka_servers)
    try:
        producer.send_raw(key, b'{"order_id": "not an order"}', headers)
    finally:
        producer.close()
    dead_letters = reader(order_created.DEAD_LETTER_TOPIC)
    (record,) = dead_letters.wait_for(lambda r: r.key == key, "the poison record on the DLQ")
    assert_conforms(document, record)
    assert record.value == b'{"order_id": "not an order"}'
