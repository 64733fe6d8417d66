"""All SQL of order-ms's read model: what it knows of each order's delivery and cancel request, written by the status
consumer from `delivery_status` (never moved backwards, each change logged once for the customer's stream) and read
by the order views with one query per page."""
from __future__ import annotations

from services.contracts import delivery_status_changed, order_cancel_refused
from services.contracts.envelope import TypedEvent
from services.platform.consumer import UnusableItem
from services.platform.db import ConnectionPool
from services.platform.timefmt import iso_utc, parse_iso_utc
from services.platform.tracing import item_context, traceparent

DELIVERY_CHANGED = delivery_status_changed.EVENT_TYPE
CANCEL_REFUSED = order_cancel_refused.EVENT_TYPE
# A cancel request's outcomes (order_cancel_requests.outcome): PENDING until delivery-ms answers.
CANCEL_OUTCOMES = ("PENDING", "CANCELED", "REFUSED")


class UnknownOrder(UnusableItem):
    """An event about an order order-ms does not have: dead-lettered, never retried."""

    def __init__(self, order_id: str):
        super().__init__(f"unknown order: order-ms has no order {order_id}")


def _placeholders(values: list) -> str:
    return ", ".join("?" * len(values))


def apply_status_events(pool: ConnectionPool, events: list[TypedEvent]) -> int:
    """Apply one batch of events from `delivery_status` in one transaction; returns how many changed
    something (the rest were redeliveries, or older than what is stored).

    A DeliveryStatusChanged is applied only when its version is higher than the stored one (or none is stored),
    and then logged in order_status_changes; one to CANCELED also decides a PENDING cancel request. An
    OrderCancelRefused decides a PENDING request as REFUSED and is logged; once decided, it changes nothing.
    Raises UnknownOrder for an event whose order is not in `orders` (the consumer dead-letters just that one).

    The events are applied in order to what the batch read (`_Batch`), and the result is written with one statement
    per table: a statement per event made the database, not this process, the pipeline's bottleneck."""
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
        batch = _Batch(owners, {row["order_id"]: row for row in cursor.fetchall()})
        cursor.execute(f"SELECT order_id, outcome FROM order_cancel_requests WHERE {where}", tuple(order_ids))
        batch.outcomes = {row["order_id"]: row["outcome"] for row in cursor.fetchall()}
        # Each event's change row is made in the trace its record came with (when tracing is on).
        for event in events:
            with item_context(event):
                if event.event_type == DELIVERY_CHANGED:
                    batch.apply_change(event.value)
                else:
                    batch.apply_refusal(event.value)
        batch.write(cursor)
        return batch.applied


class _Batch:
    """What a batch of events does to the read model of its orders, applied event by event in memory (the rows are
    locked): the deliveries as they end, the change log rows in the order they happened, the cancel decisions."""

    def __init__(self, owners: dict[str, str], deliveries: dict[str, dict]):
        self.owners = owners
        self.deliveries = deliveries
        self.outcomes: dict[str, str] = {}
        self.moved: set[str] = set()  # orders whose delivery row is written
        self.changes: list[tuple] = []  # order_status_changes rows, in order
        self.decisions: list[tuple] = []  # (outcome, reason, decided_at, order_id)
        self.applied = 0

    def apply_change(self, change: dict) -> None:
        order_id = change["order_id"]
        stored = self.deliveries.get(order_id)
        if stored is not None and change["version"] <= stored["version"]:
            return
        updated_at = parse_iso_utc(change["updated_at"])
        self.deliveries[order_id] = {"order_id": order_id, "delivery_id": change["delivery_id"],
                                     "status": change["status"], "version": change["version"],
                                     "updated_at": updated_at}
        self.moved.add(order_id)
        self.changes.append((self.owners[order_id], order_id, "DELIVERY", change["delivery_id"], change["status"],
                             None, None, updated_at, traceparent()))
        if change["status"] == delivery_status_changed.DeliveryStatus.CANCELED \
                and self.outcomes.get(order_id) == "PENDING":
            self.decisions.append(("CANCELED", None, updated_at, order_id))
            self.outcomes[order_id] = "CANCELED"
        self.applied += 1

    def apply_refusal(self, refusal: dict) -> None:
        order_id = refusal["order_id"]
        if self.outcomes.get(order_id) != "PENDING":
            # Decided already (a redelivery), or never asked for here: nothing to show the customer.
            return
        refused_at = parse_iso_utc(refusal["refused_at"])
        self.decisions.append(("REFUSED", refusal["reason"], refused_at, order_id))
        self.outcomes[order_id] = "REFUSED"
        # The stream's cancel event carries the delivery as order-ms knows it then (the refusal's own when unknown).
        known = self.deliveries.get(order_id) or refusal
        self.changes.append((self.owners[order_id], order_id, "CANCEL", known["delivery_id"], known["status"],
                             "REFUSED", refusal["reason"], refused_at, traceparent()))
        self.applied += 1

    def write(self, cursor) -> None:
        rows = [self.deliveries[order_id] for order_id in sorted(self.moved)]
        if rows:
            cursor.execute(
                "INSERT INTO order_deliveries (order_id, delivery_id, status, version, updated_at)"
                f" VALUES {', '.join(['(?, ?, ?, ?, ?)'] * len(rows))}"
                " ON DUPLICATE KEY UPDATE delivery_id = VALUES(delivery_id), status = VALUES(status),"
                " version = VALUES(version), updated_at = VALUES(updated_at)",
                tuple(value for row in rows
                      for value in (row["order_id"], row["delivery_id"], row["status"], row["version"],
                                    row["updated_at"])))
        if self.changes:
            # One statement keeps the rows' order in their ids (the stream's event ids).
            cursor.execute(
                "INSERT INTO order_status_changes"
                " (user_id, order_id, kind, delivery_id, status, cancel_outcome, reason, updated_at, traceparent)"
                f" VALUES {', '.join(['(?, ?, ?, ?, ?, ?, ?, ?, ?)'] * len(self.changes))}",
                tuple(value for row in self.changes for value in row))
        for outcome, reason, decided_at, order_id in self.decisions:
            # Rare (a customer's cancel), so one statement each.
            cursor.execute("UPDATE order_cancel_requests SET outcome = ?, reason = ?, decided_at = ?"
                           " WHERE order_id = ?", (outcome, reason, decided_at, order_id))


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
