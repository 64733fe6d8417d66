"""The outbox relay as real processes against a private broker: two replicas publish every row, in order
per key, also when the publishing one is killed mid-stream; and a relay stops cleanly on SIGTERM."""
from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import uuid

import pytest
import requests

from services.contracts import order_created
from services.order_ms.store import ORDER_OUTBOX
from tests.support.broker import private_broker
from tests.support.databases import ThrowawayDatabase
from tests.support.polling import wait_for
from tests.support.processes import free_port
from tests.support.prometheus import sample_sum
from tests.support.stack import ROOT
from tests.support.topics import TopicReader

KEYS = 20
EVENTS_PER_KEY = 20


class RelayProcess:
    def __init__(self, env: dict, log_path):
        self.metrics_port = free_port()
        self.log_path = log_path
        with open(log_path, "ab") as log_file:
            self.process = subprocess.Popen([sys.executable, "-m", "services.order_ms.relay"], cwd=ROOT,
                                            env={**env, "METRICS_PORT": str(self.metrics_port)},
                                            stdout=log_file, stderr=subprocess.STDOUT)

    def leading(self) -> bool:
        try:
            text = requests.get(f"http://127.0.0.1:{self.metrics_port}/metrics", timeout=2).text
        except requests.ConnectionError:
            return False
        return sample_sum(text, "outbox_relay_leader", table="order_outbox") == 1

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.terminate()
            self.process.wait(timeout=30)


@pytest.fixture
def relay_setup(stack, tmp_path):
    database = ThrowawayDatabase(stack, "order_ms").create()
    with private_broker(tmp_path) as servers:
        env = {**os.environ, **database.app_env(), "KAFKA_BOOTSTRAP_SERVERS": servers, "RELAY_BATCH_SIZE": "25"}
        yield database, servers, env
    database.drop()


def add_events(database, orders: list[str], sequence: range) -> None:
    """One OrderCreated event per (sequence number, order): coffee_qty carries the sequence number."""
    with database.connect() as conn:
        cursor = conn.cursor()
        for number in sequence:
            for order_id in orders:
                order = {"user_id": "relay-test", "order_id": order_id, "coffee_name": "jslee", "coffee_price": 1,
                         "coffee_qty": number, "ordered_at": "2026-11-28T15:04:05.123456Z"}
                ORDER_OUTBOX.insert(cursor, order_created.build(order))


def pending(database) -> int:
    with database.connect() as conn:
        cursor = conn.cursor()
        cursor.execute("SELECT COUNT(*) FROM order_outbox WHERE sent_at IS NULL")
        return cursor.fetchone()[0]


def test_two_relays_publish_every_row_in_order_per_key_across_a_killed_leader(relay_setup, tmp_path):
    database, servers, env = relay_setup
    orders = [str(uuid.uuid4()) for _ in range(KEYS)]
    relays = [RelayProcess(env, tmp_path / f"relay-{i}.log") for i in (1, 2)]
    try:
        leader = wait_for(lambda: next((r for r in relays if r.leading()), None), "one relay to lead", timeout=30)
        assert sum(r.leading() for r in relays) == 1, "exactly one replica publishes"
        add_events(database, orders, range(1, EVENTS_PER_KEY // 2 + 1))
        wait_for(lambda: pending(database) < KEYS * EVENTS_PER_KEY // 2, "the leader to publish some rows")
        leader.process.send_signal(signal.SIGKILL)  # mid-stream: its session and lock go with it
        add_events(database, orders, range(EVENTS_PER_KEY // 2 + 1, EVENTS_PER_KEY + 1))
        standby = next(r for r in relays if r is not leader)
        wait_for(standby.leading, "the standby to take over", timeout=30)
        wait_for(lambda: pending(database) == 0, "every row published", timeout=60)
    finally:
        for relay in relays:
            relay.stop()

    reader = TopicReader(servers, "new_orders")
    try:
        records = reader.wait_for(lambda r: r.key.decode() in orders, "every event", count=KEYS * EVENTS_PER_KEY)
    finally:
        reader.close()
    for order_id in orders:
        # At least once: a row the killed leader sent but did not mark is sent again, never out of order.
        sequence = [json.loads(r.value)["coffee_qty"] for r in records if r.key.decode() == order_id]
        first_seen = list(dict.fromkeys(sequence))
        assert first_seen == list(range(1, EVENTS_PER_KEY + 1)), f"{order_id}: {sequence}"


def test_a_relay_stops_cleanly_on_sigterm(relay_setup, tmp_path):
    _database, _servers, env = relay_setup
    relay = RelayProcess(env, tmp_path / "relay.log")
    wait_for(relay.leading, "the relay to lead", timeout=30)
    relay.process.send_signal(signal.SIGTERM)
    assert relay.process.wait(timeout=30) == 0
    lines = [json.loads(line) for line in relay.log_path.read_text().splitlines() if line.startswith("{")]
    assert any(entry["message"] == "order-relay stopped" for entry in lines)
