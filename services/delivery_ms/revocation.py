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

CACHE = "token_versions"  # the app extension holding the process's TokenVersionCache


def token_version_cache(settings: Settings) -> TokenVersionCache:
    return TokenVersionCache(lambda user_id: store.lowest_token_version(db_pool(), user_id),
                             settings.token_version_cache_seconds)


def token_still_valid(principal: Principal) -> bool:
    lowest = current_app.extensions[CACHE].version(principal.user_id)
    return lowest is None or principal.token_version >= lowest
