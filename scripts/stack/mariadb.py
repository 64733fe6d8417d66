"""MariaDB for the stack: the server at DB_HOST:DB_PORT, or a private one under .run/ when none answers (or
with STACK_PRIVATE_DB=1); then each service's database with its owner and app user."""
from __future__ import annotations

import os
import secrets
import subprocess
from dataclasses import dataclass

import mariadb

from scripts.stack.debian import ensure_debian_package
from scripts.stack.layout import Layout
from scripts.stack.supervisor import ProcessSpec, Supervisor
from scripts.stack.waiting import log, port_open, wait_until
from services.platform.provision import Account, ServiceDatabase, provision

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



def database_server(layout: Layout, supervisor: Supervisor) -> DatabaseServer:
    host = os.environ.get("DB_HOST", "127.0.0.1")
    port = int(os.environ.get("DB_PORT", "3306"))
    admin = (os.environ.get("DB_ADMIN_USER", "root"), os.environ.get("DB_ADMIN_PASSWORD", ""))
    if os.environ.get("STACK_PRIVATE_DB") != "1":
        if port_open(host, port):
            log(f"MariaDB: using the server at {host}:{port}")
            return DatabaseServer(host, port, *admin, private=False)
        if "DB_HOST" in os.environ and host not in {"127.0.0.1", "localhost"}:
            raise SystemExit(
                f"MariaDB at {host}:{port} does not answer (DB_HOST is set, so no private server is started)"
            )
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
        subprocess.run(
            [
                install_db,
                "--no-defaults",
                f"--datadir={data_dir}",
                "--auth-root-authentication-method=normal",
                "--skip-test-db",
                *as_root,
            ],
            check=True,
            stdout=subprocess.DEVNULL,
        )
    argv = [mariadbd, "--no-defaults", f"--datadir={data_dir}", f"--socket={layout.run_dir / 'mysqld.sock'}",
            f"--port={port}", "--bind-address=127.0.0.1", f"--pid-file={layout.run_dir / 'mysqld.pid'}",
            "--innodb-buffer-pool-size=128M", "--skip-log-bin", *as_root]
    supervisor.start(ProcessSpec("mariadb", argv, after_start=lambda process: wait_until(
        lambda: port_open("127.0.0.1", port), "private MariaDB", 60, process)))
    log(f"MariaDB: private server on 127.0.0.1:{port}")
    return DatabaseServer("127.0.0.1", port, "root", "", private=True)


def provision_services(server: DatabaseServer, layout: Layout) -> dict[str, ServiceDatabase]:
    """Each service's database and users, with fresh passwords for this run of the stack."""
    databases = {}
    for service, short in SERVICE_DATABASES.items():
        name = f"{layout.db_prefix}_{short}"
        databases[service] = ServiceDatabase(name, Account(f"{name}_owner", secrets.token_urlsafe(18)),
                                             Account(f"{name}_app", secrets.token_urlsafe(18)))
    try:
        conn = mariadb.connect(host=server.host, port=server.port, user=server.admin_user,
                               password=server.admin_password, autocommit=True)
    except mariadb.Error as exc:
        raise SystemExit(f"cannot log in to MariaDB at {server.host}:{server.port} as {server.admin_user}: {exc}"
                         " (set DB_ADMIN_USER and DB_ADMIN_PASSWORD)") from None
    # A throwaway stack (`make test`) starts from empty databases: rows an earlier run left behind, e.g. an
    # outbox backlog, would otherwise be worked through while the first tests wait for their own events.
    fresh = os.environ.get("STACK_FRESH_DATABASES") == "1"
    try:
        for database in databases.values():
            if fresh:
                conn.cursor().execute(f"DROP DATABASE IF EXISTS `{database.database}`")
            provision(conn, database)
    finally:
        conn.close()
    log("MariaDB: " + "; ".join(f"{db.database} (owner {db.owner.user}, app user {db.app.user})"
                                for db in databases.values()))
    return databases


def state_entry(database: ServiceDatabase) -> dict[str, str]:
    """How the state file shows a service's database to the tests and tools."""
    return {"database": database.database, "owner_user": database.owner.user,
            "owner_password": database.owner.password, "app_user": database.app.user,
            "app_password": database.app.password}
