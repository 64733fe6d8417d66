"""The reconciler on real MariaDB (a throwaway order database, so the stack's own reconciler never sees these
orders): an order with no delivery event past its due time is published again exactly once per period, until its
first delivery event arrives; orders not yet due, outside the window or with a delivery are left alone; nothing is
added while the outbox is behind; two reconcilers at once (two relay replicas) publish an order once.

The orders are written with an ordered_at in the past, so the product's defaults (due after 60 s, checked every
15 s, a 24 h window) apply as they are; a period passing is the order's republished_at moved back."""
import json
import os
import signal
import subprocess
import sys
import threading
import uuid
from datetime import timedelta

import pytest
import requests
from prometheus_client import REGISTRY

from services.order_ms import reconciler
from services.order_ms.settings import load_settings
from services.platform.db import ConnectionPool
from services.platform.timefmt import iso_utc, utc_now
from tests.support.databases import ThrowawayDatabase
from tests.support.polling import wait_for
from tests.support.processes import free_port
from tests.support.prometheus import sample_sum
from tests.support.stack import ROOT
from tests.support.topics import TopicReader


@pytest.fixture(scope="module")
def database(stack):
    created = ThrowawayDatabase(stack, "order_ms").create()
    yield created
    created.drop()


@pytest.fixture
def settings(database, monkeypatch):
    for name, value in database.app_env().items():
        monkeypatch.setenv(name, value)
    for name in ("ORDER_OVERDUE_SECONDS", "ORDER_OVERDUE_CHECK_SECONDS", "ORDER_RECONCILE_WINDOW_SECONDS"):
        monkeypatch.delenv(name, raising=False)
    loaded = load_settings()
    assert (loaded.order_overdue_seconds, loaded.order_reconcile_window_seconds) == (60, 86400), "the defaults"
    return loaded


@pytest.fixture
def db(database):
    conn = database.connect()
    cursor = conn.cursor()
    # Each test starts from an empty order database.
    for table in ("order_outbox", "order_deliveries", "orders"):
        cursor.execute(f"DELETE FROM {table}")
    conn.commit()
    yield conn
    conn.close()


@pytest.fixture
def pool(settings):
    created = ConnectionPool(settings, size=1)
    yield created
    created.close()


def add_order(db, seconds_ago: float) -> dict:
    """An order placed `seconds_ago`, as order-ms stores it; its view as the OrderCreated event carries it."""
    ordered_at = utc_now() - timedelta(seconds=seconds_ago)
    order = {"user_id": "recon-user", "order_id": str(uuid.uuid4()), "coffee_name": "jslee", "coffee_price": 2000,
             "coffee_qty": 1, "ordered_at": iso_utc(ordered_at)}
    db.cursor().execute("INSERT INTO orders (order_id, user_id, coffee_name, coffee_price, coffee_qty, ordered_at)"
                        " VALUES (?, ?, ?, ?, ?, ?)", (order["order_id"], order["user_id"], order["coffee_name"],
                                                       order["coffee_price"], order["coffee_qty"], ordered_at))
    db.commit()
    return order


def add_delivery_event(db, order: dict) -> None:
    """The read model's row, as order-ms's status consumer writes it from the order's first delivery event."""
    db.cursor().execute("INSERT INTO order_deliveries (order_id, delivery_id, status, version, updated_at)"
                        " VALUES (?, ?, 'CONFIRMED', 1, UTC_TIMESTAMP(6))", (order["order_id"], str(uuid.uuid4())))
    db.commit()


def republished(db) -> list[tuple[str, dict, str]]:
    """(key, value, event_type) of every event in the outbox, oldest first."""
    db.commit()
    cursor = db.cursor()
    cursor.execute("SELECT message_key, payload, headers FROM order_outbox ORDER BY id")
    return [(bytes(key).decode(), json.loads(payload), dict(json.loads(headers))["event_type"])
            for key, payload, headers in cursor.fetchall()]


def a_period_passes(db, order: dict, seconds: int = 61) -> None:
    db.cursor().execute("UPDATE orders SET republished_at = republished_at - INTERVAL ? SECOND WHERE order_id = ?",
                        (seconds, order["order_id"]))
    db.commit()


def test_an_overdue_order_is_published_again_once_per_period_until_its_delivery_event(db, pool, settings):
    overdue = add_order(db, seconds_ago=120)
    delivered = add_order(db, seconds_ago=120)
    add_delivery_event(db, delivered)
    add_order(db, seconds_ago=10)  # not due yet
    add_order(db, seconds_ago=86400 + 120)  # before the window: left alone

    assert reconciler.reconcile_overdue_orders(pool, settings) == (1, 1)
    assert republished(db) == [(overdue["order_id"], overdue, "OrderCreated")]
    assert reconciler.reconcile_overdue_orders(pool, settings) == (1, 0), "not again within the period"
    a_period_passes(db, overdue, seconds=55)
    assert reconciler.reconcile_overdue_orders(pool, settings) == (1, 0), "not again within the period"
    a_period_passes(db, overdue, seconds=6)
    assert reconciler.reconcile_overdue_orders(pool, settings) == (1, 1), "once more after a full period"
    assert republished(db) == [(overdue["order_id"], overdue, "OrderCreated")] * 2

    add_delivery_event(db, overdue)
    a_period_passes(db, overdue)
    assert reconciler.reconcile_overdue_orders(pool, settings) == (0, 0)
    assert len(republished(db)) == 2


def test_nothing_is_added_while_the_outbox_is_behind(db, pool, settings):
    overdue = add_order(db, seconds_ago=120)
    cursor = db.cursor()
    cursor.execute("INSERT INTO order_outbox (event_id, topic, message_key, payload, headers, created_at)"
                   " VALUES (?, 'new_orders', ?, '{}', '[]', NOW(6) - INTERVAL 120 SECOND)",
                   (str(uuid.uuid4()), overdue["order_id"]))
    db.commit()
    assert reconciler.reconcile_overdue_orders(pool, settings) == (1, 0), "its event may still be waiting there"
    cursor.execute("UPDATE order_outbox SET sent_at = NOW(6)")
    db.commit()
    assert reconciler.reconcile_overdue_orders(pool, settings) == (1, 1)


def test_two_reconcilers_at_once_publish_each_order_once(db, settings):
    orders = [add_order(db, seconds_ago=120) for _ in range(40)]
    pools = [ConnectionPool(settings, size=1) for _ in range(2)]
    start = threading.Barrier(len(pools))
    results = [None] * len(pools)

    def check(slot):
        start.wait()
        results[slot] = reconciler.reconcile_overdue_orders(pools[slot], settings)

    threads = [threading.Thread(target=check, args=(slot,)) for slot in range(len(pools))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    for created in pools:
        created.close()
    assert sum(count for _, count in results) == len(orders)
    assert sorted(key for key, _, _ in republished(db)) == sorted(order["order_id"] for order in orders)


def test_the_worker_exports_what_it_found(db, settings):
    add_order(db, seconds_ago=120)
    worker = reconciler.OverdueOrderReconciler(settings)
    before = REGISTRY.get_sample_value("orders_republished_total")
    try:
        assert worker.reconcile() == (1, 1)
    finally:
        worker.close()
    assert REGISTRY.get_sample_value("orders_overdue") == 1
    assert REGISTRY.get_sample_value("orders_republished_total") == before + 1


def test_the_order_relay_process_runs_the_reconciler_and_publishes_what_it_adds(stack, database, db, tmp_path):
    """The relay process of the product (`python -m services.order_ms.relay`, defaults as they are) on the throwaway
    database and the stack's broker: the overdue order's event reaches new_orders, the metrics say so, and SIGTERM
    stops both workers cleanly."""
    order = add_order(db, seconds_ago=120)
    env = {**os.environ, **database.app_env(), **stack.kafka_tools_env, "METRICS_PORT": str(free_port()),
           "RELAY_WAKEUP_ADDRESS": ""}
    for name in ("ORDER_OVERDUE_SECONDS", "ORDER_OVERDUE_CHECK_SECONDS", "ORDER_RECONCILE_WINDOW_SECONDS"):
        env.pop(name, None)
    reader = TopicReader(stack.kafka_servers, "new_orders")
    with open(tmp_path / "relay.log", "wb") as log_file:
        relay = subprocess.Popen([sys.executable, "-m", "services.order_ms.relay"], cwd=ROOT, env=env,
                                 stdout=log_file, stderr=subprocess.STDOUT)
    try:
        record = reader.wait_for(lambda r: r.key == order["order_id"].encode(), "the re-published order",
                                 timeout=60)[0]
        assert json.loads(record.value) == order and dict(record.headers)["event_type"] == b"OrderCreated"

        def metric(name):
            assert relay.poll() is None, (tmp_path / "relay.log").read_text()
            return sample_sum(requests_text(f"http://127.0.0.1:{env['METRICS_PORT']}/metrics"), name)

        wait_for(lambda: metric("orders_republished_total") == 1, "the counter of re-published orders", timeout=30)
        assert metric("orders_overdue") == 1
        relay.send_signal(signal.SIGTERM)
        assert relay.wait(timeout=30) == 0, (tmp_path / "relay.log").read_text()
    finally:
        reader.close()
        if relay.poll() is None:
            relay.kill()
            relay.wait()


def requests_text(url: str) -> str:
    try:
        return requests.get(url, timeout=2).text
    except requests.ConnectionError:
        return ""
