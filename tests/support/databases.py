"""Throwaway service databases for tests that run their own service processes, made the way the stack makes
its own (an owner and an app user), so the stack's processes never see what these tests write."""
from __future__ import annotations

import os
import secrets
import subprocess
import sys
import uuid

import mariadb

from scripts.stack.state import StackState
from services.platform.provision import Account, ServiceDatabase, provision
from tests.support.stack import ROOT


class ThrowawayDatabase:
    def __init__(self, state: StackState, service: str):
        self.state = state
        self.service = service
        self.name = f"coffee_t_{uuid.uuid4().hex[:12]}"
        self.spec = ServiceDatabase(self.name, Account(f"{self.name}_owner", secrets.token_urlsafe(12)),
                                    Account(f"{self.name}_app", secrets.token_urlsafe(12)))

    def create(self, migrate: bool = True) -> ThrowawayDatabase:
        with self.state.admin_connect() as conn:
            provision(conn, self.spec)
        if migrate:
            result = self.migrate()
            assert result.returncode == 0, result.stdout + result.stderr
        return self

    def create_users_only(self) -> ThrowawayDatabase:
        """The owner and app user, but no database yet: the first migration run makes it."""
        self.create(migrate=False)
        with self.connect() as conn:
            conn.cursor().execute(f"DROP DATABASE `{self.name}`")
        return self

    def migrate(self, *args: str) -> subprocess.CompletedProcess:
        """The service's migrations (`args` for its command, e.g. another --dir), run as this database's owner."""
        return subprocess.run([sys.executable, "-m", f"services.{self.service}.migrate", *args], cwd=ROOT,
                              env={**os.environ, **self.owner_env()}, capture_output=True, text=True, timeout=120)

    def start_migrate(self) -> subprocess.Popen:
        """The same, started in the background (e.g. two at once, as two pods would)."""
        return subprocess.Popen([sys.executable, "-m", f"services.{self.service}.migrate"], cwd=ROOT,
                                env={**os.environ, **self.owner_env()}, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                                text=True)

    def app_env(self) -> dict[str, str]:
        return {**self.state.env, **self.spec.app_env()}

    def owner_env(self) -> dict[str, str]:
        return {**self.state.env, **self.spec.owner_env()}

    def connect(self) -> mariadb.Connection:
        """The server's admin on this database."""
        return self.state.admin_connect(self.name)

    def drop(self) -> None:
        drop_service_database(self.state, self.spec)


def drop_service_database(state: StackState, spec: ServiceDatabase) -> None:
    """The database and both its users gone, as if never provisioned."""
    with state.admin_connect() as conn:
        cursor = conn.cursor()
        cursor.execute(f"DROP DATABASE IF EXISTS `{spec.database}`")
        for account in (spec.owner, spec.app):
            cursor.execute(f"DROP USER IF EXISTS '{account.user}'@'%'")
