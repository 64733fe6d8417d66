"""The stack's state file (.run/<profile>/state.json): where everything is, for `make status`, the tests and
the tools. Written once everything is up and again whenever a process restarts; it holds the stack's secrets,
so only its owner can read it.

`StackState` is the one reader: the tests (tests/support/stack.py), chaos, bench and the container smoke read
the file through it, never as raw JSON, so a field is renamed in one place."""
from __future__ import annotations

import json
import os
from dataclasses import dataclass, field
from pathlib import Path


def write_state(path: Path, state: dict) -> None:
    partial = path.with_suffix(".tmp")
    partial.write_text(json.dumps(state, indent=2))
    partial.chmod(0o600)
    partial.replace(path)


@dataclass(frozen=True)
class DatabaseAccounts:
    """A service's database with its owner (runs the migrations) and its app user (data only)."""

    database: str
    owner_user: str
    owner_password: str
    app_user: str
    app_password: str


@dataclass(frozen=True)
class ProcessState:
    """One supervised process as the supervisor last saw it (its pid changes when it is restarted)."""

    pid: int
    running: bool
    restarts: int
    started_at: float
    log: str
    held: bool = False
    last_exit_code: int | None = None
    liveness_restarts: int = 0
    last_probe_failure: str | None = None


@dataclass(frozen=True)
class StackState:
    path: Path
    profile: str
    base_url: str  # the ingress
    services: dict[str, str]  # the first instance of each HTTP service, by service name
    instances: dict[str, dict[str, str]]  # every instance, by service and instance name
    env: dict[str, str]  # what every process shares (database server, broker, ...)
    admin: dict[str, str]  # DB_USER and DB_PASSWORD of the database server's administrator
    databases: dict[str, DatabaseAccounts]  # by service package (order_ms, delivery_ms)
    service_env: dict[str, dict[str, str]]  # each service's database as its app user
    metrics: dict[str, str]  # each process's /metrics URL
    processes: dict[str, ProcessState]
    supervisor_pid: int
    kafka_tools_env: dict[str, str] = field(default_factory=dict)  # the tools' Kafka login (empty: external)
    kafka_credentials: str | None = None  # the local broker's credentials file
    kafka_ready_seconds: float | None = None
    prometheus_url: str | None = None
    # The local trace backend (TRACING=1): Zipkin's UI and API, and the OTLP/HTTP collector in front of it.
    trace_ui: str | None = None
    otlp_endpoint: str | None = None
    # The staff account the suites log in as (user_id, password), made the operator's way on every start.
    staff: dict[str, str] = field(default_factory=dict)
    # What each HTTP service gets on top of app_env: its token key files.
    http_env: dict[str, dict[str, str]] = field(default_factory=dict)
    # Each service's stream process (its live stream's endpoint), by service name.
    streams: dict[str, str] = field(default_factory=dict)

    @classmethod
    def read(cls, path: Path) -> StackState:
        raw = json.loads(path.read_text())
        return cls(**_fields_of(cls, raw), path=path,
                   databases={name: DatabaseAccounts(**_fields_of(DatabaseAccounts, db))
                              for name, db in raw["databases"].items()},
                   processes={name: ProcessState(**_fields_of(ProcessState, process))
                              for name, process in raw["processes"].items()})

    @classmethod
    def from_environment(cls, default: Path) -> StackState:
        """The stack STACK_STATE names (what `python -m scripts.stack env` exports), else the one at `default`."""
        path = Path(os.environ.get("STACK_STATE") or default)
        if not path.exists():
            raise FileNotFoundError(f"no running stack: {path} is missing")
        return cls.read(path)

    def again(self) -> StackState:
        """The file as it is now: the supervisor rewrites it with new pids and restart counts."""
        return StackState.read(self.path)

    @property
    def kafka_servers(self) -> str:
        return self.env["KAFKA_BOOTSTRAP_SERVERS"]

    def pid(self, name: str) -> int:
        return self.processes[name].pid

    def restarts(self) -> dict[str, int]:
        return {name: process.restarts for name, process in self.processes.items()}

    def app_env(self, service: str) -> dict[str, str]:
        """The environment a process of `service` runs with: the shared one plus its database as its app user."""
        return {**self.env, **self.service_env[service]}

    def http_env_of(self, service: str) -> dict[str, str]:
        """The environment an HTTP instance of `service` runs with: app_env plus its token key files."""
        return {**self.app_env(service), **self.http_env.get(service, {})}

    def owner_env(self, service: str, database: str | None = None) -> dict[str, str]:
        """The environment of `service`'s migrations: its database (or `database`) as the schema owner."""
        accounts = self.databases[service]
        return {**self.env, "DB_NAME": database or accounts.database, "DB_USER": accounts.owner_user,
                "DB_PASSWORD": accounts.owner_password}

    def admin_env(self, database: str | None = None) -> dict[str, str]:
        """The database server's administrator, on `database` when given."""
        return {**self.env, **({"DB_NAME": database} if database else {}), **self.admin}

    def admin_connect(self, database: str | None = None, **options):
        """A connection as the server's administrator (on `database` when given): for checking what the services
        wrote."""
        import mariadb  # only the readers that connect need the driver

        return mariadb.connect(host=self.env["DB_HOST"], port=int(self.env["DB_PORT"]), user=self.admin["DB_USER"],
                               password=self.admin["DB_PASSWORD"], autocommit=True,
                               **({"database": database} if database else {}), **options)


def _fields_of(cls, raw: dict) -> dict:
    """The entries of `raw` that `cls` declares (less the nested ones read apart): a newer writer's extra
    field does not break an older reader."""
    nested = {"path", "databases", "processes"}
    return {name: value for name, value in raw.items() if name in cls.__dataclass_fields__ and name not in nested}
