"""Revocation in order-ms, which owns the accounts: a token is valid while its account exists and still has the
token's version (docs/security.md#revocation). A logout, a role change and a deletion raise the version
(store.revoke_tokens), with an `account_versions` event that tells delivery-ms."""
from __future__ import annotations

from flask import current_app, has_app_context

from services.order_ms import store
from services.order_ms.metrics import TOKEN_REVOCATIONS
from services.platform.auth import Principal
from services.platform.db import ConnectionPool
from services.platform.settings import Settings
from services.platform.token_versions import TokenVersionCache
from services.platform.web import db_pool

CACHE = "token_versions"  # the app extension holding the process's TokenVersionCache, made on first use


def token_version_cache(settings: Settings) -> TokenVersionCache:
    """A new cache of the service's token versions (every app gets its own on first use: cached())."""
    return TokenVersionCache(lambda user_id: store.token_version(db_pool(), user_id),
                             settings.token_version_cache_seconds)


def cached() -> TokenVersionCache:
    """The current app's cache: any app of the service (its API, its stream app) needs only to pass
    token_still_valid to create_service_app."""
    cache = current_app.extensions.get(CACHE)
    if cache is None:
        cache = current_app.extensions[CACHE] = token_version_cache(current_app.config["SETTINGS"])
    return cache


def token_still_valid(principal: Principal) -> bool:
    """Exactly the account's current version: lower ones were revoked; a deleted account has none. A higher one
    proves what this process remembers stale (a login on another instance after a logout), so it reads again."""
    current = cached().version(principal.user_id, principal.token_version)
    return current == principal.token_version


def revoke(pool: ConnectionPool, user_id: str, reason: str, role: str | None = None) -> dict | None:
    """store.revoke_tokens, counted, and forgotten by this process's cache when it runs in one (an operator's
    command does not: the services read the new version within TOKEN_VERSION_CACHE_SECONDS)."""
    account = store.revoke_tokens(pool, user_id, reason, role)
    if account is not None:
        TOKEN_REVOCATIONS.labels(reason.lower()).inc()
        if has_app_context():
            cached().forget(user_id)
    return account
