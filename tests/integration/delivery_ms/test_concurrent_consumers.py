"""Two consumers of delivery-ms's group writing at once (replicas of the consumer, or a rebalance's old and new owner
of a partition) on the real database: neither waits for nor deadlocks with the other over orders the other does
not have. Their batches' order ids interleave, so every gap one batch's locking read passes over is where the other
inserts: with locks on those gaps (REPEATABLE READ's next-key locks) each insert waits for the other's lock and
MariaDB kills one transaction as a deadlock, every time."""
import threading
import uuid

import pytest

from services.contracts import order_created
from services.contracts.envelope import TypedEvent
from services.delivery_ms import store
from services.platform.consumer import consumer_pool
from services.platform.timefmt import iso_utc, utc_now

BATCH = 50


def new_order_events(order_ids):
    return [TypedEvent(order_created.EVENT_TYPE, {
        "user_id": "concurrent-consumers", "order_id": order_id, "coffee_name": "jslee", "coffee_price": 2000,
        "coffee_qty": 1, "ordered_at": iso_utc(utc_now())}) for order_id in order_ids]


@pytest.fixture
def two_consumer_pools(delivery_settings):
    pools = [consumer_pool(delivery_settings), consumer_pool(delivery_settings)]
    yield pools
    for pool in pools:
        pool.close()


def test_two_consumers_writing_interleaved_batches_at_once_neither_deadlocks_nor_loses_an_order(
        two_consumer_pools, delivery_db, monkeypatch):
    order_ids = sorted(str(uuid.uuid4()) for _ in range(2 * BATCH))
    batches = [new_order_events(order_ids[0::2]), new_order_events(order_ids[1::2])]
    both_locked = threading.Barrier(2, timeout=30)
    lock_deliveries = store._lock_deliveries

    def lock_then_wait_for_the_other(cursor, wanted):
        found = lock_deliveries(cursor, wanted)
        both_locked.wait()  # both batches hold their locks before either inserts
        return found

    monkeypatch.setattr(store, "_lock_deliveries", lock_then_wait_for_the_other)
    outcome = {}

    def consume(number):
        try:
            outcome[number] = store.apply_order_events(two_consumer_pools[number], batches[number])
        except Exception as exc:  # noqa: BLE001 - the test reports what a consumer met
            outcome[number] = exc

    threads = [threading.Thread(target=consume, args=(number,)) for number in (0, 1)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert outcome == {0: BATCH, 1: BATCH}, outcome
    cursor = delivery_db.cursor()
    cursor.execute(f"SELECT COUNT(*) FROM delivery_status WHERE order_id IN ({', '.join('?' * len(order_ids))})",
                   tuple(order_ids))
    assert cursor.fetchone()[0] == 2 * BATCH
