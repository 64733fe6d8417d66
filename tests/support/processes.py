"""Consumer processes a test starts itself (own group, own database), with their logs and metrics at hand."""
from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import uuid
from pathlib import Path

import mariadb
import requests
from prometheus_client.parser import text_string_to_metric_families

from scripts.stack.state import StackState
from tests.support.databases import ThrowawayDatabase
from tests.support.stack import ROOT


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class ConsumerProcess:
    """One `python -m services.delivery_ms.consumer`, logging JSON lines to its own file."""

    def __init__(self, name: str, env: dict[str, str], log_path: Path):
        self.name = name
        self.metrics_port = free_port()
        self.log_path = log_path
        self._env = {**env, "METRICS_PORT": str(self.metrics_port)}
        self.process: subprocess.Popen | None = None

    def start(self) -> ConsumerProcess:
        with open(self.log_path, "ab") as log_file:
            self.process = subprocess.Popen(
                [sys.executable, "-m", "services.delivery_ms.consumer"],
                cwd=ROOT,
                env=self._env,
                stdout=log_file,
                stderr=subprocess.STDOUT,
                stdin=subprocess.DEVNULL,
            )
        return self

    @property
    def alive(self) -> bool:
        return self.process is not None and self.process.poll() is None

    def signal(self, signum: int) -> None:
        self.process.send_signal(signum)

    def wait(self, timeout: float = 30) -> int:
        return self.process.wait(timeout=timeout)

    def stop(self) -> None:
        """SIGTERM, then SIGKILL if it does not exit in time; safe to call on a dead process."""
        if not self.alive:
            return
        self.signal(signal.SIGTERM)
        try:
            self.wait(20)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.wait(10)

    def log_entries(self) -> list[dict]:
        entries = []
        for line in self.log_path.read_text(errors="replace").splitlines():
            try:
                entry = json.loads(line)
            except ValueError:
                entry = {"message": line}
            entries.append(entry if isinstance(entry, dict) else {"message": line})
        return entries

    def logged(self, message: str, **fields) -> list[dict]:
        """Log entries whose message contains `message` and whose fields equal `fields`."""
        return [e for e in self.log_entries()
                if message in str(e.get("message", "")) and all(e.get(k) == v for k, v in fields.items())]

    def assigned_partitions(self, topic: str) -> set[int]:
        """The partitions of `topic` in its latest assignment, from its log."""
        assignments = self.logged("partitions assigned")
        return set(assignments[-1]["partitions"].get(topic, [])) if assignments else set()

    def metric(self, name: str, **labels) -> float | None:
        """One sample from its /metrics, or None when it is not there (yet)."""
        try:
            text = requests.get(f"http://127.0.0.1:{self.metrics_port}/metrics", timeout=2).text
        except requests.ConnectionError:
            return None
        for family in text_string_to_metric_families(text):
            for sample in family.samples:
                if sample.name == name and all(sample.labels.get(k) == v for k, v in labels.items()):
                    return sample.value
        return None


class IsolatedConsumers:
    """Consumer processes with their own group and their own throwaway database, so that the stack's
    consumer (which reads the same topic) cannot make a test pass."""

    def __init__(self, stack_state: StackState, log_dir: Path):
        self.group = f"ctest-{uuid.uuid4().hex[:10]}"
        self.database = ThrowawayDatabase(stack_state, "delivery_ms")
        self.log_dir = log_dir
        self.env = {**os.environ, **self.database.app_env(), "CONSUMER_GROUP": self.group, "LOG_LEVEL": "INFO"}
        self.processes: list[ConsumerProcess] = []

    def create_database(self) -> None:
        self.database.create()

    def drop_database(self) -> None:
        self.database.drop()

    def start(self, **env_overrides: str) -> ConsumerProcess:
        name = f"consumer-{len(self.processes) + 1}"
        process = ConsumerProcess(name, {**self.env, **env_overrides}, self.log_dir / f"{name}.log").start()
        self.processes.append(process)
        return process

    def stop_all(self) -> None:
        for process in self.processes:
            process.stop()

    def connect(self) -> mariadb.Connection:
        return self.database.connect()

    def delivery_counts(self, order_ids: list[str]) -> dict[str, int]:
        """How many deliveries each of `order_ids` has in this database (absent ids are left out)."""
        with self.connect() as conn:
            cursor = conn.cursor()
            counts = {}
            for start in range(0, len(order_ids), 500):
                chunk = order_ids[start:start + 500]
                cursor.execute(
                    f"SELECT order_id, COUNT(*) FROM delivery_status WHERE order_id IN ({', '.join('?' * len(chunk))})"
                    " GROUP BY order_id", tuple(chunk))
                counts.update(dict(cursor.fetchall()))
            return counts
