"""All SQL of order-ms: orders with their outbox row, user accounts with their token versions, the login and
sign-up counters and the device tokens."""
from __future__ import annotations

from services.contracts import account_tokens_revoked, order_created
from services.platform.db import READ_COMMITTED, ConnectionPool, is_duplicate_key
from services.platform.ids import new_id
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
        "order_id": new_id(),
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
# One more event in a fixed window (sign-ups): at the limit, refused until the window is over.
_COUNT_IN_WINDOW = (
    "INSERT INTO login_throttle (scope, subject, failures, window_started_at, locked_until)"
    " VALUES (?, ?, 1, UTC_TIMESTAMP(6), IF(1 >= ?, UTC_TIMESTAMP(6) + INTERVAL ? SECOND, NULL))"
    " ON DUPLICATE KEY UPDATE"
    " failures = IF(window_started_at <= UTC_TIMESTAMP(6) - INTERVAL ? SECOND, 1, failures + 1),"
    " window_started_at = IF(failures = 1, UTC_TIMESTAMP(6), window_started_at),"
    " locked_until = IF(failures >= ?, window_started_at + INTERVAL ? SECOND, locked_until)"
)
# A held rate counter whose window is over starts a new, empty one.
_RENEW_WINDOW = (
    "UPDATE login_throttle SET failures = IF(window_started_at <= UTC_TIMESTAMP(6) - INTERVAL ? SECOND, 0, failures),"
    " window_started_at = IF(failures = 0, UTC_TIMESTAMP(6), window_started_at) WHERE scope = ? AND subject = ?"
)
_WINDOW_LEFT = (
    "SELECT failures AS counted, CEIL(TIMESTAMPDIFF(MICROSECOND, UTC_TIMESTAMP(6),"
    " window_started_at + INTERVAL ? SECOND) / 1000000) AS seconds"
    " FROM login_throttle WHERE scope = ? AND subject = ?"
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


def admit_login(pool: ConnectionPool, locks: list[tuple[str, str, int]], rates: list[tuple[str, str, int]],
                lockout_seconds: int, rate_window_seconds: int) -> tuple[int, str | None]:
    """(0, None) when a login may have its password checked, after counting it as one more failure on each (scope,
    subject, limit) of `locks` and one more login on each of `rates`; else nothing counted, the seconds until it
    may, and the scope that refused it: a lock that holds, or a rate whose window already holds `limit` logins.

    The rows are held first, then read and counted in the same transaction, so parallel attempts on a counter are
    judged one at a time: no more of them get past it than its limit. A refused attempt counts nothing, or
    waiting would lengthen the wait; that is why this reads before it counts, unlike count_in_window."""
    with pool.transaction() as cursor:
        for scope, subject, _limit in (*locks, *rates):
            cursor.execute(_HOLD_COUNTER, (scope, subject))
        condition = " OR ".join(["(scope = ? AND subject = ?)"] * len(locks))
        cursor.execute(
            "SELECT scope, CEIL(TIMESTAMPDIFF(MICROSECOND, UTC_TIMESTAMP(6), locked_until) / 1000000) AS seconds"
            f" FROM login_throttle WHERE locked_until > UTC_TIMESTAMP(6) AND ({condition})"
            " ORDER BY locked_until DESC LIMIT 1 FOR UPDATE",
            tuple(value for scope, subject, _limit in locks for value in (scope, subject)),
        )
        locked = cursor.fetchone()
        if locked and int(locked["seconds"] or 0) > 0:
            return int(locked["seconds"]), locked["scope"]
        refused: tuple[int, str | None] = (0, None)
        for scope, subject, limit in rates:
            cursor.execute(_RENEW_WINDOW, (rate_window_seconds, scope, subject))
            cursor.execute(_WINDOW_LEFT, (rate_window_seconds, scope, subject))
            row = cursor.fetchone()
            if int(row["counted"]) >= limit:
                refused = max(refused, (max(int(row["seconds"] or 0), 1), scope))
        if refused[0]:
            return refused
        for scope, subject, limit in locks:
            cursor.execute(_COUNT_FAILURE, (scope, subject, limit, lockout_seconds, limit, lockout_seconds, limit))
        for scope, subject, _limit in rates:
            cursor.execute("UPDATE login_throttle SET failures = failures + 1 WHERE scope = ? AND subject = ?",
                           (scope, subject))
    return 0, None


def count_in_window(pool: ConnectionPool, scope: str, subject: str, limit: int, window_seconds: int) -> int:
    """Counts one more event and returns 0 while the count is within `limit`, else the seconds left in the window.

    Counted first, then read back in the same transaction: the upsert locks the counter's row until the commit,
    so parallel events on one counter are counted one at a time and at most `limit` of them get 0."""
    with pool.transaction() as cursor:
        cursor.execute(_COUNT_IN_WINDOW, (scope, subject, limit, window_seconds, window_seconds, limit,
                                          window_seconds))
        cursor.execute(_WINDOW_LEFT, (window_seconds, scope, subject))
        row = cursor.fetchone()
    if int(row["counted"]) <= limit:
        return 0
    return max(int(row["seconds"] or 0), 1)


def take_back_count(pool: ConnectionPool, scope: str, subject: str) -> None:
    """One event fewer on a window's counter: a sign-up its client was charged for but another limit refused."""
    with pool.transaction() as cursor:
        cursor.execute("UPDATE login_throttle SET failures = GREATEST(failures, 1) - 1 WHERE scope = ? AND subject = ?",
                       (scope, subject))


def take_back_failure(pool: ConnectionPool, cleared: tuple[str, str], uncounted: tuple[str, str, int] | None) -> None:
    """Drops the `cleared` (scope, subject) counter and takes one failure back from the `uncounted` (scope, subject,
    limit) one, if any, locking them in the order admit_login does; a counter left at 0 goes too."""
    with pool.transaction() as cursor:
        cursor.execute("DELETE FROM login_throttle WHERE scope = ? AND subject = ?", cleared)
        if uncounted is not None:
            scope, subject, limit = uncounted
            cursor.execute(_UNCOUNT_FAILURE, (limit, scope, subject))
            cursor.execute("DELETE FROM login_throttle WHERE scope = ? AND subject = ? AND failures = 0"
                           " AND locked_until IS NULL", (scope, subject))


def remove_stale_counters(pool: ConnectionPool, window_seconds: int, batch: int) -> None:
    """Drop up to `batch` counters whose window and lock are over, so the table stays small without a job."""
    # READ COMMITTED takes no gap locks, so this sweep never blocks concurrent failures being counted.
    with pool.transaction(isolation=READ_COMMITTED) as cursor:
        cursor.execute(
            "DELETE FROM login_throttle WHERE window_started_at <= UTC_TIMESTAMP(6) - INTERVAL ? SECOND"
            " AND (locked_until IS NULL OR locked_until <= UTC_TIMESTAMP(6)) LIMIT ?",
            (window_seconds, batch),
        )


# --- device tokens (device_tokens.py): only their SHA-256, one row per account each vouches for --------------

def device_vouches(pool: ConnectionPool, token_hash: str, user_id: str, ttl_seconds: int) -> bool:
    """True when the token logged in to the account `user_id` (any letter case) within the last `ttl_seconds`."""
    with pool.transaction() as cursor:
        cursor.execute("SELECT 1 AS found FROM login_devices WHERE token_hash = ? AND user_key = LOWER(?)"
                       " AND last_login_at > UTC_TIMESTAMP(6) - INTERVAL ? SECOND", (token_hash, user_id, ttl_seconds))
        return cursor.fetchone() is not None


def device_known(pool: ConnectionPool, token_hash: str, ttl_seconds: int) -> bool:
    """True when the service issued the token and it logged in to some account within the last `ttl_seconds`."""
    with pool.transaction() as cursor:
        cursor.execute("SELECT 1 AS found FROM login_devices WHERE token_hash = ?"
                       " AND last_login_at > UTC_TIMESTAMP(6) - INTERVAL ? SECOND LIMIT 1", (token_hash, ttl_seconds))
        return cursor.fetchone() is not None


# Expired device rows removed per login that records one, so the table stays small without a job.
_DEVICE_CLEANUP_BATCH = 100


def remember_device(pool: ConnectionPool, token_hash: str, user_id: str, ttl_seconds: int, keep: int) -> None:
    """Records a login of `user_id` with the token; an account keeps only its `keep` most recently used devices,
    so a loop of logins without the token cannot grow the table, and a batch of expired rows goes too."""
    with pool.transaction() as cursor:
        cursor.execute(
            "INSERT INTO login_devices (token_hash, user_key, issued_at, last_login_at)"
            " VALUES (?, LOWER(?), UTC_TIMESTAMP(6), UTC_TIMESTAMP(6))"
            " ON DUPLICATE KEY UPDATE last_login_at = UTC_TIMESTAMP(6)", (token_hash, user_id))
        cursor.execute("SELECT last_login_at FROM login_devices WHERE user_key = LOWER(?)"
                       " ORDER BY last_login_at DESC LIMIT 1 OFFSET ?", (user_id, keep))
        oldest_kept_out = cursor.fetchone()
        if oldest_kept_out is not None:
            cursor.execute("DELETE FROM login_devices WHERE user_key = LOWER(?) AND last_login_at <= ?",
                           (user_id, oldest_kept_out["last_login_at"]))
    with pool.transaction(isolation=READ_COMMITTED) as cursor:
        cursor.execute("DELETE FROM login_devices WHERE last_login_at <= UTC_TIMESTAMP(6) - INTERVAL ? SECOND LIMIT ?",
                       (ttl_seconds, _DEVICE_CLEANUP_BATCH))
