"""Revocation in delivery-ms: a token is refused when its version is lower than the lowest its account allows, as
order-ms's `account_versions` events told this service's consumer (store.record_token_versions). An account never
heard of has revoked nothing. While those events cannot arrive (the broker or the consumer down), the versions
known last keep applying: delivery-ms fails open to them rather than refuse every caller, and a revocation made
meanwhile applies once the consumer catches up (docs/security.md#revocation)."""
from __future__ import annotations

from flask import current_app

from services.delivery_ms import store
from services.platform.auth import Principal
from services.platform.settings import Settings
from services.platform.token_versions import TokenVersionCache
from services.platform.web import db_pool

CACHE = "token_versions"  # the app extension holding the process's TokenVersionCache, made on first use


def token_version_cache(settings: Settings) -> TokenVersionCache:
    """A new cache of the service's token versions (every app gets its own on first use: cached())."""
    return TokenVersionCache(lambda user_id: store.lowest_token_version(db_pool(), user_id),
                             settings.token_version_cache_seconds)


def cached() -> TokenVersionCache:
    """The current app's cache: any app of the service (its API, its stream app) needs only to pass
    token_still_valid to create_service_app."""
    cache = current_app.extensions.get(CACHE)
    if cache is None:
        cache = current_app.extensions[CACHE] = token_version_cache(current_app.config["SETTINGS"])
    return cache


def token_still_valid(principal: Principal) -> bool:
    lowest = cached().version(principal.user_id)
    return lowest is None or principal.token_version >= lowest
