"""Each account's token version as a service reads it from its own database, remembered per process for a few
seconds (TOKEN_VERSION_CACHE_SECONDS): revocation then costs a request a dictionary look-up, and one query per
account and process every few seconds. Each service decides what a version means (its TOKEN_STILL_VALID)."""
from __future__ import annotations

import threading
import time
from collections.abc import Callable

from flask import current_app

from services.platform.db import ConnectionPool
from services.platform.web import db_pool

# Accounts remembered per process; past it, entries older than the cache's age go, and if that is not enough,
# all of them (a burst of callers costs one query each again, never memory).
MAX_ACCOUNTS = 20_000
APP_CACHE = "token_versions"  # the app extension holding the app's TokenVersionCache, made on first use


class TokenVersionCache:
    """`lookup(user_id)` (the service's query: a version, or None) remembered for `max_age_seconds`."""

    def __init__(self, lookup: Callable[[str], int | None], max_age_seconds: float,
                 clock: Callable[[], float] = time.monotonic, max_accounts: int = MAX_ACCOUNTS):
        self._lookup = lookup
        self._max_age = max_age_seconds
        self._clock = clock
        self._max_accounts = max_accounts
        self._read: dict[str, tuple[int | None, float]] = {}
        self._lock = threading.Lock()

    def version(self, user_id: str, token_version: int | None = None) -> int | None:
        """The account's version, read again when the remembered one is older than the cache's age or, given the
        caller's `token_version`, lower than it (a token signed with a higher version proves it stale: the
        account logged in again after a logout this process has not seen yet)."""
        now = self._clock()
        with self._lock:
            remembered = self._read.get(user_id)
        if remembered is not None:
            version, read_at = remembered
            fresh = now - read_at < self._max_age
            stale_by_token = token_version is not None and version is not None and version < token_version
            if fresh and not stale_by_token:
                return version
        version = self._lookup(user_id)
        with self._lock:
            if len(self._read) >= self._max_accounts:
                self._drop_old(now)
            self._read[user_id] = (version, now)
        return version

    def forget(self, user_id: str) -> None:
        """This process changed the account's version: the next request reads it again."""
        with self._lock:
            self._read.pop(user_id, None)

    def _drop_old(self, now: float) -> None:
        self._read = {user_id: entry for user_id, entry in self._read.items() if now - entry[1] < self._max_age}
        if len(self._read) >= self._max_accounts:
            self._read = {}


def app_cache(query: Callable[[ConnectionPool, str], int | None]) -> TokenVersionCache:
    """The current app's cache of the service's `query(pool, user_id)`: every app of a service (its API, its stream
    app) makes its own on first use, with its own pool and TOKEN_VERSION_CACHE_SECONDS, so a service needs only
    to pass its TOKEN_STILL_VALID to create_service_app."""
    cache = current_app.extensions.get(APP_CACHE)
    if cache is None:
        max_age = current_app.config["SETTINGS"].token_version_cache_seconds
        cache = current_app.extensions[APP_CACHE] = TokenVersionCache(lambda user_id: query(db_pool(), user_id),
                                                                      max_age)
    return cache
