"""order-ms business metrics: orders created, refused logins and throttled sign-ups (summed over gunicorn
workers at scrape time)."""
from __future__ import annotations

from prometheus_client import Counter

ORDERS_CREATED = Counter("orders_created_total", "Orders created; an idempotent replay is not counted.")
# One reason for any wrong user id or password: a metric must not tell which user ids exist.
LOGIN_FAILURES = Counter("login_failures_total", "Refused logins, by reason.", ["reason"])
LOGIN_FAILURE_REASONS = ("invalid_credentials", "throttled", "busy")
SIGNUPS_THROTTLED = Counter("signups_throttled_total", "Sign-ups refused because their client made too many.")
TOKEN_REVOCATIONS = Counter("token_revocations_total", "Accounts whose tokens were revoked, by reason.", ["reason"])
TOKEN_REVOCATION_REASONS = ("logout", "role_changed", "deleted")
# Every reason starts at 0, so rate() and increase() see the first failure.
for _reason in LOGIN_FAILURE_REASONS:
    LOGIN_FAILURES.labels(_reason)
for _reason in TOKEN_REVOCATION_REASONS:
    TOKEN_REVOCATIONS.labels(_reason)
