"""The live streams' figures: how soon a customer sees their order (POST through the ingress → the first
`order-status` event on their open stream, and a staff move → its event there), and what one stream instance holds
(idle streams opened against an instance of the bench's own: its resident memory before and after, the limit's
503, and how long one change takes to reach every stream)."""
from __future__ import annotations

import json
import queue
import random
import selectors
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from dataclasses import dataclass
from pathlib import Path

import requests

from scripts.bench.config import ROOT
from scripts.bench.load import Customer
from scripts.bench.pipeline import Latencies
from scripts.bench.processes import all_processes
from scripts.stack.application import STREAM_GUNICORN_ENV
from scripts.stack.layout import environment_for_own_stack
from scripts.stack.state import StackState
from scripts.stack.waiting import http_ok, wait_until
from services.platform.settings import DEFAULT_STREAM_MAX_PER_INSTANCE

EVENT_TIMEOUT_SECONDS = 10.0
GUNICORN_CONFIG = "services/platform/gunicorn_conf.py"


@dataclass
class VisibleLatencies:
    """From the customer's action to the event on their open stream, through the ingress."""

    first_event: Latencies | None  # POST the order → its first `order-status` event (the delivery, CONFIRMED)
    staff_move: Latencies | None  # staff PUT IN_DELIVERY → that `order-status` event
    missing: int  # orders whose event never came within EVENT_TIMEOUT_SECONDS

    def summary(self, which: Latencies | None) -> str:
        missing = f"; {self.missing} never came within {EVENT_TIMEOUT_SECONDS:.0f} s" if self.missing else ""
        return (which.summary() if which else "no event came") + missing


class StreamReader:
    """A customer's open stream, read on a thread: each event with the moment it arrived."""

    def __init__(self, url: str, token: str):
        self.events: queue.Queue[tuple[float, dict]] = queue.Queue()
        self._response = requests.get(url, headers={"Authorization": f"Bearer {token}"}, stream=True,
                                      timeout=(5, 60))
        self._response.raise_for_status()
        threading.Thread(target=self._read, daemon=True).start()

    def _read(self) -> None:
        buffer = ""
        try:
            for chunk in self._response.iter_content(chunk_size=None):
                arrived = time.monotonic()
                buffer += chunk.decode()
                while "\n\n" in buffer:
                    block, buffer = buffer.split("\n\n", 1)
                    data = [line[6:] for line in block.split("\n") if line.startswith("data: ")]
                    if data:
                        self.events.put((arrived, json.loads(data[0])))
        except (requests.RequestException, AttributeError):
            return  # closed (urllib3 drops the socket under a read in progress: AttributeError)

    def wait_for(self, order_id: str, status: str) -> tuple[float, dict] | None:
        """(when it arrived, its data) of the event of `order_id` with `status`; None after EVENT_TIMEOUT_SECONDS."""
        deadline = time.monotonic() + EVENT_TIMEOUT_SECONDS
        while (left := deadline - time.monotonic()) > 0:
            try:
                arrived, data = self.events.get(timeout=left)
            except queue.Empty:
                return None
            if data["order_id"] == order_id and data["status"] == status:
                return arrived, data
        return None

    def close(self) -> None:
        self._response.close()


def visible_latencies(base_url: str, customer: Customer, staff_token: str, orders: int) -> VisibleLatencies:
    """`orders` orders one at a time, each POSTed through the ingress and then moved by staff, timed to their
    events on the customer's open stream."""
    reader = StreamReader(f"{base_url}/order-ms/{customer.user_id}/orders/events", customer.token)
    first, moved, missing = [], [], 0
    post_url = f"{base_url}/order-ms/{customer.user_id}/orders"
    try:
        with requests.Session() as session:
            for _ in range(orders):
                sent = time.monotonic()
                answer = session.post(post_url, json={"coffee_name": "bench", "coffee_price": 2000, "coffee_qty": 1},
                                      headers={"Authorization": f"Bearer {customer.token}"}, timeout=10)
                answer.raise_for_status()
                order_id = answer.json()["order_id"]
                confirmed = reader.wait_for(order_id, "CONFIRMED")
                if confirmed is None:
                    missing += 1
                    continue
                first.append((confirmed[0] - sent) * 1000)
                sent = time.monotonic()
                session.put(f"{base_url}/delivery-ms/deliveries/{confirmed[1]['delivery_id']}/status",
                            json={"status": "IN_DELIVERY"}, headers={"Authorization": f"Bearer {staff_token}"},
                            timeout=10).raise_for_status()
                in_delivery = reader.wait_for(order_id, "IN_DELIVERY")
                if in_delivery is None:
                    missing += 1
                    continue
                moved.append((in_delivery[0] - sent) * 1000)
                time.sleep(random.uniform(0.05, 0.15))  # orders spread out as customers' are, not back to back
    finally:
        reader.close()
    return VisibleLatencies(Latencies(sorted(first)) if first else None, Latencies(sorted(moved)) if moved else None,
                            missing)


@dataclass
class StreamCapacity:
    """One order-ms stream instance (gunicorn's gevent worker, production defaults) holding idle streams."""

    streams: int  # open at once: STREAM_MAX_PER_INSTANCE
    base_mib: float  # the worker's resident set with one stream open (its poller running)
    loaded_mib: float  # with `streams` open
    refused_beyond: bool  # the next stream was answered 503 too-many-streams
    fan_out_ms: float | None  # one change written → its event read on every open stream

    @property
    def kib_per_stream(self) -> float:
        return (self.loaded_mib - self.base_mib) * 1024 / max(self.streams - 1, 1)


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def _rss_mib(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return 0.0


def _open_stream(port: int, path: str, token: str) -> tuple[socket.socket, bytes]:
    """A raw stream connection; returns it with what the answer's first read held (its status and retry)."""
    connection = socket.create_connection(("127.0.0.1", port), timeout=10)
    connection.sendall(f"GET {path} HTTP/1.1\r\nHost: bench\r\nAuthorization: Bearer {token}\r\n\r\n".encode())
    answer = b""
    while not _complete(answer):
        chunk = connection.recv(4096)
        if not chunk:
            break
        answer += chunk
    return connection, answer


def _complete(answer: bytes) -> bool:
    """A stream's answer up to its first block (retry), or a refusal's whole problem+json body."""
    head, separator, body = answer.partition(b"\r\n\r\n")
    if not separator:
        return False
    if head.startswith(b"HTTP/1.1 200"):
        return b"retry:" in body
    length = next((int(line.split(b":")[1]) for line in head.split(b"\r\n")
                   if line.lower().startswith(b"content-length:")), 0)
    return len(body) >= length


def stream_capacity(state: StackState, customer: Customer, run_dir: Path) -> StreamCapacity:
    """Opens STREAM_MAX_PER_INSTANCE idle streams against a fresh order-ms stream instance with the stack's
    settings (the stack's own instance keeps its figures for the rest of the bench), one more beyond the limit,
    then writes one change of the customer's and times it to every stream."""
    port = _free_port()
    env = environment_for_own_stack(
        **state.app_env("order_ms"), **STREAM_GUNICORN_ENV,
        TOKEN_PUBLIC_KEYS_FILE=state.http_env["order_ms"]["TOKEN_PUBLIC_KEYS_FILE"], HOST="127.0.0.1",
        PORT=str(port), PROMETHEUS_MULTIPROC_DIR=tempfile.mkdtemp(prefix="bench-streams-", dir=run_dir))
    log = open(run_dir / "bench-streams.log", "wb")
    server = subprocess.Popen([sys.executable, "-m", "gunicorn", "-c", GUNICORN_CONFIG,
                               "services.order_ms:create_stream_app()"], cwd=ROOT, env=env, stdout=log,
                              stderr=subprocess.STDOUT)
    path = f"/order-ms/{customer.user_id}/orders/events"
    connections: list[socket.socket] = []
    try:
        wait_until(lambda: http_ok(f"http://127.0.0.1:{port}/readyz"), "the bench's stream instance", 60, server)
        (worker,) = [info.pid for info in all_processes().values() if info.parent == server.pid]
        limit = DEFAULT_STREAM_MAX_PER_INSTANCE
        connection, _ = _open_stream(port, path, customer.token)
        connections.append(connection)
        time.sleep(1)  # the poller's first rounds and the database threads settle before the baseline
        base = _rss_mib(worker)
        for _ in range(limit - 1):
            connection, answer = _open_stream(port, path, customer.token)
            if not answer.startswith(b"HTTP/1.1 200"):
                raise SystemExit(f"stream {len(connections) + 1} of {limit} was refused: {answer[:200]!r}")
            connections.append(connection)
        loaded = _rss_mib(worker)
        beyond, answer = _open_stream(port, path, customer.token)
        beyond.close()
        refused = answer.startswith(b"HTTP/1.1 503") and b"too-many-streams" in answer
        fan_out = _fan_out_ms(state, customer, connections)
    finally:
        for connection in connections:
            connection.close()
        server.send_signal(signal.SIGTERM)
        try:
            server.wait(30)
        except subprocess.TimeoutExpired:
            server.kill()
        log.close()
    return StreamCapacity(len(connections), base, loaded, refused, fan_out)


def _fan_out_ms(state: StackState, customer: Customer, connections: list[socket.socket]) -> float | None:
    """One change of the customer's, written as the status consumer writes it, until every stream read it."""
    waiting = selectors.DefaultSelector()
    for connection in connections:
        connection.setblocking(False)
        waiting.register(connection, selectors.EVENT_READ, bytearray())
    database = state.admin_connect(state.databases["order_ms"].database)
    try:
        started = time.monotonic()
        database.cursor().execute(
            "INSERT INTO order_status_changes (user_id, order_id, kind, delivery_id, status, updated_at)"
            " VALUES (?, ?, 'DELIVERY', ?, 'CONFIRMED', UTC_TIMESTAMP(6))",
            (customer.user_id, str(uuid.uuid4()), str(uuid.uuid4())))
    finally:
        database.close()
    left, deadline = len(connections), time.monotonic() + EVENT_TIMEOUT_SECONDS
    while left and time.monotonic() < deadline:
        for key, _ in waiting.select(timeout=1):
            try:
                key.data.extend(key.fileobj.recv(65536))
            except BlockingIOError:
                continue
            if b"event: order-status" in key.data:
                waiting.unregister(key.fileobj)
                left -= 1
    waiting.close()
    return (time.monotonic() - started) * 1000 if left == 0 else None


def raise_open_files_limit() -> None:
    """The streams' sockets, here and in the instance this process starts: the soft limit up to the hard one."""
    import resource

    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft < hard:
        resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
