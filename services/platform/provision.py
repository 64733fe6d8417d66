"""Creates each service's database with its two users: `python -m services.platform.provision < spec.json`.

The owner gets every privilege on its database and runs the migrations; the app user can only read and
write rows, so a running service can neither change the schema nor reach another service's data. Run with
the server's admin account (DB_ADMIN_USER / DB_ADMIN_PASSWORD, at DB_HOST:DB_PORT); safe to repeat (the
passwords and grants are set again). The spec on stdin:

    [{"database": "shop",
      "owner": {"user": "shop_owner", "password": "..."},
      "app": {"user": "shop_app", "password": "..."}}, ...]

The local stack and the container smoke use it; in Kubernetes the MariaDB chart's init script does the same.
"""
from __future__ import annotations

import json
import re
import sys
from dataclasses import dataclass

import mariadb

from services.platform.settings import env_int, env_str

APP_PRIVILEGES = "SELECT, INSERT, UPDATE, DELETE"
# MariaDB names: databases up to 64 characters, users up to 80 (kept to 64 here for older servers).
_NAME = re.compile(r"[A-Za-z0-9_]{1,64}")


@dataclass(frozen=True)
class Account:
    user: str
    password: str


@dataclass(frozen=True)
class ServiceDatabase:
    database: str
    owner: Account
    app: Account

    def app_env(self) -> dict[str, str]:
        """DB_NAME, DB_USER and DB_PASSWORD of the service's processes."""
        return {"DB_NAME": self.database, "DB_USER": self.app.user, "DB_PASSWORD": self.app.password}

    def owner_env(self) -> dict[str, str]:
        """The same for its migrations."""
        return {"DB_NAME": self.database, "DB_USER": self.owner.user, "DB_PASSWORD": self.owner.password}

    @classmethod
    def from_json(cls, item: dict) -> ServiceDatabase:
        spec = cls(item["database"], Account(**item["owner"]), Account(**item["app"]))
        for name in (spec.database, spec.owner.user, spec.app.user):
            if not _NAME.fullmatch(name):
                raise ValueError(f"{name!r} is not a plain database or user name (letters, digits, '_')")
        return spec


def provision(conn: mariadb.Connection, spec: ServiceDatabase) -> None:
    """Create or update the database, its owner and its app user (names are checked by ServiceDatabase)."""
    cursor = conn.cursor()
    cursor.execute(f"CREATE DATABASE IF NOT EXISTS `{spec.database}` CHARACTER SET utf8mb4 COLLATE utf8mb4_unicode_ci")
    # In GRANT, '_' in a database name is a wildcard: escaped, the grant covers this database only.
    grant_target = spec.database.replace("_", "\\_")
    for account, privileges in ((spec.owner, "ALL PRIVILEGES"), (spec.app, APP_PRIVILEGES)):
        cursor.execute(f"CREATE USER IF NOT EXISTS '{account.user}'@'%' IDENTIFIED BY ?", (account.password,))
        cursor.execute(f"ALTER USER '{account.user}'@'%' IDENTIFIED BY ?", (account.password,))
        # Start from nothing, so a user that once had more (e.g. an older install) keeps only what it needs.
        cursor.execute(f"REVOKE ALL PRIVILEGES, GRANT OPTION FROM '{account.user}'@'%'")
        cursor.execute(f"GRANT {privileges} ON `{grant_target}`.* TO '{account.user}'@'%'")
    cursor.close()


def main() -> int:
    specs = [ServiceDatabase.from_json(item) for item in json.load(sys.stdin)]
    conn = mariadb.connect(host=env_str("DB_HOST", "127.0.0.1"), port=env_int("DB_PORT", 3306),
                           user=env_str("DB_ADMIN_USER", "root"), password=env_str("DB_ADMIN_PASSWORD", ""),
                           autocommit=True)
    try:
        for spec in specs:
            provision(conn, spec)
            print(f"database {spec.database}: owner {spec.owner.user}, app user {spec.app.user}")
    finally:
        conn.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
