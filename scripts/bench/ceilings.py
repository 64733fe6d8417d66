"""The ceilings our figures are compared with: a bare Flask echo under the services' gunicorn settings, the
same-stack floor (scripts/bench/floor_app.py: only the database work of a POST, on the stack's MariaDB), and
MariaDB's single-row INSERT + COMMIT rate on the stack's own database server."""
from __future__ import annotations

import contextlib
import multiprocessing
import os
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import NamedTuple

from scripts.bench.config import ECHO_PORT, ROOT
from scripts.stack.state import StackState
from scripts.stack.waiting import port_open

GUNICORN_CONFIG = "services/platform/gunicorn_conf.py"
SCRATCH_TABLE = "bench_commits"
# The other worker model, for comparison: gunicorn's gthread worker, 4 threads per process.
THREADED_WORKERS = {"GUNICORN_THREADS": "4"}


class Echo(NamedTuple):
    url: str
    pid: int  # gunicorn's master: its workers are below it


@contextlib.contextmanager
def echo_server(run_dir: Path, overrides: dict[str, str] | None = None, app: str = "echo_app",
                path: str = "/echo") -> Iterator[Echo]:
    """The echo app (or another app of scripts/bench) under gunicorn with the same config and GUNICORN_*
    environment as the services (with `overrides`, e.g. another worker model, for comparison)."""
    run_dir.mkdir(parents=True, exist_ok=True)
    env = {**os.environ, "HOST": "127.0.0.1", "PORT": str(ECHO_PORT),
           "PROMETHEUS_MULTIPROC_DIR": str(run_dir / f"prometheus-{app}"), **(overrides or {})}
    with open(run_dir / f"{app}.log", "ab") as log:
        process = subprocess.Popen(
            [sys.executable, "-m", "gunicorn", "-c", GUNICORN_CONFIG, f"scripts.bench.{app}:create_app()"],
            cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL)
    try:
        deadline = time.monotonic() + 30
        while not port_open("127.0.0.1", ECHO_PORT):
            if process.poll() is not None or time.monotonic() > deadline:
                raise SystemExit(f"the {app} server did not start; see {run_dir / f'{app}.log'}")
            time.sleep(0.1)
        yield Echo(f"http://127.0.0.1:{ECHO_PORT}{path}", process.pid)
    finally:
        process.terminate()
        process.wait(timeout=30)


@contextlib.contextmanager
def floor_server(run_dir: Path, state: StackState) -> Iterator[Echo]:
    """The same-stack floor under the services' gunicorn settings, writing to a scratch copy of order-ms's
    `orders` and `order_outbox` tables (so no relay publishes its rows), dropped afterwards."""
    source = state.databases["order_ms"].database
    database = f"{source}_floor"
    admin = state.admin_connect()
    cursor = admin.cursor()
    cursor.execute(f"DROP DATABASE IF EXISTS `{database}`")
    cursor.execute(f"CREATE DATABASE `{database}`")
    for table in ("orders", "order_outbox"):
        cursor.execute(f"CREATE TABLE `{database}`.{table} LIKE `{source}`.{table}")
    try:
        server = {"DB_HOST": state.env["DB_HOST"], "DB_PORT": state.env["DB_PORT"], "DB_NAME": database, **state.admin}
        with echo_server(run_dir, server,
                         app="floor_app", path="/floor") as floor:
            yield floor
    finally:
        cursor.execute(f"DROP DATABASE IF EXISTS `{database}`")
        admin.close()


def gunicorn_settings() -> str:
    """The worker model the services and the echo run with, as the config file reads it from this environment."""
    read = (f"import runpy; c = runpy.run_path({GUNICORN_CONFIG!r});"
            " print(c['workers'], c['threads'], c.get('worker_class', 'sync'))")
    workers, threads, worker_class = subprocess.run([sys.executable, "-c", read], cwd=ROOT, capture_output=True,
                                                    text=True, check=True).stdout.split()
    if worker_class == "sync" and int(threads) > 1:
        worker_class = "gthread"  # what gunicorn runs instead of sync workers given threads
    return f"gunicorn {workers} {worker_class} workers × {threads} threads"


def _commit_loop(state: StackState, database: str, seconds: float) -> float:
    """One connection inserting one row per transaction for `seconds`; returns its commits per second."""
    conn = state.admin_connect(database)
    conn.autocommit = False
    cursor = conn.cursor()
    committed = 0
    started = time.monotonic()
    while time.monotonic() < started + seconds:
        cursor.execute(f"INSERT INTO {SCRATCH_TABLE} (order_id, payload) VALUES (UUID(), ?)", ("x" * 200,))
        conn.commit()
        committed += 1
    elapsed = time.monotonic() - started
    conn.close()
    return committed / elapsed


def database_commits_per_second(state: StackState, database: str, connections: int, seconds: float) -> float:
    """Single-row INSERT + COMMIT per second over `connections` connections (one process each, so the client
    is never the limit), in a scratch database dropped afterwards."""
    admin = state.admin_connect()
    cursor = admin.cursor()
    cursor.execute(f"DROP DATABASE IF EXISTS `{database}`")
    cursor.execute(f"CREATE DATABASE `{database}`")
    cursor.execute(f"CREATE TABLE `{database}`.{SCRATCH_TABLE} (id BIGINT UNSIGNED AUTO_INCREMENT PRIMARY KEY,"
                   " order_id CHAR(36) NOT NULL, payload VARCHAR(255) NOT NULL,"
                   " created_at DATETIME(6) NOT NULL DEFAULT CURRENT_TIMESTAMP(6)) ENGINE=InnoDB")
    try:
        with multiprocessing.get_context("fork").Pool(connections) as workers:
            return sum(workers.starmap(_commit_loop, [(state, database, seconds)] * connections))
    finally:
        cursor.execute(f"DROP DATABASE IF EXISTS `{database}`")
        admin.close()
