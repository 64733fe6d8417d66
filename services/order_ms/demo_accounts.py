"""Creates the local demo accounts and prints them (`python -m services.order_ms.demo_accounts`).

Runs only where DEMO_ACCOUNTS is on: the default in local mode, refused outside it (settings.py). Each account
is created once and never updated: an existing account of that user id (in any case), with whatever password
and role it has now, is left as it is, so running this again never resets a password or promotes anyone."""
from __future__ import annotations

import sys

from services.order_ms import store
from services.order_ms.passwords import hash_password
from services.order_ms.settings import get_settings
from services.platform.auth import ROLE_CUSTOMER, ROLE_STAFF
from services.platform.db import ConnectionPool
from services.platform.settings import SettingsError

DEMO_ACCOUNTS = (
    ("USER0001", "coffee-demo-1", ROLE_CUSTOMER),
    ("barista", "coffee-demo-staff", ROLE_STAFF),
)


def main() -> int:
    try:
        settings = get_settings()
    except SettingsError as refused:
        print(f"demo accounts refused: {refused}", file=sys.stderr)
        return 2
    if not settings.demo_accounts:
        print("demo accounts are off (DEMO_ACCOUNTS=false); nothing created")
        return 0
    pool = ConnectionPool(settings, size=1)
    try:
        created = [store.create_user(pool, user_id, hash_password(password), role) is not None
                   for user_id, password, role in DEMO_ACCOUNTS]
    finally:
        pool.close()
    print("demo accounts (local mode only):")
    for (user_id, password, role), new in zip(DEMO_ACCOUNTS, created, strict=True):
        state = "created" if new else "exists, left as it is"
        print(f"  {role:<8} user_id={user_id:<9} password={password}  ({state})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
