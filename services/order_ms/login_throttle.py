"""Login throttling: too many failed logins for one user id or from one client lock it out for a while.

The counters live in the `login_throttle` table, so every gunicorn worker and every replica sees the
same ones; all times come from the database's clock for the same reason."""
from __future__ import annotations

from services.common.db import ConnectionPool
from services.common.problems import Problem
from services.common.settings import Settings
from services.order_ms.metrics import LOGIN_FAILURES

SCOPE_USER = "user"
SCOPE_CLIENT = "client"
# Stale rows removed per failed login, so the table stays small without a background job.
CLEANUP_BATCH = 100

# One failure: start a new window when the old one is over, count, and lock once the limit is reached.
# MariaDB evaluates these assignments left to right, each seeing the ones before it.
_RECORD_FAILURE = (
    "INSERT INTO login_throttle (scope, subject, failures, window_started_at, locked_until)"
    " VALUES (?, ?, 1, UTC_TIMESTAMP(6), IF(1 >= ?, UTC_TIMESTAMP(6) + INTERVAL ? SECOND, NULL))"
    " ON DUPLICATE KEY UPDATE"
    " failures = IF(window_started_at <= UTC_TIMESTAMP(6) - INTERVAL ? SECOND, 1, failures + 1),"
    " window_started_at = IF(failures = 1, UTC_TIMESTAMP(6), window_started_at),"
    " locked_until = IF(failures >= ?, UTC_TIMESTAMP(6) + INTERVAL ? SECOND, locked_until)"
)


def seconds_locked(pool: ConnectionPool, user_id: str, client: str) -> int:
    """Seconds until both the user id and the client may try again; 0 when neither is locked."""
    with pool.transaction() as cursor:
        cursor.execute(
            "SELECT CEIL(MAX(TIMESTAMPDIFF(MICROSECOND, UTC_TIMESTAMP(6), locked_until)) / 1000000) AS seconds"
            " FROM login_throttle WHERE locked_until > UTC_TIMESTAMP(6)"
            " AND ((scope = ? AND subject = ?) OR (scope = ? AND subject = ?))",
            (SCOPE_USER, user_id, SCOPE_CLIENT, client),
        )
        row = cursor.fetchone()
    return max(int(row["seconds"] or 0), 0)


def refuse_if_locked(pool: ConnectionPool, user_id: str, client: str) -> None:
    """Raises the 429 answer while the user id or the client is locked out."""
    seconds = seconds_locked(pool, user_id, client)
    if seconds > 0:
        LOGIN_FAILURES.labels("locked_out").inc()
        raise Problem(
            429, "too-many-login-failures", "Too Many Failed Logins",
            "Login is locked after too many failed attempts for this user id or from this address.",
            f"Wait {seconds} seconds (see Retry-After), then log in with the right password.",
            headers={"Retry-After": str(seconds)}, retry_after=seconds,
        )


def record_failure(pool: ConnectionPool, settings: Settings, user_id: str, client: str) -> None:
    """Counts a failed login against the user id and the client, locking whichever reached its limit."""
    lockout = settings.login_lockout_seconds
    with pool.transaction() as cursor:
        for scope, subject, limit in ((SCOPE_USER, user_id, settings.login_max_failures),
                                      (SCOPE_CLIENT, client, settings.login_max_failures_per_client)):
            cursor.execute(_RECORD_FAILURE, (scope, subject, limit, lockout, lockout, limit, lockout))
    _remove_stale(pool, lockout)


def record_success(pool: ConnectionPool, user_id: str) -> None:
    """A right password clears the user id's count; the client's stays, or one account would unlock guessing."""
    with pool.transaction() as cursor:
        cursor.execute("DELETE FROM login_throttle WHERE scope = ? AND subject = ?", (SCOPE_USER, user_id))


def _remove_stale(pool: ConnectionPool, lockout_seconds: int) -> None:
    with pool.transaction() as cursor:
        # READ COMMITTED takes no gap locks, so this sweep never blocks concurrent failures being counted.
        cursor.execute("SET TRANSACTION ISOLATION LEVEL READ COMMITTED")
        cursor.execute(
            "DELETE FROM login_throttle WHERE window_started_at <= UTC_TIMESTAMP(6) - INTERVAL ? SECOND"
            " AND (locked_until IS NULL OR locked_until <= UTC_TIMESTAMP(6)) LIMIT ?",
            (lockout_seconds, CLEANUP_BATCH),
        )
