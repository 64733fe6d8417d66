"""Races on order-ms: many clients retrying one order at once with the same Idempotency-Key get one order."""
import threading
import uuid

import requests

ORDER = {"coffee_name": "jslee", "coffee_price": 2000, "coffee_qty": 2}
CLIENTS = 16


def test_parallel_posts_with_one_idempotency_key_make_one_order(base_url, customer, order_db):
    user_id, headers = customer.user_id, customer.headers
    key = str(uuid.uuid4())
    start = threading.Barrier(CLIENTS)
    answers = [None] * CLIENTS

    def post(slot):
        with requests.Session() as session:
            start.wait()
            answers[slot] = session.post(f"{base_url}/order-ms/{user_id}/orders", json=ORDER, timeout=30,
                                         headers={**headers, "Idempotency-Key": key})

    threads = [threading.Thread(target=post, args=(slot,)) for slot in range(CLIENTS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert [answer.status_code for answer in answers] == [201] * CLIENTS, [
        a.text for a in answers if a.status_code != 201
    ]
    assert len({answer.json()["order_id"] for answer in answers}) == 1
    assert sum(answer.headers.get("Idempotent-Replayed") == "true" for answer in answers) == CLIENTS - 1
    cursor = order_db.cursor()
    cursor.execute("SELECT COUNT(*) FROM orders WHERE user_id = ? AND idempotency_key = ?", (user_id, key))
    assert cursor.fetchone()[0] == 1
    cursor.execute("SELECT COUNT(*) FROM order_outbox WHERE message_key = ?", (answers[0].json()["order_id"],))
    assert cursor.fetchone()[0] == 1, "one order, one event"
