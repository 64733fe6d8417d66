"""order-ms events: the outbox relay publishes every order to new_orders, also after a broker outage."""
import json
import os
import signal
import uuid

import requests

from tests.support.gunicorn import gunicorn
from tests.support.polling import wait_for
from tests.support.stack import current_pid
from tests.support.topics import TopicReader

ORDER = {"coffee_name": "flat white", "coffee_price": 4500, "coffee_qty": 2}


def find_event(kafka_servers: str, order_id: str, timeout: float = 60):
    """The new_orders record keyed by `order_id`, read from the start of every partition."""
    reader = TopicReader(kafka_servers, "new_orders")
    try:
        return reader.wait_for(lambda record: record.key == order_id.encode(), f"the event of {order_id}",
                               timeout=timeout)[0]
    finally:
        reader.close()


def test_order_event_carries_the_order_and_its_headers(base_url, customer, kafka_servers):
    user_id, headers = customer.user_id, customer.headers
    order = requests.post(f"{base_url}/order-ms/{user_id}/orders", json=ORDER, headers=headers, timeout=10).json()
    record = find_event(kafka_servers, order["order_id"])
    # The event is the order as placed: the view's delivery and cancel are order-ms's read model, not the contract.
    assert list(order)[-2:] == ["delivery", "cancel"]
    assert json.loads(record.value) == {name: order[name] for name in list(order)[:-2]}
    record_headers = {k: v.decode() for k, v in record.headers}
    assert record_headers["event_type"] == "OrderCreated"
    assert record_headers["schema_version"] == "1"
    assert uuid.UUID(record_headers["event_id"])


def test_orders_are_accepted_while_the_broker_is_frozen_and_published_after(
    base_url, customer, kafka_servers, stack, order_db
):
    user_id, headers = customer.user_id, customer.headers
    broker_pid = current_pid("broker")
    os.kill(broker_pid, signal.SIGSTOP)
    try:
        response = requests.post(f"{base_url}/order-ms/{user_id}/orders", json=ORDER, headers=headers, timeout=10)
        assert response.status_code == 201, response.text
        order_id = response.json()["order_id"]
        cursor = order_db.cursor()
        cursor.execute("SELECT sent_at FROM order_outbox WHERE message_key = ?", (order_id,))
        assert cursor.fetchone() == (None,)  # nothing can acknowledge it while the broker is frozen
    finally:
        os.kill(broker_pid, signal.SIGCONT)
    record = find_event(kafka_servers, order_id, timeout=90)
    assert json.loads(record.value)["order_id"] == order_id

    def marked_sent():
        cursor.execute("SELECT sent_at FROM order_outbox WHERE message_key = ?", (order_id,))
        return cursor.fetchone()[0] is not None

    wait_for(marked_sent, "the relay to mark the outbox row sent", timeout=30)


def test_database_down_answers_503_with_retry_after(stack, customer, tmp_path):
    user_id, headers = customer.user_id, customer.headers
    env = {**stack.http_env_of("order_ms"), "DB_PORT": "1", "DB_CONNECT_TIMEOUT": "1"}  # nothing listens on port 1
    with gunicorn("services.order_ms:create_app()", env, tmp_path) as url:
        ready = requests.get(f"{url}/readyz", timeout=10)
        assert ready.status_code == 503 and ready.headers["Retry-After"] == "5"
        response = requests.post(f"{url}/order-ms/{user_id}/orders", json=ORDER, headers=headers, timeout=10)
        assert response.status_code == 503
        assert response.headers["Content-Type"].startswith("application/problem+json")
        assert response.headers["Retry-After"] == "5"
        assert "Retry" in response.json()["hint"]
        assert requests.get(f"{url}/healthz", timeout=10).status_code == 200  # alive, just not ready
