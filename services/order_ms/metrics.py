"""order-ms business metrics: orders created and failed logins (summed over gunicorn workers at scrape time)."""
from __future__ import annotations

from prometheus_client import Counter

ORDERS_CREATED = Counter("orders_created_total", "Orders created; an idempotent replay is not counted.")
LOGIN_FAILURES = Counter("login_failures_total", "Refused logins, by reason.", ["reason"])
LOGIN_FAILURE_REASONS = ("unknown_user", "wrong_password", "locked_out")
# Every reason starts at 0, so rate() and increase() see the first failure.
for _reason in LOGIN_FAILURE_REASONS:
    LOGIN_FAILURES.labels(_reason)
