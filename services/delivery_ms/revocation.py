"""Revocation in delivery-ms: a token is refused when its version is lower than the lowest its account allows, as
order-ms's `account_versions` events told this service's consumer (store.record_token_versions). An account never
heard of has revoked nothing. While those events cannot arrive (the broker or the consumer down), the versions
known last keep applying: delivery-ms fails open to them rather than refuse every caller, and a revocation made
meanwhile applies once the consumer catches up (docs/security.md#revocation)."""
from __future__ import annotations

from services.delivery_ms import store
from services.platform.auth import Principal
from services.platform.token_versions import TokenVersionCache, app_cache


def cached() -> TokenVersionCache:
    """This app's remembered token versions (services/platform/token_versions.py)."""
    return app_cache(store.lowest_token_version)


def token_still_valid(principal: Principal) -> bool:
    lowest = cached().version(principal.user_id)
    return lowest is None or principal.token_version >= lowest
