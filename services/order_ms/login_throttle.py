"""Throttling of logins and sign-ups: guessing slows down, hashing cannot take the workers, and nobody is
locked out by strangers (docs/security.md#throttles, after OWASP's guidance on lockouts and device cookies).

Logins come in two kinds (device_tokens.py):
- From a device that has logged in to the account before (it returns its device token): judged only by that
  (account, device)'s own counters, LOGIN_MAX_FAILURES failures, then slow-downs of 1, 2, 4, ... seconds, and
  LOGIN_MAX_PER_DEVICE logins in LOGIN_RATE_WINDOW_SECONDS. Nothing anyone else does, from any address,
  touches them: the owner's right password goes through a flood of other people's failures.
- From anywhere else: failed logins count per (user id, client address) and per client address (any user
  ids), with the same slow-downs past LOGIN_MAX_FAILURES and LOGIN_MAX_FAILURES_PER_CLIENT; and logins,
  successful ones included, count per client address (LOGIN_MAX_PER_CLIENT) and per account
  (LOGIN_MAX_PER_ACCOUNT) in LOGIN_RATE_WINDOW_SECONDS.
Each login is counted before its password is checked (an argon2id hash of 46 MiB) and a right password takes
back only its failure, so parallel attempts are counted exactly and a loop of right passwords is slowed too;
the ones admitted are checked at most LOGIN_CONCURRENCY at once per instance (login_slots.py).

Sign-ups count per client address, SIGNUP_MAX_PER_CLIENT (or its network's limit in SIGNUP_NETWORK_LIMITS) in
SIGNUP_WINDOW_SECONDS, and of all clients together, SIGNUP_MAX_TOTAL: one address spends at most its own
allowance of the whole. The counters live in the database (store.py): every worker and replica shares them."""
from __future__ import annotations

import hashlib
import ipaddress

from services.order_ms import store
from services.order_ms.metrics import LOGIN_FAILURES, SIGNUPS_THROTTLED
from services.order_ms.settings import OrderSettings
from services.platform import problems
from services.platform.db import ConnectionPool

SCOPE_USER_CLIENT = "user_client"
SCOPE_CLIENT = "client"
SCOPE_DEVICE = "device"
SCOPE_LOGIN_CLIENT = "login_client"
SCOPE_LOGIN_ACCOUNT = "login_account"
SCOPE_LOGIN_DEVICE = "login_device"
SCOPE_SIGNUP = "signup"
SCOPE_SIGNUP_ALL = "signup_all"
SIGNUP_ALL_SUBJECT = "all"
# Stale rows removed per failed login, so the table stays small without a background job.
CLEANUP_BATCH = 100
LOGIN_RATE_DETAILS = {
    SCOPE_LOGIN_CLIENT: "Too many logins from your address in a short time.",
    SCOPE_LOGIN_ACCOUNT: "Too many logins for this user id in a short time.",
    SCOPE_LOGIN_DEVICE: "Too many logins for this user id from this device in a short time.",
}
REUSE_TOKEN_HINT = "your access token stays valid for its expires_in seconds: log in once and reuse it"


def _subject(*parts: str) -> str:
    """One key that fits the subject column; user ids compare case-insensitively."""
    return hashlib.sha256("\n".join(parts).encode("utf-8", "surrogatepass")).hexdigest()


def user_client_subject(user_id: str, client: str) -> str:
    return _subject(user_id.lower(), client)


def account_subject(user_id: str) -> str:
    return _subject("account", user_id.lower())


def device_subject(user_id: str, device: str) -> str:
    """`device` is the device token's hash (device_tokens.token_hash)."""
    return _subject("device", user_id.lower(), device)


def _locks(settings: OrderSettings, user_id: str, client: str, device: str | None) -> list[tuple[str, str, int]]:
    if device:
        return [(SCOPE_DEVICE, device_subject(user_id, device), settings.login_max_failures)]
    return [(SCOPE_USER_CLIENT, user_client_subject(user_id, client), settings.login_max_failures),
            (SCOPE_CLIENT, client, settings.login_max_failures_per_client)]


def _rates(settings: OrderSettings, user_id: str, client: str, device: str | None) -> list[tuple[str, str, int]]:
    if device:
        return [(SCOPE_LOGIN_DEVICE, device_subject(user_id, device), settings.login_max_per_device)]
    return [(SCOPE_LOGIN_CLIENT, client, settings.login_max_per_client),
            (SCOPE_LOGIN_ACCOUNT, account_subject(user_id), settings.login_max_per_account)]


def reserve_attempt(pool: ConnectionPool, settings: OrderSettings, user_id: str, client: str,
                    device: str | None = None) -> None:
    """Counts this login as a failure and as a login before its password is checked, or raises the 429 answer
    while it must wait; `device` is the hash of a device token that vouches for this user id (or None).

    Counted up front, in one short transaction, so that a burst of parallel attempts gets no more password checks
    than the limits; the row locks end before the (slow, argon2) check, so parallel logins never queue behind one.
    A right password takes its failure back (release_attempt), never its login. The price: more than
    LOGIN_MAX_FAILURES logins of one user id from one client at the very same moment may get 429 even with the
    right password."""
    locks, rates = _locks(settings, user_id, client, device), _rates(settings, user_id, client, device)
    seconds, scope = store.admit_login(pool, locks, rates, settings.login_lockout_seconds,
                                       settings.login_rate_window_seconds)
    if seconds <= 0:
        return
    LOGIN_FAILURES.labels("throttled").inc()
    if scope in LOGIN_RATE_DETAILS:
        raise problems.too_many_requests(
            "too-many-logins", "Too Many Logins", LOGIN_RATE_DETAILS[scope],
            f"Wait {seconds} seconds (see Retry-After) before logging in again; {REUSE_TOKEN_HINT}.",
            retry_after=seconds,
        )
    raise problems.too_many_requests(
        "too-many-login-failures", "Too Many Failed Logins",
        "Too many failed logins for this user id from this device." if device else
        "Too many failed logins for this user id from your address, or from your address for any user id.",
        f"Wait {seconds} seconds (see Retry-After), then log in with the right password.",
        retry_after=seconds,
    )


def remove_stale_counters(pool: ConnectionPool, settings: OrderSettings) -> None:
    """Drops a batch of counters whose time is over; called on failed logins, which are what makes counters."""
    store.remove_stale_counters(pool, max(settings.login_lockout_seconds, settings.signup_window_seconds,
                                          settings.login_rate_window_seconds), CLEANUP_BATCH)


def release_attempt(pool: ConnectionPool, settings: OrderSettings, user_id: str, client: str,
                    device: str | None = None) -> None:
    """A right password clears its own failure count (the pair's, or the device's); the client's only loses this
    attempt, or one account would unlock guessing. The logins counted stay counted."""
    locks = _locks(settings, user_id, client, device)
    store.take_back_failure(pool, locks[0][:2], locks[1] if len(locks) > 1 else None)


def signup_limit_for(settings: OrderSettings, client: str) -> int:
    """SIGNUP_MAX_PER_CLIENT, or the limit of the most specific network of SIGNUP_NETWORK_LIMITS that holds
    `client` (an address, or an IPv6 /64 as client_address.py makes it)."""
    try:
        network = ipaddress.ip_network(client, strict=False)
    except ValueError:
        return settings.signup_max_per_client
    for listed, limit in settings.signup_network_limits:
        if listed.version == network.version and network.subnet_of(listed):
            return limit
    return settings.signup_max_per_client


def count_signup(pool: ConnectionPool, settings: OrderSettings, client: str) -> None:
    """Counts a sign-up from `client` against its allowance and then against everyone's, and raises the 429 answer
    when either is spent; a client over its own allowance never spends more of everyone's."""
    seconds = store.count_in_window(pool, SCOPE_SIGNUP, client, signup_limit_for(settings, client),
                                    settings.signup_window_seconds)
    if seconds > 0:
        SIGNUPS_THROTTLED.inc()
        raise problems.too_many_requests(
            "too-many-signups", "Too Many Sign-Ups",
            "Too many accounts were created from your address in a short time.",
            f"Wait {seconds} seconds (see Retry-After) before creating another account, or log in to one you have."
            " If many people share your network's address, ask the service's operator to raise its allowance.",
            retry_after=seconds,
        )
    seconds = store.count_in_window(pool, SCOPE_SIGNUP_ALL, SIGNUP_ALL_SUBJECT, settings.signup_max_total,
                                    settings.signup_window_seconds)
    if seconds > 0:
        store.take_back_count(pool, SCOPE_SIGNUP, client)
        SIGNUPS_THROTTLED.inc()
        raise problems.too_many_requests(
            "signups-paused", "Sign-Ups Paused",
            "Too many accounts were created in a short time, from all addresses together.",
            f"Wait {seconds} seconds (see Retry-After), then sign up again; an account you have still logs in.",
            retry_after=seconds,
        )
