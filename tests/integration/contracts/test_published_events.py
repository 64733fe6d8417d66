"""What the relays and the consumer really publish conforms to the AsyncAPI document: records read from the
stack's broker after orders, status moves and a poison record went through the real services."""
import uuid

import pytest
import requests

from services.contracts import delivery_status_changed, order_created
from tests.support.asyncapi import load_document, record_errors
from tests.support.polling import wait_for
from tests.support.topics import OrderProducer, TopicReader

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
    (record,) = changes.wait_for(lambda r: r.key == order["order_id"].encode(), "the DeliveryStatusChanged event")
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
