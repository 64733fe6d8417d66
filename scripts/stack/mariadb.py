"""MariaDB for the stack: the server at DB_HOST:DB_PORT, or a private one under .run/ when none answers (or
with STACK_PRIVATE_DB=1); then each service's database with its owner and app user."""
from __future__ import annotations

import json
import os
import secrets
import subprocess
import sys
from dataclasses import dataclass

from scripts.stack.debian import ensure_debian_package
from scripts.stack.layout import ROOT, Layout
from scripts.stack.supervisor import ProcessSpec, Supervisor
from scripts.stack.waiting import log, port_open, wait_until

# Each service and the short name its database and users are called by (coffee_order, coffee_order_app, ...).
SERVICE_DATABASES = {"order_ms": "order", "delivery_ms": "delivery"}


@dataclass(frozen=True)
class DatabaseServer:
    host: str
    port: int
    admin_user: str
    admin_password: str
    private: bool

    @property
    def env(self) -> dict[str, str]:
        return {"DB_HOST": self.host, "DB_PORT": str(self.port)}

    @property
    def admin_env(self) -> dict[str, str]:
        return {**self.env, "DB_ADMIN_USER": self.admin_user, "DB_ADMIN_PASSWORD": self.admin_password}


@dataclass(frozen=True)
class ServiceDatabase:
    """One service's database and the two users of it: the owner (migrations) and the app user (everything else)."""

    database: str
    owner_user: str
    owner_password: str
    app_user: str
    app_password: str

    def app_env(self) -> dict[str, str]:
        return {"DB_NAME": self.database, "DB_USER": self.app_user, "DB_PASSWORD": self.app_password}

    def owner_env(self) -> dict[str, str]:
        return {"DB_NAME": self.database, "DB_USER": self.owner_user, "DB_PASSWORD": self.owner_password}


def database_server(layout: Layout, supervisor: Supervisor) -> DatabaseServer:
    host = os.environ.get("DB_HOST", "127.0.0.1")
    port = int(os.environ.get("DB_PORT", "3306"))
    admin = (os.environ.get("DB_ADMIN_USER", "root"), os.environ.get("DB_ADMIN_PASSWORD", ""))
    if os.environ.get("STACK_PRIVATE_DB") != "1":
        if port_open(host, port):
            log(f"MariaDB: using the server at {host}:{port}")
            return DatabaseServer(host, port, *admin, private=False)
        if "DB_HOST" in os.environ and host not in {"127.0.0.1", "localhost"}:
            raise SystemExit(f"MariaDB at {host}:{port} does not answer (DB_HOST is set, so no private server is started)")
    return _start_private_server(layout, supervisor)


def _start_private_server(layout: Layout, supervisor: Supervisor) -> DatabaseServer:
    mariadbd = ensure_debian_package("mariadbd", "mariadb-server")
    install_db = ensure_debian_package("mariadb-install-db", "mariadb-server")
    data_dir = layout.private_db_dir
    port = layout.private_db_port
    as_root = ["--user=root"] if os.geteuid() == 0 else []
    if not (data_dir / "mysql").exists():
        data_dir.mkdir(parents=True, exist_ok=True)
        log(f"MariaDB: initialising a private server in {data_dir}")
        subprocess.run([install_db, "--no-defaults", f"--datadir={data_dir}", "--auth-root-authentication-method=normal",
                        "--skip-test-db", *as_root], check=True, stdout=subprocess.DEVNULL)
    argv = [mariadbd, "--no-defaults", f"--datadir={data_dir}", f"--socket={layout.run_dir / 'mysqld.sock'}",
            f"--port={port}", "--bind-address=127.0.0.1", f"--pid-file={layout.run_dir / 'mysqld.pid'}",
            "--innodb-buffer-pool-size=128M", "--skip-log-bin", *as_root]
    supervisor.start(ProcessSpec("mariadb", argv, after_start=lambda process: wait_until(
        lambda: port_open("127.0.0.1", port), "private MariaDB", 60, process)))
    log(f"MariaDB: private server on 127.0.0.1:{port}")
    return DatabaseServer("127.0.0.1", port, "root", "", private=True)


def provision(server: DatabaseServer, layout: Layout) -> dict[str, ServiceDatabase]:
    """Each service's database and users, with fresh passwords for this run of the stack."""
    databases = {}
    for service, short in SERVICE_DATABASES.items():
        database = f"{layout.db_prefix}_{short}"
        databases[service] = ServiceDatabase(database, f"{database}_owner", secrets.token_urlsafe(18),
                                             f"{database}_app", secrets.token_urlsafe(18))
    spec = [{"database": db.database, "owner": {"user": db.owner_user, "password": db.owner_password},
             "app": {"user": db.app_user, "password": db.app_password}} for db in databases.values()]
    result = subprocess.run([sys.executable, "-m", "services.platform.provision"], cwd=ROOT, input=json.dumps(spec),
                            env={**os.environ, **server.admin_env}, capture_output=True, text=True)
    if result.returncode != 0:
        raise SystemExit(f"creating the service databases failed:\n{result.stdout}{result.stderr}")
    log("MariaDB: " + "; ".join(line for line in result.stdout.splitlines()))
    return databases
