"""All SQL of order-ms: orders with their outbox row, user accounts with their token versions, and the failed-login
counters."""
from __future__ import annotations

import uuid

from services.contracts import account_tokens_revoked, order_created
from services.platform.db import ConnectionPool, is_duplicate_key
from services.platform.outbox import Outbox
from services.platform.timefmt import iso_utc, utc_now

# Every new order's OrderCreated event, and every raised token version's AccountTokensRevoked event, waits here
# for the order relay.
ORDER_OUTBOX = Outbox("order_outbox", order_created.TOPIC, account_tokens_revoked.TOPIC)

ORDER_COLUMNS = "id, order_id, user_id, coffee_name, coffee_price, coffee_qty, ordered_at, request_hash"


class IdempotencyConflict(Exception):
    """The Idempotency-Key was used before with a different body."""

    def __init__(self, order: dict):
        super().__init__(order["order_id"])
        self.order = order


def order_view(row: dict) -> dict:
    """An orders row as the API and the event show it (field order is part of the contract)."""
    return {
        "user_id": row["user_id"],
        "order_id": row["order_id"],
        "coffee_name": row["coffee_name"],
        "coffee_price": row["coffee_price"],
        "coffee_qty": row["coffee_qty"],
        "ordered_at": iso_utc(row["ordered_at"]),
    }


def create_order(pool: ConnectionPool, user_id: str, fields: dict, idempotency_key: str | None,
                 request_hash: str | None) -> tuple[dict, bool]:
    """Insert the order and its `new_orders` outbox message in one transaction.

    Returns (order, created); with a known Idempotency-Key the first order comes back, created=False."""
    if idempotency_key:
        existing = _find_by_idempotency_key(pool, user_id, idempotency_key)
        if existing:
            return _replay(existing, request_hash), False
    row = {
        "order_id": str(uuid.uuid4()),
        "user_id": user_id,
        "coffee_name": fields["coffee_name"],
        "coffee_price": fields["coffee_price"],
        "coffee_qty": fields["coffee_qty"],
        "ordered_at": utc_now(),
    }
    order = order_view(row)
    try:
        with pool.transaction() as cursor:
            cursor.execute(
                "INSERT INTO orders (order_id, user_id, coffee_name, coffee_price, coffee_qty, ordered_at,"
                " idempotency_key, request_hash) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                (row["order_id"], user_id, row["coffee_name"], row["coffee_price"], row["coffee_qty"],
                 row["ordered_at"], idempotency_key, request_hash),
            )
            ORDER_OUTBOX.add(cursor, order_created.build(order))
    except Exception as exc:
        # Two retries with the same key raced: the loser answers with the winner's order.
        if idempotency_key and is_duplicate_key(exc):
            existing = _find_by_idempotency_key(pool, user_id, idempotency_key)
            if existing:
                return _replay(existing, request_hash), False
        raise
    return order, True


def _replay(existing: dict, request_hash: str | None) -> dict:
    if existing["request_hash"] != request_hash:
        raise IdempotencyConflict(order_view(existing))
    return order_view(existing)


def _find_by_idempotency_key(pool: ConnectionPool, user_id: str, key: str) -> dict | None:
    with pool.transaction() as cursor:
        cursor.execute(f"SELECT {ORDER_COLUMNS} FROM orders WHERE user_id = ? AND idempotency_key = ?", (user_id, key))
        return cursor.fetchone()


def list_orders(pool: ConnectionPool, user_id: str, limit: int, before_id: int | None) -> list[dict]:
    """Newest first; rows keep their internal `id` for the paging cursor."""
    with pool.transaction() as cursor:
        if before_id is None:
            cursor.execute(f"SELECT {ORDER_COLUMNS} FROM orders WHERE user_id = ? ORDER BY id DESC LIMIT ?",
                           (user_id, limit))
        else:
            cursor.execute(
                f"SELECT {ORDER_COLUMNS} FROM orders WHERE user_id = ? AND id < ? ORDER BY id DESC LIMIT ?",
                (user_id, before_id, limit),
            )
        return cursor.fetchall()


def get_order(pool: ConnectionPool, user_id: str, order_id: str) -> dict | None:
    with pool.transaction() as cursor:
        cursor.execute(f"SELECT {ORDER_COLUMNS} FROM orders WHERE user_id = ? AND order_id = ?", (user_id, order_id))
        row = cursor.fetchone()
    return order_view(row) if row else None


def create_user(pool: ConnectionPool, user_id: str, password_hash: str, role: str) -> dict | None:
    """The new account, or None when the user_id is taken in any case."""
    created_at = utc_now()
    try:
        with pool.transaction() as cursor:
            cursor.execute("INSERT INTO users (user_id, password_hash, role, created_at) VALUES (?, ?, ?, ?)",
                           (user_id, password_hash, role, created_at))
    except Exception as exc:
        if is_duplicate_key(exc):
            return None
        raise
    return {"user_id": user_id, "role": role, "created_at": iso_utc(created_at)}


def get_user(pool: ConnectionPool, user_id: str) -> dict | None:
    """The account whose user id is `user_id` in any case (no two differ only in case), with its own form; a
    deleted account is none."""
    with pool.transaction() as cursor:
        cursor.execute("SELECT user_id, password_hash, role, token_version FROM users"
                       " WHERE user_key = LOWER(?) AND deleted_at IS NULL", (user_id,))
        return cursor.fetchone()


def token_version(pool: ConnectionPool, user_id: str) -> int | None:
    """The version every valid token of the account `user_id` (exact form) carries; None when deleted or unknown."""
    with pool.transaction() as cursor:
        cursor.execute("SELECT token_version FROM users WHERE user_id = ? AND deleted_at IS NULL", (user_id,))
        row = cursor.fetchone()
    return row["token_version"] if row else None


def revoke_tokens(pool: ConnectionPool, user_id: str, reason: str, role: str | None = None) -> dict | None:
    """Raises the account's token version, so that every token issued before is refused, with its
    `account_versions` event, in one transaction; `reason` ROLE_CHANGED sets `role`, DELETED deletes the account
    (its password goes, its row and id stay). The account's user_id, role and new token_version, or None when
    there is no such account (deleted, or not this exact form)."""
    with pool.transaction() as cursor:
        cursor.execute("SELECT role, token_version FROM users WHERE user_id = ? AND deleted_at IS NULL FOR UPDATE",
                       (user_id,))
        row = cursor.fetchone()
        if row is None:
            return None
        version, revoked_at = row["token_version"] + 1, utc_now()
        role = role if reason == "ROLE_CHANGED" and role else row["role"]
        if reason == "DELETED":
            cursor.execute("UPDATE users SET token_version = ?, password_hash = '', deleted_at = ? WHERE user_id = ?",
                           (version, revoked_at, user_id))
        else:
            cursor.execute("UPDATE users SET token_version = ?, role = ? WHERE user_id = ?", (version, role, user_id))
        ORDER_OUTBOX.add(cursor, account_tokens_revoked.build(
            {"user_id": user_id, "token_version": version, "reason": reason, "revoked_at": iso_utc(revoked_at)}))
    return {"user_id": user_id, "role": role, "token_version": version}


def set_password(pool: ConnectionPool, user_id: str, password_hash: str) -> None:
    """An operator's password reset of the account `user_id` (exact form); its role stays."""
    with pool.transaction() as cursor:
        cursor.execute("UPDATE users SET password_hash = ? WHERE user_id = ?", (password_hash, user_id))


# --- login and sign-up counters (login_throttle.py decides what they mean) ----------------------------------
# All times come from the database's clock, so every worker and replica agrees on them.

# One more failure: start a new window when the old one is over, count, and once the limit is reached
# refuse further attempts for 1, 2, 4, ... seconds (at most the window): guessing slows down, nobody is
# locked out for long. MariaDB evaluates these assignments left to right, each seeing the ones before it.
_COUNT_FAILURE = (
    "INSERT INTO login_throttle (scope, subject, failures, window_started_at, locked_until)"
    " VALUES (?, ?, 1, UTC_TIMESTAMP(6), IF(1 >= ?, UTC_TIMESTAMP(6) + INTERVAL 1 SECOND, NULL))"
    " ON DUPLICATE KEY UPDATE"
    " failures = IF(window_started_at <= UTC_TIMESTAMP(6) - INTERVAL ? SECOND, 1, failures + 1),"
    " window_started_at = IF(failures = 1, UTC_TIMESTAMP(6), window_started_at),"
    " locked_until = IF(failures >= ?, UTC_TIMESTAMP(6) + INTERVAL LEAST(?, 1 << LEAST(failures - ?, 20)) SECOND,"
    " locked_until)"
)
# One more sign-up: a fixed window; at the limit, refused until the window is over.
_COUNT_SIGNUP = (
    "INSERT INTO login_throttle (scope, subject, failures, window_started_at, locked_until)"
    " VALUES (?, ?, 1, UTC_TIMESTAMP(6), IF(1 >= ?, UTC_TIMESTAMP(6) + INTERVAL ? SECOND, NULL))"
    " ON DUPLICATE KEY UPDATE"
    " failures = IF(window_started_at <= UTC_TIMESTAMP(6) - INTERVAL ? SECOND, 1, failures + 1),"
    " window_started_at = IF(failures = 1, UTC_TIMESTAMP(6), window_started_at),"
    " locked_until = IF(failures >= ?, window_started_at + INTERVAL ? SECOND, locked_until)"
)


# Holds a counter's row, inserting an empty one if need be: INSERT ... ON DUPLICATE KEY UPDATE locks the row
# exclusively until the commit, so parallel attempts on the same counter wait here and take their turn.
_HOLD_COUNTER = (
    "INSERT INTO login_throttle (scope, subject, failures, window_started_at, locked_until)"
    " VALUES (?, ?, 0, UTC_TIMESTAMP(6), NULL) ON DUPLICATE KEY UPDATE failures = failures"
)
# A right password takes its counted failure back; a lock lifts once the count is under the limit again
# (one set past the limit stays: that client's count is already a guesser's).
_UNCOUNT_FAILURE = (
    "UPDATE login_throttle SET failures = GREATEST(failures, 1) - 1,"
    " locked_until = IF(failures < ?, NULL, locked_until) WHERE scope = ? AND subject = ?"
)


def count_failure_unless_locked(pool: ConnectionPool, counters: list[tuple[str, str, int]], window_seconds: int) -> int:
    """One more failure on each (scope, subject, limit) counter and 0, or, while one of them is locked, nothing
    counted and the seconds until none is.

    The rows are held first, then read and counted in the same transaction, so parallel attempts on a counter are
    judged one at a time: no more of them get past it than its limit. A refused attempt counts nothing, or
    waiting would lengthen the wait; that is why this reads before it counts, unlike count_signup."""
    with pool.transaction() as cursor:
        for scope, subject, _limit in counters:
            cursor.execute(_HOLD_COUNTER, (scope, subject))
        condition = " OR ".join(["(scope = ? AND subject = ?)"] * len(counters))
        cursor.execute(
            "SELECT CEIL(MAX(TIMESTAMPDIFF(MICROSECOND, UTC_TIMESTAMP(6), locked_until)) / 1000000) AS seconds"
            f" FROM login_throttle WHERE locked_until > UTC_TIMESTAMP(6) AND ({condition}) FOR UPDATE",
            tuple(value for scope, subject, _limit in counters for value in (scope, subject)),
        )
        seconds = max(int(cursor.fetchone()["seconds"] or 0), 0)
        if seconds == 0:
            for scope, subject, limit in counters:
                cursor.execute(_COUNT_FAILURE, (scope, subject, limit, window_seconds, limit, window_seconds, limit))
    return seconds


def count_signup(pool: ConnectionPool, scope: str, subject: str, limit: int, window_seconds: int) -> int:
    """Counts one more sign-up and returns 0 while the count is within `limit`, else the seconds left in the window.

    Counted first, then read back in the same transaction: the upsert locks the counter's row until the commit,
    so parallel sign-ups from one client are counted one at a time and at most `limit` of them get 0."""
    with pool.transaction() as cursor:
        cursor.execute(_COUNT_SIGNUP, (scope, subject, limit, window_seconds, window_seconds, limit, window_seconds))
        cursor.execute(
            "SELECT failures AS counted, CEIL(TIMESTAMPDIFF(MICROSECOND, UTC_TIMESTAMP(6),"
            " window_started_at + INTERVAL ? SECOND) / 1000000) AS seconds"
            " FROM login_throttle WHERE scope = ? AND subject = ?",
            (window_seconds, scope, subject),
        )
        row = cursor.fetchone()
    if int(row["counted"]) <= limit:
        return 0
    return max(int(row["seconds"] or 0), 1)


def take_back_failure(pool: ConnectionPool, cleared: tuple[str, str], uncounted: tuple[str, str, int]) -> None:
    """Drops the `cleared` (scope, subject) counter and takes one failure back from the `uncounted` (scope, subject,
    limit) one, locking them in the order count_failure_unless_locked does; a counter left at 0 goes too."""
    scope, subject, limit = uncounted
    with pool.transaction() as cursor:
        cursor.execute("DELETE FROM login_throttle WHERE scope = ? AND subject = ?", cleared)
        cursor.execute(_UNCOUNT_FAILURE, (limit, scope, subject))
        cursor.execute("DELETE FROM login_throttle WHERE scope = ? AND subject = ? AND failures = 0"
                       " AND locked_until IS NULL", (scope, subject))


def remove_stale_counters(pool: ConnectionPool, window_seconds: int, batch: int) -> None:
    """Drop up to `batch` counters whose window and lock are over, so the table stays small without a job."""
    with pool.transaction() as cursor:
        # READ COMMITTED takes no gap locks, so this sweep never blocks concurrent failures being counted.
        cursor.execute("SET TRANSACTION ISOLATION LEVEL READ COMMITTED")
        cursor.execute(
            "DELETE FROM login_throttle WHERE window_started_at <= UTC_TIMESTAMP(6) - INTERVAL ? SECOND"
            " AND (locked_until IS NULL OR locked_until <= UTC_TIMESTAMP(6)) LIMIT ?",
            (window_seconds, batch),
        )
