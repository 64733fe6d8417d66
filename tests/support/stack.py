"""Where the running test stack is, read from the state file `python -m scripts.stack` writes, and how to
act as each service's processes do (their database user and environment)."""
from __future__ import annotations

import json
import os
from pathlib import Path

import mariadb

ROOT = Path(__file__).resolve().parents[2]
SERVICES = ("order_ms", "delivery_ms")


def state_path() -> Path:
    return Path(os.environ.get("STACK_STATE", ROOT / ".run" / "test" / "state.json"))


def load_state() -> dict:
    path = state_path()
    if not path.exists():
        raise RuntimeError(
            f"no running test stack ({path} is missing): run `make test`, or start one with "
            "`.venv/bin/python -m scripts.stack up --profile test`"
        )
    return json.loads(path.read_text())


def current_pid(name: str) -> int:
    """A stack process's pid now (the supervisor restarts processes, so it may differ from the first one)."""
    return load_state()["processes"][name]["pid"]


def service_env(state: dict, service: str) -> dict[str, str]:
    """The environment a process of `service` runs with: the shared one plus its database as its app user."""
    return {**state["env"], **state["service_env"][service]}


def owner_env(state: dict, service: str, database: str | None = None) -> dict[str, str]:
    """The environment of `service`'s migrations: its database (or `database`) as the schema owner."""
    accounts = state["databases"][service]
    return {**state["env"], "DB_NAME": database or accounts["database"], "DB_USER": accounts["owner_user"],
            "DB_PASSWORD": accounts["owner_password"]}


def admin_env(state: dict, database: str) -> dict[str, str]:
    """The server's admin on `database` (e.g. a throwaway one a test creates)."""
    return {**state["env"], "DB_NAME": database, **state["admin"]}


def admin_connect(state: dict, database: str | None = None) -> mariadb.Connection:
    """The server's admin account, on `database` when given: for checking what the services wrote."""
    env = state["env"]
    return mariadb.connect(host=env["DB_HOST"], port=int(env["DB_PORT"]), user=state["admin"]["DB_USER"],
                           password=state["admin"]["DB_PASSWORD"], autocommit=True,
                           **({"database": database} if database else {}))
