"""What became of one customer's orders, read from the real databases as the server's admin: which accepted
orders were stored and delivered, how many deliveries each got, and which orders no 201 ever announced."""
from __future__ import annotations

import time
from dataclasses import dataclass, field

import mariadb

from scripts.chaos.load import OrderOutcome
from scripts.chaos.stack import ChaosStack


@dataclass
class OrderAccount:
    sent: int
    accepted: int
    # Accepted orders with at least one delivery, and the accepted ones with none when the wait ran out.
    delivered: int
    lost: list[str]
    # Deliveries beyond one per order, plus orders beyond one per Idempotency-Key (a retry that made a second
    # order would become a second delivery of one thing the customer wanted).
    duplicates: int
    # 201 answers whose order is not in order-ms's database (e.g. a commit lost in a database crash).
    accepted_not_stored: list[str]
    # Orders order-ms stored for the customer that no 201 ever announced (the client gave up on them).
    unannounced: int
    # Seconds from `since` until every accepted order had its delivery; None if that never happened.
    delivered_after: float | None
    details: dict = field(default_factory=dict)


def query(stack: ChaosStack, sql: str, params: tuple) -> list[tuple]:
    conn = stack.admin_connect()
    try:
        cursor = conn.cursor()
        cursor.execute(sql, params)
        return cursor.fetchall()
    finally:
        conn.close()


def stored_orders(stack: ChaosStack, user_id: str) -> dict[str, list[str]]:
    """Idempotency-Key -> the order_ids order-ms stored under it for this customer."""
    orders: dict[str, list[str]] = {}
    for order_id, key in query(stack, f"SELECT order_id, idempotency_key FROM `{stack.database('order_ms')}`.orders"
                                       " WHERE user_id = ?", (user_id,)):
        orders.setdefault(key, []).append(order_id)
    return orders


def delivery_counts(stack: ChaosStack, user_id: str) -> dict[str, int]:
    """order_id -> how many delivery rows the customer's order has."""
    return dict(query(stack, f"SELECT order_id, COUNT(*) FROM `{stack.database('delivery_ms')}`.delivery_status"
                              " WHERE user_id = ? GROUP BY order_id", (user_id,)))


def wait_for_deliveries(
    stack: ChaosStack, user_id: str, order_ids: set[str], timeout: float
) -> tuple[dict, float | None]:
    """Polls until every order in `order_ids` has a delivery or `timeout` passes: (counts, seconds taken or None)."""
    started = time.monotonic()
    counts: dict[str, int] = {}
    while True:
        try:
            counts = delivery_counts(stack, user_id)
        except mariadb.Error:
            pass  # the database may still be coming back from its own fault: ask again
        if order_ids <= counts.keys():
            return counts, time.monotonic() - started
        if time.monotonic() - started > timeout:
            return counts, None
        time.sleep(0.5)


def account_orders(stack: ChaosStack, user_id: str, outcomes: list[OrderOutcome], timeout: float) -> OrderAccount:
    accepted = {outcome.order_id: outcome.key for outcome in outcomes if outcome.accepted}
    counts, delivered_after = wait_for_deliveries(stack, user_id, set(accepted), timeout)
    stored = stored_orders(stack, user_id)
    stored_ids = {order_id for ids in stored.values() for order_id in ids}
    announced_keys = set(accepted.values())
    extra_deliveries = sum(count - 1 for count in counts.values() if count > 1)
    extra_orders = sum(len(ids) - 1 for ids in stored.values() if len(ids) > 1)
    lost = sorted(order_id for order_id in accepted if order_id not in counts)
    return OrderAccount(
        sent=len(outcomes),
        accepted=len(accepted),
        delivered=len(accepted) - len(lost),
        lost=lost,
        duplicates=extra_deliveries + extra_orders,
        accepted_not_stored=sorted(set(accepted) - stored_ids),
        unannounced=sum(len(ids) for key, ids in stored.items() if key not in announced_keys),
        delivered_after=delivered_after,
        details={"extra_deliveries": extra_deliveries, "extra_orders_per_key": extra_orders,
                 "stored_orders": len(stored_ids), "deliveries": sum(counts.values()),
                 "replayed_answers": sum(1 for outcome in outcomes if outcome.replayed)},
    )
