"""The SQL of a customer's cancel request: recorded with its change row and its `OrderCancelRequested` outbox event in
one transaction, under the order's row lock, so two requests for one order can never both be accepted."""
from __future__ import annotations

from services.contracts import order_cancel_requested
from services.order_ms.store import ORDER_COLUMNS, ORDER_OUTBOX, order_view
from services.platform.db import ConnectionPool
from services.platform.timefmt import iso_utc, utc_now
from services.platform.tracing import traceparent

# The one delivery status a cancel may still catch; delivery-ms decides for good, this only spares it a sure refusal.
CANCELABLE_STATUS = "CONFIRMED"


class OrderNotFound(Exception):
    """The user has no order with this id."""


class CancelAlreadyRequested(Exception):
    """The order's cancel was requested before; `cancel` is that request as the order view shows it."""

    def __init__(self, cancel: dict):
        super().__init__(cancel["outcome"])
        self.cancel = cancel


class CancelNotAllowed(Exception):
    """The order's delivery has moved past CONFIRMED (`status`), so it can no longer be canceled."""

    def __init__(self, status: str):
        super().__init__(status)
        self.status = status


def delivery_view(row: dict | None) -> dict | None:
    """An `order_deliveries` row as the order views show it; None before the first delivery event."""
    if row is None:
        return None
    return {"delivery_id": row["delivery_id"], "status": row["status"], "updated_at": iso_utc(row["updated_at"])}


def cancel_view(row: dict | None) -> dict | None:
    """An `order_cancel_requests` row as the order views show it; None when no cancel was ever requested."""
    if row is None:
        return None
    return {"outcome": row["outcome"], "requested_at": iso_utc(row["requested_at"]), "reason": row["reason"],
            "decided_at": iso_utc(row["decided_at"]) if row["decided_at"] else None}


def request_cancel(pool: ConnectionPool, user_id: str, order_id: str) -> dict:
    """Record a PENDING cancel request of the user's order and publish it; returns the order view with it.

    Raises OrderNotFound, CancelAlreadyRequested (one request per order, whatever became of it) or CancelNotAllowed
    (the delivery is known to be past CONFIRMED)."""
    with pool.transaction() as cursor:
        # The order's row lock queues parallel requests for it: the second sees the first's request.
        cursor.execute(f"SELECT {ORDER_COLUMNS} FROM orders WHERE user_id = ? AND order_id = ? FOR UPDATE",
                       (user_id, order_id))
        order_row = cursor.fetchone()
        if order_row is None:
            raise OrderNotFound(order_id)
        order = order_view(order_row)
        cursor.execute("SELECT outcome, requested_at, reason, decided_at FROM order_cancel_requests"
                       " WHERE order_id = ?", (order["order_id"],))
        earlier = cursor.fetchone()
        if earlier is not None:
            raise CancelAlreadyRequested(cancel_view(earlier))
        cursor.execute("SELECT delivery_id, status, updated_at FROM order_deliveries WHERE order_id = ?",
                       (order["order_id"],))
        delivery = cursor.fetchone()
        if delivery is not None and delivery["status"] != CANCELABLE_STATUS:
            raise CancelNotAllowed(delivery["status"])
        requested_at = utc_now()
        cursor.execute("INSERT INTO order_cancel_requests (order_id, requested_at, outcome) VALUES (?, ?, 'PENDING')",
                       (order["order_id"], requested_at))
        cursor.execute(
            "INSERT INTO order_status_changes (user_id, order_id, kind, delivery_id, status, cancel_outcome,"
            " reason, updated_at, traceparent) VALUES (?, ?, 'CANCEL', ?, ?, 'PENDING', NULL, ?, ?)",
            (order["user_id"], order["order_id"], delivery["delivery_id"] if delivery else None,
             delivery["status"] if delivery else None, requested_at, traceparent()))
        # Keyed by order_id like the order's OrderCreated, so on its partition it always follows the creation.
        ORDER_OUTBOX.add(cursor, order_cancel_requested.build(order, iso_utc(requested_at)))
    cancel = {"outcome": "PENDING", "requested_at": requested_at, "reason": None, "decided_at": None}
    return {**order, "delivery": delivery_view(delivery), "cancel": cancel_view(cancel)}
