"""Login throttling: too many failed logins for one user id or from one client lock it out for a while.

The counters live in the database (store.py), so every gunicorn worker and every replica sees the same ones."""
from __future__ import annotations

from services.order_ms import store
from services.order_ms.metrics import LOGIN_FAILURES
from services.order_ms.settings import OrderSettings
from services.platform import problems
from services.platform.db import ConnectionPool

SCOPE_USER = "user"
SCOPE_CLIENT = "client"
# Stale rows removed per failed login, so the table stays small without a background job.
CLEANUP_BATCH = 100


def refuse_if_locked(pool: ConnectionPool, user_id: str, client: str) -> None:
    """Raises the 429 answer while the user id or the client is locked out."""
    seconds = store.seconds_locked(pool, [(SCOPE_USER, user_id), (SCOPE_CLIENT, client)])
    if seconds > 0:
        LOGIN_FAILURES.labels("locked_out").inc()
        raise problems.too_many_requests(
            "too-many-login-failures", "Too Many Failed Logins",
            "Login is locked after too many failed attempts for this user id or from this address.",
            f"Wait {seconds} seconds (see Retry-After), then log in with the right password.",
            retry_after=seconds,
        )


def record_failure(pool: ConnectionPool, settings: OrderSettings, user_id: str, client: str) -> None:
    """Counts a failed login against the user id and the client, locking whichever reached its limit."""
    store.count_failures(pool, [(SCOPE_USER, user_id, settings.login_max_failures),
                                (SCOPE_CLIENT, client, settings.login_max_failures_per_client)],
                         settings.login_lockout_seconds)
    store.remove_stale_failures(pool, settings.login_lockout_seconds, CLEANUP_BATCH)


def record_success(pool: ConnectionPool, user_id: str) -> None:
    """A right password clears the user id's count; the client's stays, or one account would unlock guessing."""
    store.clear_failures(pool, SCOPE_USER, user_id)
