"""The relay's metrics while the broker is unreachable: failures counted, the backlog gauges kept current.

The relay under test has its own throwaway database and a broker address nobody listens on, so the
stack's relay and consumer never see its row."""
from __future__ import annotations

import os
import subprocess
import sys
import uuid

import pytest
import requests

from services.contracts import order_created
from services.order_ms.store import ORDER_OUTBOX
from tests.support.databases import ThrowawayDatabase
from tests.support.polling import wait_for
from tests.support.processes import free_port
from tests.support.prometheus import sample_sum
from tests.support.stack import ROOT

ORDER = {"user_id": "relay-metrics", "order_id": str(uuid.uuid4()), "coffee_name": "jslee", "coffee_price": 2000,
         "coffee_qty": 1, "ordered_at": "2026-01-01T08:00:00.000000Z"}


@pytest.fixture
def relay_env(stack):
    database = ThrowawayDatabase(stack, "order_ms").create()
    env = {**os.environ, **database.app_env(), "KAFKA_BOOTSTRAP_SERVERS": f"127.0.0.1:{free_port()}",
           "KAFKA_REQUEST_TIMEOUT_MS": "1000", "METRICS_PORT": str(free_port())}
    conn = database.connect()
    yield env, conn
    conn.close()
    database.drop()


def test_relay_counts_failures_and_keeps_its_backlog_gauges_current_while_the_broker_is_gone(relay_env, tmp_path):
    env, conn = relay_env
    ORDER_OUTBOX.insert(conn.cursor(), order_created.build(ORDER))
    with open(tmp_path / "relay.log", "wb") as log_file:
        relay = subprocess.Popen([sys.executable, "-m", "services.order_ms.relay"], cwd=ROOT, env=env,
                                 stdout=log_file, stderr=subprocess.STDOUT)
    try:
        def metrics():
            assert relay.poll() is None, (tmp_path / "relay.log").read_text()
            try:
                return requests.get(f"http://127.0.0.1:{env['METRICS_PORT']}/metrics", timeout=2).text
            except requests.ConnectionError:
                return ""

        def value(name, **labels):
            return sample_sum(metrics(), name, **labels)

        wait_for(lambda: value("outbox_publish_failures_total", topic="new_orders") >= 2,
                 "two failed publish attempts counted", timeout=60)
        assert value("outbox_pending_events", table="order_outbox") == 1
        assert value("outbox_events_published_total", topic="new_orders") == 0
        # Still refreshed during the outage: the waiting row keeps getting older.
        age = value("outbox_oldest_pending_age_seconds", table="order_outbox")
        wait_for(lambda: value("outbox_oldest_pending_age_seconds", table="order_outbox") > age,
                 "the oldest pending age to grow while the broker is gone", timeout=60)
    finally:
        relay.terminate()
        relay.wait(timeout=30)
