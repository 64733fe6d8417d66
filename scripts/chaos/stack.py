"""The chaos run's own stack (profile `chaos`: private MariaDB, two instances of each HTTP service, two
consumers), started and stopped with `python -m scripts.stack`, and read fresh from its state file because the
supervisor restarts processes under new pids."""
from __future__ import annotations

import os
import subprocess
import sys
import time

import mariadb
import requests

from scripts.chaos.settings import ROOT, ChaosSettings
from scripts.stack.layout import Layout, environment_for_own_stack
from scripts.stack.state import ProcessState, StackState
from scripts.stack.waiting import port_open

REPLICAS = 2
# Two whatever the stack's default: the rebalance scenario holds one down while the other takes every partition.
CONSUMERS = 2
RECONCILER_SETTINGS = {"ORDER_OVERDUE_SECONDS": "10", "ORDER_OVERDUE_CHECK_SECONDS": "2"}
# The consumers' group: the stack passes the environment on, so they use the same default or override.
CONSUMER_GROUP = os.environ.get("CONSUMER_GROUP", "delivery-consumer")


class ChaosStack:
    def __init__(self, settings: ChaosSettings):
        self.settings = settings
        self.layout = Layout(settings.profile, settings.port_offset, f"coffee_{settings.profile.replace('-', '_')}")
        # Not the caller's broker or database (`make test` exports the test stack's): the faults act on this
        # stack's own processes, and its consumers must not share a group with another stack's.
        # The reconciler of this stack only: an order without a delivery event is published again after 10 s instead
        # of the product's 60 (checked every 2 s instead of 15), so the events-dropped scenario waits seconds.
        self._env = environment_for_own_stack(STACK_PORT_OFFSET=str(settings.port_offset), STACK_PRIVATE_DB="1",
                                              STACK_DB_PREFIX=self.layout.db_prefix, STACK_FRESH_DATABASES="1",
                                              **RECONCILER_SETTINGS)

    # --- lifecycle ---------------------------------------------------------------------------------
    def _stack_command(self, *args: str) -> None:
        subprocess.run([sys.executable, "-m", "scripts.stack", *args, "--profile", self.settings.profile], cwd=ROOT,
                       env=self._env, check=True)

    def up(self) -> None:
        # A stack left over by an interrupted run would keep old data and restart counts: start afresh.
        self._stack_command("down")
        self._stack_command("up", "--replicas", str(REPLICAS), "--consumers", str(CONSUMERS))

    def down(self) -> None:
        self._stack_command("down")

    # --- what runs where -----------------------------------------------------------------------------
    @property
    def state(self) -> StackState:
        return StackState.read(self.layout.state_file)

    @property
    def base_url(self) -> str:
        return self.state.base_url

    @property
    def kafka_servers(self) -> str:
        return self.state.kafka_servers

    @property
    def kafka_login(self) -> dict[str, str]:
        """The KAFKA_* login of the tools' principal (stack-tools) on this stack's broker."""
        return self.state.kafka_tools_env

    @property
    def logs(self):
        return self.layout.logs

    def processes(self) -> dict[str, ProcessState]:
        return self.state.processes

    def pid(self, name: str) -> int:
        return self.state.pid(name)

    def restarts(self) -> dict[str, int]:
        return self.state.restarts()

    def names(self, prefix: str) -> list[str]:
        """Processes whose name starts with `prefix`, e.g. every consumer."""
        return [name for name in self.processes() if name.startswith(prefix)]

    def instance_urls(self) -> dict[str, str]:
        """Every HTTP instance by process name (order-ms, order-ms-2, delivery-ms, ...)."""
        return {name: url for group in self.state.instances.values() for name, url in group.items()}

    def wait_restarted(self, name: str, old_pid: int, timeout: float) -> float:
        """Seconds until the supervisor runs `name` again under a new pid (it waits for readiness first)."""
        started = time.monotonic()
        deadline = started + timeout
        while True:
            process = self.processes()[name]
            if process.running and process.pid != old_pid:
                return time.monotonic() - started
            if time.monotonic() > deadline:
                raise TimeoutError(f"{name} was not restarted within {timeout:.0f}s (state: {process})")
            time.sleep(0.05)

    # --- health --------------------------------------------------------------------------------------
    def problems(self) -> list[str]:
        """What keeps the stack from being whole right now; empty when every process runs and answers."""
        state = self.state
        found = [f"{name} is not running" for name, p in state.processes.items() if not p.running]
        for name, url in self.instance_urls().items():
            try:
                status = requests.get(f"{url}/readyz", timeout=2).status_code
            except requests.RequestException as exc:
                status = type(exc).__name__
            if status != 200:
                found.append(f"{name} /readyz answers {status}")
        for name, url in state.metrics.items():
            port = int(url.rsplit(":", 1)[1].split("/")[0])
            if name not in self.instance_urls() and not port_open("127.0.0.1", port):
                found.append(f"{name} does not answer on its metrics port {port}")
        return found

    def wait_whole(self, timeout: float) -> list[str]:
        """Polls until nothing is wrong; returns what is still wrong when `timeout` passes."""
        deadline = time.monotonic() + timeout
        while True:
            found = self.problems()
            if not found or time.monotonic() > deadline:
                return found
            time.sleep(0.5)

    # --- databases (as the server's admin, to check what the services wrote) ---------------------------
    def database(self, service: str) -> str:
        return self.state.databases[service].database

    def delivery_count(self, order_ids: list[str]) -> int:
        """How many deliveries these orders have in delivery-ms's database."""
        if not order_ids:
            return 0
        conn = self.admin_connect()
        try:
            cursor = conn.cursor()
            cursor.execute(f"SELECT COUNT(*) FROM `{self.database('delivery_ms')}`.delivery_status"
                           f" WHERE order_id IN ({', '.join('?' * len(order_ids))})", tuple(order_ids))
            return cursor.fetchone()[0]
        finally:
            conn.close()

    def admin_connect(self) -> mariadb.Connection:
        return self.state.admin_connect(connect_timeout=3, read_timeout=30)
