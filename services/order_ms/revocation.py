"""Revocation in order-ms, which owns the accounts: a token is valid while its account exists and still has the
token's version (docs/security.md#revocation). A logout, a role change and a deletion raise the version
(store.revoke_tokens), with an `account_versions` event that tells delivery-ms."""
from __future__ import annotations

from flask import has_app_context

from services.order_ms import store
from services.order_ms.metrics import TOKEN_REVOCATIONS
from services.platform.auth import Principal
from services.platform.db import ConnectionPool
from services.platform.token_versions import TokenVersionCache, app_cache


def cached() -> TokenVersionCache:
    """This app's remembered token versions (services/platform/token_versions.py)."""
    return app_cache(store.token_version)


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
