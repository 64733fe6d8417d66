"""Creates the local demo accounts and prints them (`python -m services.order_ms.demo_accounts`).

Runs only where DEMO_ACCOUNTS is on, which is the default in local mode and off in the chart."""
from __future__ import annotations

import sys

from services.order_ms import store
from services.order_ms.passwords import hash_password
from services.order_ms.settings import get_settings
from services.platform.auth import ROLE_CUSTOMER, ROLE_STAFF
from services.platform.db import ConnectionPool

DEMO_ACCOUNTS = (
    ("USER0001", "coffee-demo-1", ROLE_CUSTOMER),
    ("barista", "coffee-demo-staff", ROLE_STAFF),
)


def main() -> int:
    settings = get_settings()
    if not settings.demo_accounts:
        print("demo accounts are off (DEMO_ACCOUNTS=false); nothing created")
        return 0
    pool = ConnectionPool(settings, size=1)
    for user_id, password, role in DEMO_ACCOUNTS:
        store.upsert_user(pool, user_id, hash_password(password), role)
    pool.close()
    print("demo accounts (local mode only):")
    for user_id, password, role in DEMO_ACCOUNTS:
        print(f"  {role:<8} user_id={user_id:<9} password={password}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
