"""order-ms business metrics: orders created, cancel requests, refused logins and throttled sign-ups (summed over
gunicorn workers at scrape time)."""
from __future__ import annotations

from prometheus_client import Counter

ORDERS_CREATED = Counter("orders_created_total", "Orders created; an idempotent replay is not counted.")
# What became of a customer's cancel request at the endpoint: accepted (PENDING, sent to delivery-ms), or refused
# because one was requested before, or because the delivery is known to be past CONFIRMED.
CANCEL_REQUESTS = Counter("order_cancel_requests_total", "Customers' cancel requests, by what the endpoint answered.",
                          ["outcome"])
CANCEL_OUTCOMES = ("accepted", "already_requested", "not_allowed")
# One reason for any wrong user id or password: a metric must not tell which user ids exist.
LOGIN_FAILURES = Counter("login_failures_total", "Refused logins, by reason.", ["reason"])
LOGIN_FAILURE_REASONS = ("invalid_credentials", "throttled", "busy")
SIGNUPS_THROTTLED = Counter("signups_throttled_total", "Sign-ups refused because their client made too many.")
# Every reason starts at 0, so rate() and increase() see the first failure.
for _reason in LOGIN_FAILURE_REASONS:
    LOGIN_FAILURES.labels(_reason)
for _outcome in CANCEL_OUTCOMES:
    CANCEL_REQUESTS.labels(_outcome)
