"""The reconciler of order-ms: finds orders that still have no delivery event a set time after they were placed,
exports how many (`orders_overdue`) and publishes their OrderCreated again through the outbox. It runs beside the
order relay, in its process (services/order_ms/relay.py).

An event can be lost after the relay marked it sent (a broker that lost its disk, retention shorter than a stalled
consumer's lag): nothing else would ever notice. Publishing again is always safe, because delivery-ms makes one
delivery per order_id and answers a duplicate with the delivery's current state. An order is published again at
most once per ORDER_OVERDUE_SECONDS, at most MAX_REPUBLISHED_PER_CHECK per check, and only within
ORDER_RECONCILE_WINDOW_SECONDS of being placed, so a backlog never turns into a flood."""
from __future__ import annotations

import logging

from prometheus_client import Counter, Gauge

from services.contracts import order_created
from services.order_ms.settings import OrderSettings
from services.order_ms.store import ORDER_COLUMNS, ORDER_OUTBOX, order_view
from services.platform.db import READ_COMMITTED, ConnectionPool, TransactionCursor
from services.platform.worker import Worker

log = logging.getLogger(__name__)

# Read from the database by the reconciler; in multiprocess mode the latest reading of a live process is the truth.
ORDERS_OVERDUE = Gauge("orders_overdue", "Orders placed more than ORDER_OVERDUE_SECONDS ago (within "
                       "ORDER_RECONCILE_WINDOW_SECONDS) that have no delivery event yet.",
                       multiprocess_mode="livemostrecent")
ORDERS_REPUBLISHED = Counter("orders_republished_total", "OrderCreated events the reconciler published again for "
                             "overdue orders.")
MAX_REPUBLISHED_PER_CHECK = 500

# Placed within the window, due by now, and order-ms has seen no delivery event for it.
_OVERDUE = (
    "o.ordered_at >= UTC_TIMESTAMP(6) - INTERVAL ? SECOND AND o.ordered_at <= UTC_TIMESTAMP(6) - INTERVAL ? SECOND"
    " AND NOT EXISTS (SELECT 1 FROM order_deliveries d WHERE d.order_id = o.order_id)"
)


class OverdueOrderReconciler(Worker):
    """Every ORDER_OVERDUE_CHECK_SECONDS: count the overdue orders and publish the due ones again."""

    def __init__(self, settings: OrderSettings):
        super().__init__(settings, "order-reconciler")
        self.pool = ConnectionPool(settings, size=1)
        # The relay in this process listens there: a re-published order goes out at once, not at the next poll.
        ORDER_OUTBOX.wake_relay_at(settings.relay_wakeup_address)
        ORDERS_OVERDUE.set(0)

    def step(self) -> bool:
        self.reconcile()
        self.wait(self.settings.order_overdue_check_seconds)
        return True

    def reconcile(self) -> tuple[int, int]:
        """One check: (orders overdue, orders published again)."""
        overdue, republished = reconcile_overdue_orders(self.pool, self.settings)
        ORDERS_OVERDUE.set(overdue)
        if republished:
            ORDERS_REPUBLISHED.inc(republished)
            log.warning("published %d overdue orders again (%d overdue)", republished, overdue,
                        extra={"republished": republished, "overdue": overdue})
        return overdue, republished

    def close(self) -> None:
        self.pool.close()


def reconcile_overdue_orders(pool: ConnectionPool, settings: OrderSettings) -> tuple[int, int]:
    """Counts the overdue orders and adds an OrderCreated to the outbox for each one that is due again; returns
    (overdue, republished).

    Nothing is added while the outbox holds an event older than the due time: the relay (or the broker) is behind,
    an overdue order's event may still be waiting there, and another copy behind it would not arrive sooner."""
    due, window = settings.order_overdue_seconds, settings.order_reconcile_window_seconds
    # No gap locks: the status consumer inserting an order's first delivery row never waits for this check.
    with pool.transaction(isolation=READ_COMMITTED) as cursor:
        cursor.execute(f"SELECT COUNT(*) AS overdue FROM orders o WHERE {_OVERDUE}", (window, due))
        overdue = int(cursor.fetchone()["overdue"])
        if overdue == 0 or _outbox_behind(cursor, due):
            return overdue, 0
        # SKIP LOCKED: an order being canceled right now, or taken by another relay replica's reconciler, waits for
        # the next check instead of holding this one up.
        cursor.execute(
            f"SELECT {ORDER_COLUMNS} FROM orders o WHERE {_OVERDUE}"
            " AND (o.republished_at IS NULL OR o.republished_at <= UTC_TIMESTAMP(6) - INTERVAL ? SECOND)"
            " ORDER BY o.ordered_at LIMIT ? FOR UPDATE SKIP LOCKED",
            (window, due, due, MAX_REPUBLISHED_PER_CHECK))
        rows = cursor.fetchall()
        for row in rows:
            ORDER_OUTBOX.add(cursor, order_created.build(order_view(row)))
        if rows:
            cursor.execute(f"UPDATE orders SET republished_at = UTC_TIMESTAMP(6)"
                           f" WHERE id IN ({', '.join('?' * len(rows))})", tuple(row["id"] for row in rows))
    return overdue, len(rows)


def _outbox_behind(cursor: TransactionCursor, due_seconds: int) -> bool:
    # created_at is the server's NOW(6) at insert (as the relay's backlog age gauge reads it).
    cursor.execute("SELECT MIN(created_at) <= NOW(6) - INTERVAL ? SECOND AS behind FROM order_outbox"
                   " WHERE sent_at IS NULL", (due_seconds,))
    return bool(cursor.fetchone()["behind"])
