"""order-ms events: the outbox relay publishes every order to new_orders, also after a broker outage."""
import json
import os
import signal
import time
import uuid

import requests
from kafka import KafkaConsumer, TopicPartition

from tests.support.gunicorn import gunicorn

ORDER = {"coffee_name": "flat white", "coffee_price": 4500, "coffee_qty": 2}


def find_event(kafka_servers: str, order_id: str, timeout: float = 60):
    """The new_orders record keyed by `order_id`, read from the start of every partition."""
    consumer = KafkaConsumer(bootstrap_servers=kafka_servers, enable_auto_commit=False, group_id=None,
                             consumer_timeout_ms=1000)
    try:
        partitions = [TopicPartition("new_orders", p) for p in consumer.partitions_for_topic("new_orders")]
        consumer.assign(partitions)
        consumer.seek_to_beginning(*partitions)
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            for records in consumer.poll(timeout_ms=500).values():
                for record in records:
                    if record.key == order_id.encode():
                        return record
        raise AssertionError(f"no new_orders event for {order_id} within {timeout}s")
    finally:
        consumer.close()


def test_order_event_carries_the_order_and_its_headers(base_url, customer, kafka_servers):
    user_id, headers = customer
    order = requests.post(f"{base_url}/order-ms/{user_id}/orders", json=ORDER, headers=headers, timeout=10).json()
    record = find_event(kafka_servers, order["order_id"])
    assert json.loads(record.value) == order
    record_headers = {k: v.decode() for k, v in record.headers}
    assert record_headers["event_type"] == "OrderCreated"
    assert record_headers["schema_version"] == "1"
    assert uuid.UUID(record_headers["event_id"])


def test_orders_are_accepted_while_the_broker_is_frozen_and_published_after(base_url, customer, kafka_servers, stack, db):
    user_id, headers = customer
    broker_pid = stack["pids"]["broker"]
    os.kill(broker_pid, signal.SIGSTOP)
    try:
        response = requests.post(f"{base_url}/order-ms/{user_id}/orders", json=ORDER, headers=headers, timeout=10)
        assert response.status_code == 201, response.text
        order_id = response.json()["order_id"]
        cursor = db.cursor()
        cursor.execute("SELECT sent_at FROM order_outbox WHERE message_key = ?", (order_id,))
        assert cursor.fetchone() == (None,)  # nothing can acknowledge it while the broker is frozen
    finally:
        os.kill(broker_pid, signal.SIGCONT)
    record = find_event(kafka_servers, order_id, timeout=90)
    assert json.loads(record.value)["order_id"] == order_id
    deadline = time.monotonic() + 30
    while True:
        cursor.execute("SELECT sent_at FROM order_outbox WHERE message_key = ?", (order_id,))
        if cursor.fetchone()[0] is not None:
            break
        assert time.monotonic() < deadline, "the relay never marked the row sent"
        time.sleep(0.2)


def test_database_down_answers_503_with_retry_after(stack, customer, tmp_path):
    user_id, headers = customer
    env = {**stack["env"], "DB_PORT": "1", "DB_CONNECT_TIMEOUT": "1"}  # nothing listens on port 1
    with gunicorn("services.order_ms:create_app()", env, tmp_path) as url:
        ready = requests.get(f"{url}/readyz", timeout=10)
        assert ready.status_code == 503 and ready.headers["Retry-After"] == "5"
        response = requests.post(f"{url}/order-ms/{user_id}/orders", json=ORDER, headers=headers, timeout=10)
        assert response.status_code == 503
        assert response.headers["Content-Type"].startswith("application/problem+json")
        assert response.headers["Retry-After"] == "5"
        assert "Retry" in response.json()["hint"]
        assert requests.get(f"{url}/healthz", timeout=10).status_code == 200  # alive, just not ready
