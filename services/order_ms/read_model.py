"""All SQL of order-ms's read model: what it knows of each order's delivery and cancel request, written by the status
consumer from `delivery_status` (never moved backwards, each change logged once for the customer's stream) and read
by the order views with one query per page."""
from __future__ import annotations

from datetime import datetime

from services.contracts import delivery_status_changed, order_cancel_refused
from services.contracts.envelope import TypedEvent
from services.contracts.identifiers import TIMESTAMP_FORMAT
from services.platform.consumer import UnusableItem
from services.platform.db import ConnectionPool
from services.platform.timefmt import iso_utc
from services.platform.tracing import item_context, traceparent

DELIVERY_CHANGED = delivery_status_changed.EVENT_TYPE
CANCEL_REFUSED = order_cancel_refused.EVENT_TYPE
# A cancel request's outcomes (order_cancel_requests.outcome): PENDING until delivery-ms answers.
CANCEL_OUTCOMES = ("PENDING", "CANCELED", "REFUSED")


class UnknownOrder(UnusableItem):
    """An event about an order order-ms does not have: dead-lettered, never retried."""

    def __init__(self, order_id: str):
        super().__init__(f"unknown order: order-ms has no order {order_id}")


def _stored_time(timestamp: str) -> datetime:
    """A contract's ISO-8601 UTC time as the naive UTC the DATETIME(6) columns hold."""
    return datetime.strptime(timestamp, TIMESTAMP_FORMAT)


def _placeholders(values: list) -> str:
    return ", ".join("?" * len(values))


def apply_status_events(pool: ConnectionPool, events: list[TypedEvent]) -> int:
    """Apply one batch of events from `delivery_status` in one transaction; returns how many changed
    something (the rest were redeliveries, or older than what is stored).

    A DeliveryStatusChanged is applied only when its version is higher than the stored one (or none is stored),
    and then logged in order_status_changes; one to CANCELED also decides a PENDING cancel request. An
    OrderCancelRefused decides a PENDING request as REFUSED and is logged; once decided, it changes nothing.
    Raises UnknownOrder for an event whose order is not in `orders` (the consumer dead-letters just that one)."""
    if not events:
        return 0
    order_ids = sorted({event.value["order_id"] for event in events})
    where = f"order_id IN ({_placeholders(order_ids)})"
    with pool.transaction() as cursor:
        # The orders' rows are locked first, in key order: a customer's cancel request locks its order too, so it
        # and this write see each other's result; so does a consumer still writing the same records during a
        # rebalance.
        cursor.execute(f"SELECT order_id, user_id FROM orders WHERE {where} ORDER BY order_id FOR UPDATE",
                       tuple(order_ids))
        owners = {row["order_id"]: row["user_id"] for row in cursor.fetchall()}
        unknown = [order_id for order_id in order_ids if order_id not in owners]
        if unknown:
            raise UnknownOrder(unknown[0])
        cursor.execute(f"SELECT order_id, delivery_id, status, version FROM order_deliveries WHERE {where}",
                       tuple(order_ids))
        deliveries = {row["order_id"]: row for row in cursor.fetchall()}
        cursor.execute(f"SELECT order_id, outcome FROM order_cancel_requests WHERE {where}", tuple(order_ids))
        outcomes = {row["order_id"]: row["outcome"] for row in cursor.fetchall()}
        applied = 0
        # Each event's statements and change log row in the trace its record came with (when tracing is on).
        for event in events:
            with item_context(event):
                owner = owners[event.value["order_id"]]
                if event.event_type == DELIVERY_CHANGED:
                    applied += _apply_change(cursor, event.value, owner, deliveries, outcomes)
                else:
                    applied += _apply_refusal(cursor, event.value, owner, deliveries, outcomes)
        return applied


def _apply_change(cursor, change: dict, user_id: str, deliveries: dict, outcomes: dict) -> int:
    order_id = change["order_id"]
    stored = deliveries.get(order_id)
    if stored is not None and change["version"] <= stored["version"]:
        return 0
    updated_at = _stored_time(change["updated_at"])
    cursor.execute(
        "INSERT INTO order_deliveries (order_id, delivery_id, status, version, updated_at) VALUES (?, ?, ?, ?, ?)"
        " ON DUPLICATE KEY UPDATE delivery_id = VALUES(delivery_id), status = VALUES(status),"
        " version = VALUES(version), updated_at = VALUES(updated_at)",
        (order_id, change["delivery_id"], change["status"], change["version"], updated_at))
    deliveries[order_id] = {"order_id": order_id, "delivery_id": change["delivery_id"], "status": change["status"],
                            "version": change["version"]}
    cursor.execute(
        "INSERT INTO order_status_changes (user_id, order_id, kind, delivery_id, status, updated_at, traceparent)"
        " VALUES (?, ?, 'DELIVERY', ?, ?, ?, ?)",
        (user_id, order_id, change["delivery_id"], change["status"], updated_at, traceparent()))
    if change["status"] == delivery_status_changed.DeliveryStatus.CANCELED and outcomes.get(order_id) == "PENDING":
        cursor.execute("UPDATE order_cancel_requests SET outcome = 'CANCELED', decided_at = ? WHERE order_id = ?",
                       (updated_at, order_id))
        outcomes[order_id] = "CANCELED"
    return 1


def _apply_refusal(cursor, refusal: dict, user_id: str, deliveries: dict, outcomes: dict) -> int:
    order_id = refusal["order_id"]
    if outcomes.get(order_id) != "PENDING":
        # Decided already (a redelivery), or never asked for here: nothing to show the customer.
        return 0
    refused_at = _stored_time(refusal["refused_at"])
    cursor.execute("UPDATE order_cancel_requests SET outcome = 'REFUSED', reason = ?, decided_at = ?"
                   " WHERE order_id = ?", (refusal["reason"], refused_at, order_id))
    outcomes[order_id] = "REFUSED"
    # The stream's cancel event carries the delivery as order-ms knows it then (the refusal's own when unknown).
    known = deliveries.get(order_id) or refusal
    cursor.execute(
        "INSERT INTO order_status_changes (user_id, order_id, kind, delivery_id, status, cancel_outcome, reason,"
        " updated_at, traceparent) VALUES (?, ?, 'CANCEL', ?, ?, 'REFUSED', ?, ?, ?)",
        (user_id, order_id, known["delivery_id"], known["status"], refusal["reason"], refused_at, traceparent()))
    return 1


def delivery_and_cancel(pool: ConnectionPool, order_ids: list[str]) -> dict[str, tuple[dict | None, dict | None]]:
    """{order_id: (delivery, cancel)} for every order asked, in one query: delivery is {delivery_id, status,
    updated_at} or None until its first event arrived; cancel is {outcome, requested_at, reason, decided_at} or None
    when the customer never asked to cancel."""
    known: dict[str, tuple[dict | None, dict | None]] = {order_id: (None, None) for order_id in order_ids}
    if not order_ids:
        return known
    with pool.transaction() as cursor:
        cursor.execute(
            "SELECT o.order_id, d.delivery_id, d.status, d.updated_at, c.outcome, c.requested_at, c.reason,"
            " c.decided_at FROM orders o"
            " LEFT JOIN order_deliveries d ON d.order_id = o.order_id"
            " LEFT JOIN order_cancel_requests c ON c.order_id = o.order_id"
            f" WHERE o.order_id IN ({_placeholders(order_ids)})", tuple(order_ids))
        rows = cursor.fetchall()
    for row in rows:
        delivery = None if row["delivery_id"] is None else {
            "delivery_id": row["delivery_id"], "status": row["status"], "updated_at": iso_utc(row["updated_at"])}
        cancel = None if row["outcome"] is None else {
            "outcome": row["outcome"], "requested_at": iso_utc(row["requested_at"]), "reason": row["reason"],
            "decided_at": None if row["decided_at"] is None else iso_utc(row["decided_at"])}
        known[row["order_id"]] = (delivery, cancel)
    return known


def with_delivery_and_cancel(pool: ConnectionPool, views: list[dict]) -> list[dict]:
    """Order views (store.order_view) with their `delivery` and `cancel` after the order's own fields."""
    known = delivery_and_cancel(pool, [view["order_id"] for view in views])
    return [{**view, "delivery": known[view["order_id"]][0], "cancel": known[view["order_id"]][1]} for view in views]
