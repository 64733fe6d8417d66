"""The pipeline behind POST: order → delivery latencies, whether the relay and the consumer keep up, and their
rates from a backlog. Read from both services' databases as the server's admin (the services cannot join them)."""
from __future__ import annotations

import os
import random
import signal
import time
import uuid
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass
from datetime import datetime

import requests

from scripts.bench.load import Customer
from scripts.stack.holds import hold_process, release_process
from scripts.stack.layout import layout_for
from scripts.stack.state import StackState
from services.contracts import order_created
from services.order_ms.store import ORDER_OUTBOX
from services.platform.timefmt import iso_utc, utc_now

DELIVERY_TIMEOUT_SECONDS = 180
INSERT_CHUNK = 1000


class Databases:
    """Both services' databases through one admin connection."""

    def __init__(self, state: StackState):
        self.orders = state.databases["order_ms"].database
        self.deliveries = state.databases["delivery_ms"].database
        self.conn = state.admin_connect()

    def one(self, sql: str, params: tuple = ()) -> tuple:
        cursor = self.conn.cursor()
        cursor.execute(sql, params)
        row = cursor.fetchone()
        cursor.close()
        return row

    def all(self, sql: str, params: tuple = ()) -> list[tuple]:
        cursor = self.conn.cursor()
        cursor.execute(sql, params)
        rows = cursor.fetchall()
        cursor.close()
        return rows

    def last_order_id(self) -> int:
        return int(self.one(f"SELECT COALESCE(MAX(id), 0) FROM `{self.orders}`.orders")[0])

    def pending_events(self) -> int:
        return self.one(f"SELECT COUNT(*) FROM `{self.orders}`.order_outbox WHERE sent_at IS NULL")[0]

    def undelivered_since(self, after_id: int) -> int:
        """Orders after `after_id` that have no delivery yet."""
        return self.one(
            f"SELECT COUNT(*) FROM `{self.orders}`.orders o LEFT JOIN `{self.deliveries}`.delivery_status d"
            f" ON d.order_id = o.order_id WHERE o.id > ? AND d.id IS NULL", (after_id,))[0]

    def close(self) -> None:
        self.conn.close()


def percentile(sorted_values: list[float], fraction: float) -> float:
    return sorted_values[min(len(sorted_values) - 1, int(round(fraction * (len(sorted_values) - 1))))]


@dataclass(frozen=True)
class Latencies:
    milliseconds: list[float]  # sorted

    @property
    def p50(self) -> float:
        return percentile(self.milliseconds, 0.50)

    @property
    def p99(self) -> float:
        return percentile(self.milliseconds, 0.99)

    def summary(self) -> str:
        return (f"p50 {self.p50:.0f} ms, p99 {self.p99:.0f} ms, max {self.milliseconds[-1]:.0f} ms"
                f" ({len(self.milliseconds)} orders)")


def delivery_latencies(db: Databases, after_id: int, upto_id: int) -> Latencies:
    """From each order's ordered_at to its delivery's created_at (both written with the same clock), for the
    orders with after_id < id <= upto_id; waits until every one of them is a delivery."""
    expected = db.one(f"SELECT COUNT(*) FROM `{db.orders}`.orders WHERE id > ? AND id <= ?", (after_id, upto_id))[0]
    deadline = time.monotonic() + DELIVERY_TIMEOUT_SECONDS
    while True:
        rows = db.all(
            f"SELECT TIMESTAMPDIFF(MICROSECOND, o.ordered_at, d.created_at) FROM `{db.orders}`.orders o"
            f" JOIN `{db.deliveries}`.delivery_status d ON d.order_id = o.order_id WHERE o.id > ? AND o.id <= ?",
            (after_id, upto_id))
        if len(rows) == expected:
            return Latencies(sorted(row[0] / 1000 for row in rows))
        if time.monotonic() > deadline:
            raise SystemExit(
                f"only {len(rows)} of {expected} orders became deliveries within {DELIVERY_TIMEOUT_SECONDS} s"
            )
        time.sleep(0.2)


def post_one_at_a_time(order_url: str, customer: Customer, count: int) -> None:
    """`count` orders, each after the previous one's answer and a random pause of 50 to 150 ms (so each
    finds the pipeline idle, and the orders land at every point of the consumer's fetch cycle)."""
    session = requests.Session()
    url = f"{order_url}/order-ms/{customer.user_id}/orders"
    body = {"coffee_name": "latency", "coffee_price": 1, "coffee_qty": 1}
    for _ in range(count):
        time.sleep(random.uniform(0.05, 0.15))
        session.post(url, json=body, headers=customer.headers, timeout=10).raise_for_status()
    session.close()


@dataclass(frozen=True)
class KeepingUp:
    pending_at_end: int  # outbox rows not yet published when the load stopped
    undelivered_at_end: int  # orders of the run without a delivery when the load stopped
    drained_seconds: float  # how long until every order of the run was a delivery

    def summary(self) -> str:
        return (f"at the end {self.pending_at_end} unpublished, {self.undelivered_at_end} undelivered;"
                f" all delivered {self.drained_seconds:.2f} s later")


def keeping_up(db: Databases, after_id: int) -> KeepingUp:
    """Right after a load run: how far behind the relay and the consumer were, and how long they took to catch up."""
    pending, undelivered = db.pending_events(), db.undelivered_since(after_id)
    started = time.monotonic()
    while db.undelivered_since(after_id):
        if time.monotonic() - started > DELIVERY_TIMEOUT_SECONDS:
            raise SystemExit(f"orders still undelivered {DELIVERY_TIMEOUT_SECONDS} s after the load")
        time.sleep(0.05)
    return KeepingUp(pending, undelivered, time.monotonic() - started)


@contextmanager
def paused(pid: int) -> Iterator[None]:
    """The process stopped (SIGSTOP) until the block ends; the supervisor does not see a stopped process as gone."""
    os.kill(pid, signal.SIGSTOP)
    try:
        yield
    finally:
        os.kill(pid, signal.SIGCONT)


@dataclass(frozen=True)
class BacklogRates:
    relay: float  # events published per second
    consumer: float  # deliveries created per second
    # Deliveries that reached order-ms's read model per second, once the consumer's downstream (the delivery relay and
    # order-ms's status consumer) works off the backlog the consumer left it.
    read_model: float


# What the delivery consumer's writes set going. While the consumer's own rate is measured they are held down
# (stopped with SIGTERM and kept down, as scaling them to 0 would), as the consumer waits while the relay's rate is
# measured: each stage's rate is its own, not its share of two cores with the stages after it (which get their own
# figure, `read_model`).
CONSUMER_DOWNSTREAM = ("delivery-relay", "order-status-consumer")


def _rate(stamps: list[tuple[datetime, int]]) -> float:
    """Events per second from (batch time, events in it), oldest first: the first batch only marks the start."""
    first, last = stamps[0][0], stamps[-1][0]
    events_after_first = sum(count for _stamp, count in stamps[1:])
    return events_after_first / max((last - first).total_seconds(), 1e-6)


def _add_backlog(db: Databases, user_id: str, count: int) -> tuple[int, int]:
    """`count` orders with their outbox rows, written as order-ms writes them; returns the outbox id range."""
    cursor = db.conn.cursor()
    db.conn.autocommit = False
    cursor.execute(f"USE `{db.orders}`")
    first = last = None
    for start in range(0, count, INSERT_CHUNK):
        orders = [{"user_id": user_id, "order_id": str(uuid.uuid4()), "coffee_name": "backlog", "coffee_price": 1,
                   "coffee_qty": 1, "ordered_at": utc_now()} for _ in range(min(INSERT_CHUNK, count - start))]
        cursor.executemany(
            "INSERT INTO orders (order_id, user_id, coffee_name, coffee_price, coffee_qty, ordered_at)"
            " VALUES (?, ?, ?, ?, ?, ?)",
            [(o["order_id"], o["user_id"], o["coffee_name"], o["coffee_price"], o["coffee_qty"], o["ordered_at"])
             for o in orders])
        for order in orders:
            ORDER_OUTBOX.insert(cursor, order_created.build({**order, "ordered_at": iso_utc(order["ordered_at"])}))
            last = cursor.lastrowid
            first = first or last
        db.conn.commit()
    db.conn.autocommit = True
    cursor.close()
    return first, last


def backlog_rates(db: Databases, state: StackState, user_id: str, count: int) -> BacklogRates:
    """`count` events written while the relay and the consumer are paused; then the relay publishes them all
    while the consumer still waits, and then the consumer turns them into deliveries while its downstream is held
    down. Last, the downstream is let go and order-ms's read model catches up."""
    relay_pid = state.pid("order-relay")
    consumer_pids = [p.pid for name, p in state.processes.items() if name.startswith("consumer")]
    layout = layout_for(state.profile, starting=False)
    with ExitStack() as downstream_held:
        for name in CONSUMER_DOWNSTREAM:
            hold_process(layout, name)
            downstream_held.callback(release_process, layout, name)
        with ExitStack() as consumers_waiting:
            for pid in consumer_pids:
                consumers_waiting.enter_context(paused(pid))
            with paused(relay_pid):
                first, last = _add_backlog(db, user_id, count)
            _wait(lambda: db.one(f"SELECT COUNT(*) FROM `{db.orders}`.order_outbox WHERE id BETWEEN ? AND ?"
                                 " AND sent_at IS NULL", (first, last))[0] == 0, "the relay to publish the backlog")
        published = db.all(f"SELECT sent_at, COUNT(*) FROM `{db.orders}`.order_outbox WHERE id BETWEEN ? AND ?"
                           " GROUP BY sent_at ORDER BY sent_at", (first, last))
        _wait(lambda: db.one(f"SELECT COUNT(*) FROM `{db.deliveries}`.delivery_status WHERE user_id = ?",
                             (user_id,))[0] >= count, "the consumer to deliver the backlog")
    delivered = db.all(f"SELECT created_at, COUNT(*) FROM `{db.deliveries}`.delivery_status WHERE user_id = ?"
                       " GROUP BY created_at ORDER BY created_at", (user_id,))
    in_read_model = _sampled_until(lambda: db.one(
        f"SELECT COUNT(*) FROM `{db.orders}`.order_deliveries d JOIN `{db.orders}`.orders o ON o.order_id = d.order_id"
        " WHERE o.user_id = ?", (user_id,))[0], count, "order-ms's read model to take in the backlog's deliveries")
    return BacklogRates(relay=_rate(published), consumer=_rate(delivered), read_model=_rate(in_read_model))


def _sampled_until(count_now, target: int, what: str) -> list[tuple[datetime, int]]:
    """(time, rows added since the sample before) every 0.2 s until `count_now()` reaches `target`, for `_rate`: rows
    that carry no time of their own (order-ms's read model keeps the event's time, not its own)."""
    samples, seen = [], 0
    deadline = time.monotonic() + 600
    while seen < target:
        if time.monotonic() > deadline:
            raise SystemExit(f"timed out waiting for {what}")
        now = count_now()
        if now > seen:
            samples.append((datetime.now(), now - seen))
            seen = now
        time.sleep(0.2)
    return samples


def _wait(done, what: str, timeout: float = 600) -> None:
    deadline = time.monotonic() + timeout
    while not done():
        if time.monotonic() > deadline:
            raise SystemExit(f"timed out waiting for {what}")
        time.sleep(0.2)
