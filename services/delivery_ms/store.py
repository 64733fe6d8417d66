"""All SQL of the deliveries: what the consumer writes for `new_orders` events, the lists, and staff's status changes,
each change with its outbox event (which the staff board's stream reads too: services/delivery_ms/board_stream.py)."""
from __future__ import annotations

import json
from dataclasses import replace

from services.contracts import delivery_status_changed
from services.contracts.envelope import TypedEvent
from services.delivery_ms import lifecycle
from services.delivery_ms.statuses import DeliveryStatus, check_move, next_statuses
from services.platform.db import ConnectionPool
from services.platform.outbox import Outbox
from services.platform.timefmt import iso_utc, parse_iso_utc, utc_now

COLUMNS = "id, delivery_id, order_id, user_id, order_json, status, created_at, updated_at"
# Every creation's and status change's DeliveryStatusChanged, and every OrderCancelRefused, waits here for the relay.
DELIVERY_OUTBOX = Outbox("delivery_outbox", delivery_status_changed.TOPIC)


class DeliveryNotFound(Exception):
    """No delivery has this id."""


def delivery_view(row: dict) -> dict:
    """A delivery_status row as the API shows it, with the order as a JSON object and the moves allowed
    from its status (so clients need no copy of the status rules)."""
    return {
        "delivery_id": row["delivery_id"],
        "order_id": row["order_id"],
        "order": json.loads(row["order_json"]),
        "status": row["status"],
        "next_statuses": [status.value for status in next_statuses(row["status"])],
        "created_at": iso_utc(row["created_at"]),
        "updated_at": iso_utc(row["updated_at"]),
    }


def apply_order_events(pool: ConnectionPool, events: list[TypedEvent]) -> int:
    """A batch of `new_orders` events in one transaction (services/delivery_ms/lifecycle.py says what each does):
    the deliveries' rows and their events; returns how many events were news.

    The deliveries the batch names are locked first (FOR UPDATE), so a staff move racing a cancel is serialised with
    it: whichever locks first wins, the other sees its result. The consumer writes at READ COMMITTED (the platform's
    `consumer_pool`), so only existing rows are locked, never the gaps where missing ones would go: another
    consumer writing the same order during a rebalance meets the unique key of the delivery it made (the platform
    then writes the batch event by event, and the event's locking read finds that delivery)."""
    if not events:
        return 0
    order_ids = sorted({event.value["order_id"] for event in events})
    with pool.transaction() as cursor:
        stored = _lock_deliveries(cursor, order_ids)
        plan = lifecycle.plan_batch(stored, events, utc_now())
        _insert_deliveries(cursor, plan.new_deliveries())
        for delivery in plan.moved_deliveries():
            # By order_id, the index the lock above went through: by delivery_id this would also wait for that
            # index's entry, which a staff move locks first, and the two would deadlock.
            cursor.execute("UPDATE delivery_status SET status = ?, previous_status = ?, version = ?, updated_at = ?"
                           " WHERE order_id = ?", (delivery.status, delivery.previous_status, delivery.version,
                                                   delivery.updated_at, delivery.order_id))
        DELIVERY_OUTBOX.add(cursor, *plan.messages)
    return plan.applied


# previous_status: the status before the delivery's last change, so that its state is published again exactly as
# it was first (a delivery whose last change predates migration 0003's change log has none: null); origin_traceparent:
# the trace the delivery was created in, which each change continues.
LOCKED_COLUMNS = ("delivery_id, order_id, user_id, status, previous_status, version, updated_at,"
                  " traceparent AS origin_traceparent")


def _lock_deliveries(cursor, order_ids: list[str]) -> dict[str, lifecycle.Delivery]:
    cursor.execute(f"SELECT {LOCKED_COLUMNS} FROM delivery_status"
                   f" WHERE order_id IN ({', '.join(['?'] * len(order_ids))}) FOR UPDATE", tuple(order_ids))
    return {row["order_id"]: lifecycle.Delivery(**row) for row in cursor.fetchall()}


def _insert_deliveries(cursor, deliveries: list[lifecycle.Delivery]) -> None:
    if not deliveries:
        return
    cursor.executemany(
        "INSERT INTO delivery_status (delivery_id, order_id, user_id, order_json, status, previous_status, version,"
        " created_at, updated_at, traceparent) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
        [(d.delivery_id, d.order_id, d.user_id, d.order_json, d.status, d.previous_status, d.version, d.updated_at,
          d.updated_at, d.origin_traceparent) for d in deliveries])


def list_deliveries(pool: ConnectionPool, owner: str | None, status: str | None, limit: int,
                    before_id: int | None) -> list[dict]:
    """Newest first; `owner` limits the list to one customer's deliveries. Rows keep their `id` for the cursor."""
    conditions, params = [], []
    if owner is not None:
        conditions.append("user_id = ?")
        params.append(owner)
    if status is not None:
        conditions.append("status = ?")
        params.append(status)
    if before_id is not None:
        conditions.append("id < ?")
        params.append(before_id)
    where = f" WHERE {' AND '.join(conditions)}" if conditions else ""
    with pool.transaction() as cursor:
        cursor.execute(f"SELECT {COLUMNS} FROM delivery_status{where} ORDER BY id DESC LIMIT ?", (*params, limit))
        return cursor.fetchall()


def get_delivery(pool: ConnectionPool, delivery_id: str, owner: str | None) -> dict | None:
    """The delivery, or None when it does not exist or (with `owner`) belongs to someone else."""
    with pool.transaction() as cursor:
        cursor.execute(f"SELECT {COLUMNS} FROM delivery_status WHERE delivery_id = ?", (delivery_id,))
        row = cursor.fetchone()
    if row is None or (owner is not None and row["user_id"] != owner):
        return None
    return delivery_view(row)


def change_status(pool: ConnectionPool, delivery_id: str, wanted: str) -> tuple[dict, str]:
    """Move the delivery to `wanted`; returns ({delivery_id, status, updated_at}, previous status).

    A real change bumps the version, updates the row and writes its `delivery_status` event in the same
    transaction; setting the current status again changes nothing and publishes nothing."""
    with pool.transaction() as cursor:
        # FOR UPDATE: two staff members moving the same delivery at once, or a staff move and a customer's cancel
        # (the consumer locks the row too), are serialised: the second one sees the first one's status and gets a
        # 200 no-op or a 409 (or the cancel is refused), never a lost update.
        cursor.execute(f"SELECT {LOCKED_COLUMNS} FROM delivery_status WHERE delivery_id = ? FOR UPDATE",
                       (delivery_id,))
        row = cursor.fetchone()
        if row is None:
            raise DeliveryNotFound(delivery_id)
        current = lifecycle.Delivery(**row)
        check_move(current.status, wanted)
        if wanted == current.status:
            return {"delivery_id": delivery_id, "status": current.status,
                    "updated_at": iso_utc(current.updated_at)}, current.status
        moved = replace(current, status=wanted, previous_status=current.status, version=current.version + 1,
                        updated_at=utc_now())
        # The change continues the delivery's own trace (its order's), not this request's: what it writes and
        # everything downstream of its event then belong to the order's one trace (docs/tracing.md).
        with moved.change_span():
            cursor.execute("UPDATE delivery_status SET status = ?, previous_status = ?, version = ?, updated_at = ?"
                           " WHERE delivery_id = ?", (moved.status, moved.previous_status, moved.version,
                                                      moved.updated_at, delivery_id))
            DELIVERY_OUTBOX.add(cursor, delivery_status_changed.build(moved.change()))
    return {"delivery_id": delivery_id, "status": wanted, "updated_at": iso_utc(moved.updated_at)}, current.status


def count_by_status(pool: ConnectionPool) -> dict[str, int]:
    """How many deliveries are in each status right now (0 for none), for the `deliveries` gauge."""
    with pool.transaction() as cursor:
        cursor.execute("SELECT status, COUNT(*) AS deliveries FROM delivery_status GROUP BY status")
        counts = {row["status"]: row["deliveries"] for row in cursor.fetchall()}
    return {status.value: counts.get(status.value, 0) for status in DeliveryStatus}


# --- token versions (order-ms's account_versions events; docs/security.md#revocation) -----------------------

def record_token_versions(pool: ConnectionPool, revocations: list[dict]) -> int:
    """Each account's highest token version among `revocations`, kept unless a higher one is stored, in one
    transaction; returns how many raised a stored version (the others were redeliveries or older events)."""
    highest: dict[str, dict] = {}
    for revocation in revocations:
        known = highest.get(revocation["user_id"])
        if known is None or revocation["token_version"] > known["token_version"]:
            highest[revocation["user_id"]] = revocation
    raised = 0
    with pool.transaction() as cursor:
        for user_id, revocation in highest.items():
            # MariaDB assigns left to right: revoked_at is compared with the version stored before this event.
            cursor.execute(
                "INSERT INTO account_token_versions (user_id, token_version, revoked_at) VALUES (?, ?, ?)"
                " ON DUPLICATE KEY UPDATE"
                " revoked_at = IF(VALUES(token_version) > token_version, VALUES(revoked_at), revoked_at),"
                " token_version = GREATEST(token_version, VALUES(token_version))",
                (user_id, revocation["token_version"], parse_iso_utc(revocation["revoked_at"])),
            )
            raised += 1 if cursor.rowcount else 0
    return raised


def lowest_token_version(pool: ConnectionPool, user_id: str) -> int | None:
    """The lowest version the account's tokens may carry; None when it never revoked any."""
    with pool.transaction() as cursor:
        cursor.execute("SELECT token_version FROM account_token_versions WHERE user_id = ?", (user_id,))
        row = cursor.fetchone()
    return row["token_version"] if row else None
