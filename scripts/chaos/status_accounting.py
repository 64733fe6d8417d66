"""What became of the delivery status changes of some orders, read from both databases as the server's admin: the
changes delivery-ms published (its outbox keeps every sent row) against what order-ms's read model shows and logged
for the customer's stream. Each order's log must hold every published version once, in version order."""
from __future__ import annotations

import json
import time
from dataclasses import dataclass, field

from scripts.chaos.accounting import query
from scripts.chaos.stack import ChaosStack
from services.contracts import delivery_status_changed
from services.contracts.envelope import HEADER_EVENT_TYPE
from services.platform.timefmt import iso_utc

# Examples quoted in a failure, so a reader can look them up.
EXAMPLES = 3


@dataclass
class StatusAccount:
    orders: int
    published: int  # distinct (order, version) changes delivery-ms published
    logged: int  # order_status_changes rows of kind DELIVERY
    lost: list[str] = field(default_factory=list)  # an order whose log misses a published change
    doubled: list[str] = field(default_factory=list)  # an order whose log holds a change twice
    out_of_order: list[str] = field(default_factory=list)  # an order whose log is not in version order
    behind: list[str] = field(default_factory=list)  # order_deliveries differs from delivery-ms's delivery

    def failures(self) -> list[str]:
        found = []
        for problem, orders in (("lost a published status change", self.lost),
                                ("logged a status change twice", self.doubled),
                                ("logged status changes out of version order", self.out_of_order),
                                ("show another delivery status or version than delivery-ms", self.behind)):
            if orders:
                found.append(f"{len(orders)} orders {problem} in order-ms's read model, e.g. "
                             f"{', '.join(orders[:EXAMPLES])}")
        return found


def published_changes(stack: ChaosStack, order_ids: list[str]) -> dict[str, dict[int, tuple[str, str]]]:
    """order_id -> {version: (status, updated_at)} of every DeliveryStatusChanged delivery-ms published for it."""
    found: dict[str, dict[int, tuple[str, str]]] = {order_id: {} for order_id in order_ids}
    keys = [order_id.encode() for order_id in order_ids]
    for key, payload, headers in query(
            stack, f"SELECT message_key, payload, headers FROM `{stack.database('delivery_ms')}`.delivery_outbox"
                   f" WHERE sent_at IS NOT NULL AND message_key IN ({', '.join('?' * len(keys))})", tuple(keys)):
        if dict(json.loads(headers)).get(HEADER_EVENT_TYPE, delivery_status_changed.EVENT_TYPE) \
                != delivery_status_changed.EVENT_TYPE:
            continue
        change = json.loads(payload)
        found[bytes(key).decode()][change["version"]] = (change["status"], change["updated_at"])
    return found


def _read_model(stack: ChaosStack, order_ids: list[str]) -> tuple[dict, dict]:
    marks = ", ".join("?" * len(order_ids))
    order_db, delivery_db = stack.database("order_ms"), stack.database("delivery_ms")
    known = {order_id: (status, version) for order_id, status, version in query(
        stack, f"SELECT order_id, status, version FROM `{order_db}`.order_deliveries WHERE order_id IN ({marks})",
        tuple(order_ids))}
    truth = {order_id: (status, version) for order_id, status, version in query(
        stack, f"SELECT order_id, status, version FROM `{delivery_db}`.delivery_status WHERE order_id IN ({marks})",
        tuple(order_ids))}
    return known, truth


def account_status_changes(stack: ChaosStack, order_ids: list[str], timeout: float) -> StatusAccount:
    """Waits (up to `timeout`) until order-ms shows every delivery as delivery-ms has it, then accounts for every
    published change in order-ms's change log."""
    deadline = time.monotonic() + timeout
    while True:
        known, truth = _read_model(stack, order_ids)
        behind = [order_id for order_id in order_ids if known.get(order_id) != truth.get(order_id)]
        if not behind or time.monotonic() > deadline:
            break
        time.sleep(0.5)
    published = published_changes(stack, order_ids)
    logged: dict[str, list[tuple[str, str]]] = {order_id: [] for order_id in order_ids}
    for order_id, status, updated_at in query(
            stack, f"SELECT order_id, status, updated_at FROM `{stack.database('order_ms')}`.order_status_changes"
                   f" WHERE kind = 'DELIVERY' AND order_id IN ({', '.join('?' * len(order_ids))}) ORDER BY id",
            tuple(order_ids)):
        logged[order_id].append((status, iso_utc(updated_at)))
    account = StatusAccount(orders=len(order_ids), published=sum(map(len, published.values())),
                            logged=sum(map(len, logged.values())), behind=behind)
    for order_id in order_ids:
        problem = judge(published[order_id], logged[order_id])
        if problem:
            getattr(account, problem).append(order_id)
    return account


def judge(published: dict[int, tuple[str, str]], logged: list[tuple[str, str]]) -> str | None:
    """What is wrong with one order's change log, given the changes published for it by version: "doubled",
    "lost", "out_of_order", or None when it holds each published change once, in version order."""
    expected = [published[version] for version in sorted(published)]
    if logged == expected:
        return None
    if len(set(logged)) < len(logged):
        return "doubled"
    if set(expected) - set(logged):
        return "lost"
    return "out_of_order"
