"""Throttling of logins and sign-ups, per client, so that nobody can lock a user out from elsewhere.

- Failed logins count per (user id, client) and per client (any user ids). Past LOGIN_MAX_FAILURES, that
  client's further attempts for that user id wait 1, 2, 4, ... seconds (at most LOGIN_LOCKOUT_SECONDS);
  past LOGIN_MAX_FAILURES_PER_CLIENT, the client's attempts for any user id do. The same user id from
  another client is not affected: guessing slows down, staff are never locked out by a stranger.
- Sign-ups count per client: past SIGNUP_MAX_PER_CLIENT in SIGNUP_WINDOW_SECONDS, refused until the window ends.
The counters live in the database (store.py), so every gunicorn worker and every replica sees the same ones."""
from __future__ import annotations

import hashlib

from services.order_ms import store
from services.order_ms.metrics import LOGIN_FAILURES, SIGNUPS_THROTTLED
from services.order_ms.settings import OrderSettings
from services.platform import problems
from services.platform.db import ConnectionPool

SCOPE_USER_CLIENT = "user_client"
SCOPE_CLIENT = "client"
SCOPE_SIGNUP = "signup"
# Stale rows removed per failed login, so the table stays small without a background job.
CLEANUP_BATCH = 100


def user_client_subject(user_id: str, client: str) -> str:
    """One key per (user id, client) that fits the subject column; user ids compare case-insensitively."""
    return hashlib.sha256(f"{user_id.lower()}\n{client}".encode("utf-8", "surrogatepass")).hexdigest()


def refuse_if_throttled(pool: ConnectionPool, user_id: str, client: str) -> None:
    """Raises the 429 answer while this client must wait before trying this user id again."""
    seconds = store.seconds_locked(pool, [(SCOPE_USER_CLIENT, user_client_subject(user_id, client)),
                                          (SCOPE_CLIENT, client)])
    if seconds > 0:
        LOGIN_FAILURES.labels("throttled").inc()
        raise problems.too_many_requests(
            "too-many-login-failures", "Too Many Failed Logins",
            "Too many failed logins for this user id from your address, or from your address for any user id.",
            f"Wait {seconds} seconds (see Retry-After), then log in with the right password.",
            retry_after=seconds,
        )


def record_failure(pool: ConnectionPool, settings: OrderSettings, user_id: str, client: str) -> None:
    """Counts a failed login against the (user id, client) pair and the client."""
    store.count_failures(pool, [(SCOPE_USER_CLIENT, user_client_subject(user_id, client), settings.login_max_failures),
                                (SCOPE_CLIENT, client, settings.login_max_failures_per_client)],
                         settings.login_lockout_seconds)
    store.remove_stale_counters(pool, max(settings.login_lockout_seconds, settings.signup_window_seconds),
                                CLEANUP_BATCH)


def record_success(pool: ConnectionPool, user_id: str, client: str) -> None:
    """A right password clears this pair's count; the client's stays, or one account would unlock guessing."""
    store.clear_failures(pool, SCOPE_USER_CLIENT, user_client_subject(user_id, client))


def count_signup(pool: ConnectionPool, settings: OrderSettings, client: str) -> None:
    """Counts a sign-up from `client`, and raises the 429 answer when that makes too many in the window."""
    seconds = store.count_signup(pool, SCOPE_SIGNUP, client, settings.signup_max_per_client,
                                 settings.signup_window_seconds)
    if seconds > 0:
        SIGNUPS_THROTTLED.inc()
        raise problems.too_many_requests(
            "too-many-signups", "Too Many Sign-Ups",
            "Too many accounts were created from your address in a short time.",
            f"Wait {seconds} seconds (see Retry-After) before creating another account, or log in to one you have.",
            retry_after=seconds,
        )
