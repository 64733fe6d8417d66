"""Throttling of logins and sign-ups, per client, so that nobody can lock a user out from elsewhere.

- Failed logins count per (user id, client) and per client (any user ids); each login counts as a failure
  before its password is checked and a right password takes it back, so parallel guesses are counted exactly.
  Past LOGIN_MAX_FAILURES, that client's further attempts for that user id wait 1, 2, 4, ... seconds (at most
  LOGIN_LOCKOUT_SECONDS); past LOGIN_MAX_FAILURES_PER_CLIENT, the client's attempts for any user id do.
  The same user id from another client is not affected: guessing slows down, staff are never locked out by a stranger.
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


def _counters(settings: OrderSettings, user_id: str, client: str) -> list[tuple[str, str, int]]:
    return [(SCOPE_USER_CLIENT, user_client_subject(user_id, client), settings.login_max_failures),
            (SCOPE_CLIENT, client, settings.login_max_failures_per_client)]


def reserve_attempt(pool: ConnectionPool, settings: OrderSettings, user_id: str, client: str) -> None:
    """Counts this login as a failure before its password is checked, or raises the 429 answer while this client
    must wait before trying this user id again.

    Counted up front, in one short transaction, so that a burst of parallel guesses gets no more password checks
    than the limit; the row locks end before the (slow, argon2) check, so parallel logins never queue behind one.
    A right password takes its count back (release_attempt). The price: more than LOGIN_MAX_FAILURES logins of
    one user id from one client at the very same moment may get 429 even with the right password."""
    seconds = store.count_failure_unless_locked(pool, _counters(settings, user_id, client),
                                                settings.login_lockout_seconds)
    if seconds > 0:
        LOGIN_FAILURES.labels("throttled").inc()
        raise problems.too_many_requests(
            "too-many-login-failures", "Too Many Failed Logins",
            "Too many failed logins for this user id from your address, or from your address for any user id.",
            f"Wait {seconds} seconds (see Retry-After), then log in with the right password.",
            retry_after=seconds,
        )


def remove_stale_counters(pool: ConnectionPool, settings: OrderSettings) -> None:
    """Drops a batch of counters whose time is over; called on failed logins, which are what makes counters."""
    store.remove_stale_counters(pool, max(settings.login_lockout_seconds, settings.signup_window_seconds),
                                CLEANUP_BATCH)


def release_attempt(pool: ConnectionPool, settings: OrderSettings, user_id: str, client: str) -> None:
    """A right password clears this pair's count; the client's only loses this attempt, or one account would
    unlock guessing."""
    pair, per_client = _counters(settings, user_id, client)
    store.take_back_failure(pool, pair[:2], per_client)


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
