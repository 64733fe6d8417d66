"""All SQL of the deliveries: the consumer's idempotent inserts, the lists, and status changes with their outbox row."""
from __future__ import annotations

import json
import uuid

from services.contracts import delivery_status_changed
from services.delivery_ms.statuses import DeliveryStatus, check_move, next_statuses
from services.platform.db import ConnectionPool
from services.platform.outbox import Outbox
from services.platform.timefmt import iso_utc, parse_iso_utc, utc_now

COLUMNS = "id, delivery_id, order_id, user_id, order_json, status, created_at, updated_at"
# Every status change's DeliveryStatusChanged event waits here for the delivery relay.
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


def insert_deliveries(pool: ConnectionPool, orders: list[dict]) -> int:
    """One CONFIRMED delivery per order, in one statement and one transaction; returns how many were new.

    The unique order_id makes a redelivered order a no-op: with ON DUPLICATE KEY UPDATE of nothing,
    MariaDB counts 1 affected row per new delivery and 0 per duplicate."""
    if not orders:
        return 0
    now = utc_now()
    rows = [(str(uuid.uuid4()), order["order_id"], order["user_id"], json.dumps(order), DeliveryStatus.CONFIRMED.value,
             now, now) for order in orders]
    with pool.transaction() as cursor:
        cursor.execute(
            "INSERT INTO delivery_status (delivery_id, order_id, user_id, order_json, status, created_at, updated_at)"
            f" VALUES {', '.join(['(?, ?, ?, ?, ?, ?, ?)'] * len(rows))} ON DUPLICATE KEY UPDATE order_id = order_id",
            tuple(value for row in rows for value in row),
        )
        return cursor.rowcount


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

    A real change updates the row and enqueues its `delivery_status` event in the same transaction;
    setting the current status again changes nothing and publishes nothing."""
    with pool.transaction() as cursor:
        # FOR UPDATE: two staff members moving the same delivery at once are serialised, so the
        # second one sees the first one's status and gets a 200 no-op or a 409, never a lost update.
        cursor.execute("SELECT id, delivery_id, order_id, status, version, updated_at FROM delivery_status"
                       " WHERE delivery_id = ? FOR UPDATE", (delivery_id,))
        row = cursor.fetchone()
        if row is None:
            raise DeliveryNotFound(delivery_id)
        current = row["status"]
        check_move(current, wanted)
        if wanted == current:
            return {"delivery_id": delivery_id, "status": current, "updated_at": iso_utc(row["updated_at"])}, current
        updated_at = utc_now()
        version = row["version"] + 1
        cursor.execute("UPDATE delivery_status SET status = ?, version = ?, updated_at = ? WHERE id = ?",
                       (wanted, version, updated_at, row["id"]))
        change = {"delivery_id": delivery_id, "order_id": row["order_id"], "status": wanted,
                  "previous_status": current, "updated_at": iso_utc(updated_at), "version": version}
        DELIVERY_OUTBOX.add(cursor, delivery_status_changed.build(change))
    return {"delivery_id": delivery_id, "status": wanted, "updated_at": change["updated_at"]}, current


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
