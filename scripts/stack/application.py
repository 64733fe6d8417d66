"""The application's processes: each service's migrations (as its schema owner), the demo accounts and the
stack's staff account, both services under gunicorn (one or more instances each), each service's stream process,
the two relays, delivery-ms's consumers and order-ms's status consumer (as each service's app user)."""
from __future__ import annotations

import os
import secrets
import subprocess
import sys
from collections.abc import Callable
from dataclasses import dataclass

from scripts.stack.layout import ROOT, Layout
from scripts.stack.supervisor import ProcessSpec, Supervisor
from scripts.stack.waiting import http_ok, port_open, wait_until
from services.platform.metrics import HEALTH_PATH
from services.platform.provision import ServiceDatabase
from services.platform.token_keys import ensure_key_pair

GUNICORN_CONFIG = "services/platform/gunicorn_conf.py"
# The staff account the stack makes the operator's way (services/order_ms/staff.py) for the test suites, with a
# fresh password each run, recorded in the state file: the suites never rely on a demo account.
STACK_STAFF_USER = "stack-staff"


@dataclass(frozen=True)
class HttpService:
    """One gunicorn instance of a service: `order-ms`, and with replicas `order-ms-2` on the next port."""

    name: str
    group: str  # the service's name in URLs and the state file, e.g. order-ms
    service: str  # the package under services/
    port: int
    metrics_port: int  # /metrics and the health checks only (METRICS_PORT), as in the chart

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def metrics_url(self) -> str:
        return f"http://127.0.0.1:{self.metrics_port}/metrics"


@dataclass(frozen=True)
class WorkerProcess:
    name: str
    service: str
    module: str
    metrics_port: int


def http_services(layout: Layout, replicas: int = 1) -> list[HttpService]:
    """Every instance of both services; the first of each keeps the service's own name and ports."""
    instances = []
    for group, service, first_port, first_metrics_port in (
            ("order-ms", "order_ms", layout.order_port, layout.port(9130)),
            ("delivery-ms", "delivery_ms", layout.delivery_port, layout.port(9140))):
        instances += [HttpService(group if i == 0 else f"{group}-{i + 1}", group, service, first_port + i,
                                  first_metrics_port + i) for i in range(replicas)]
    return instances


def stream_services(layout: Layout) -> list[HttpService]:
    """Each service's stream process (its live stream's endpoint, gunicorn's gevent worker), on the ports after
    the service's last replica's."""
    return [HttpService("order-ms-stream", "order-ms", "order_ms", layout.port(5003), layout.port(9133)),
            HttpService("delivery-ms-stream", "delivery-ms", "delivery_ms", layout.port(6003), layout.port(9143))]


# One gevent worker holds every stream of the process (docs/decisions/0006-stream-serving.md); streams never end by
# themselves, so a stopping one closes them after 5 s (as the chart's gracefulTimeout) and their clients reconnect.
STREAM_GUNICORN_ENV = {"GUNICORN_WORKER_CLASS": "gevent", "GUNICORN_WORKERS": "1", "GUNICORN_GRACEFUL_TIMEOUT": "5"}


def worker_processes(layout: Layout, consumers: int) -> list[WorkerProcess]:
    return [
        WorkerProcess("order-relay", "order_ms", "services.order_ms.relay", layout.port(9101)),
        WorkerProcess("delivery-relay", "delivery_ms", "services.delivery_ms.relay", layout.port(9102)),
        *(WorkerProcess(f"consumer-{i + 1}", "delivery_ms", "services.delivery_ms.consumer", layout.port(9110 + i))
          for i in range(consumers)),
        WorkerProcess("order-status-consumer", "order_ms", "services.order_ms.status_consumer", layout.port(9120)),
    ]


def relay_wakeups(layout: Layout, service: str) -> dict[str, str]:
    """Where the relay of `service`'s outbox listens for wake-ups (UDP), for the service's writers and its relay.
    Woken after each commit, a relay need only look at its table every half second on its own."""
    port = {"order_ms": layout.port(9201), "delivery_ms": layout.port(9202)}[service]
    return {"RELAY_WAKEUP_ADDRESS": f"127.0.0.1:{port}",
            "RELAY_POLL_INTERVAL_SECONDS": os.environ.get("RELAY_POLL_INTERVAL_SECONDS", "0.5")}


def token_keys_env(layout: Layout) -> dict[str, dict[str, str]]:
    """What each HTTP service gets on top of the shared environment: the token key files (kept across restarts
    in `.run/<profile>/tokens/`, so tokens outlive them). Only order-ms signs; relays and consumers get nothing."""
    signing_key, public_keys = ensure_key_pair(layout.run_dir / "tokens")
    return {"order_ms": {"TOKEN_SIGNING_KEY_FILE": str(signing_key), "TOKEN_PUBLIC_KEYS_FILE": str(public_keys)},
            "delivery_ms": {"TOKEN_PUBLIC_KEYS_FILE": str(public_keys)}}


def run_once(name: str, module: str, env: dict[str, str], layout: Layout, args: tuple[str, ...] = ()) -> str:
    """Run a one-shot command of a service to completion; its output goes to its log, failures stop the stack."""
    result = subprocess.run([sys.executable, "-m", module, *args], cwd=ROOT, env={**os.environ, **env},
                            capture_output=True, text=True)
    (layout.logs / f"{name}.log").write_text(result.stdout + result.stderr)
    if result.returncode != 0:
        raise SystemExit(f"{name} failed:\n{result.stdout}{result.stderr}")
    return result.stdout


def migrate_and_seed(layout: Layout, shared_env: dict[str, str],
                     databases: dict[str, ServiceDatabase]) -> dict[str, str]:
    """Migrates, creates the demo accounts (local mode) and the stack's staff account; returns the latter."""
    for service, database in databases.items():
        run_once(f"{service}-migrate", f"services.{service}.migrate", {**shared_env, **database.owner_env()}, layout)
    order_env = {**shared_env, **databases["order_ms"].app_env()}
    run_once("demo-accounts", "services.order_ms.demo_accounts", order_env, layout)
    staff = {"user_id": STACK_STAFF_USER, "password": secrets.token_urlsafe(18)}
    run_once("staff-account", "services.order_ms.staff", {**order_env, "STAFF_PASSWORD": staff["password"]}, layout,
             ("create", "--user-id", staff["user_id"], "--reset-password"))
    return staff


def start_application(layout: Layout, supervisor: Supervisor, shared_env: dict[str, str],
                      http_env: dict[str, dict[str, str]], databases: dict[str, ServiceDatabase], consumers: int,
                      replicas: int,
                      kafka_login: Callable[[str], dict[str, str]]) -> dict[str, str]:
    """Starts every application process (each worker logged in to Kafka as `kafka_login` of its name says) and
    waits until each answers; returns their /metrics URLs."""
    metrics = {}
    for http in http_services(layout, replicas):
        env = {**shared_env, **databases[http.service].app_env(), **http_env[http.service],
               **relay_wakeups(layout, http.service), "HOST": "127.0.0.1", "PORT": str(http.port),
               "METRICS_PORT": str(http.metrics_port),
               "PROMETHEUS_MULTIPROC_DIR": str(layout.run_dir / f"prometheus-{http.name}")}
        supervisor.start(
            ProcessSpec(
                http.name,
                [sys.executable, "-m", "gunicorn", "-c", GUNICORN_CONFIG, f"services.{http.service}:create_app()"],
                env,
                after_start=lambda process, url=http.url, name=http.name: wait_until(
                    lambda: http_ok(f"{url}/readyz"), name, 60, process
                ),
            ),
            wait=False,
        )
        metrics[http.name] = http.metrics_url
    for stream in stream_services(layout):
        # Streams only verify tokens: the public keys, never order-ms's signing key.
        env = {**shared_env, **databases[stream.service].app_env(), **STREAM_GUNICORN_ENV,
               "TOKEN_PUBLIC_KEYS_FILE": http_env[stream.service]["TOKEN_PUBLIC_KEYS_FILE"],
               "HOST": "127.0.0.1", "PORT": str(stream.port), "METRICS_PORT": str(stream.metrics_port),
               "PROMETHEUS_MULTIPROC_DIR": str(layout.run_dir / f"prometheus-{stream.name}")}
        supervisor.start(
            ProcessSpec(
                stream.name,
                [sys.executable, "-m", "gunicorn", "-c", GUNICORN_CONFIG,
                 f"services.{stream.service}:create_stream_app()"],
                env,
                after_start=lambda process, url=stream.url, name=stream.name: wait_until(
                    lambda: http_ok(f"{url}/readyz"), name, 60, process
                ),
            ),
            wait=False,
        )
        metrics[stream.name] = stream.metrics_url
    for worker in worker_processes(layout, consumers):
        env = {**shared_env, **databases[worker.service].app_env(), **relay_wakeups(layout, worker.service),
               **kafka_login(worker.name), "METRICS_PORT": str(worker.metrics_port)}
        supervisor.start(ProcessSpec(
            worker.name, [sys.executable, "-m", worker.module], env,
            after_start=lambda process, port=worker.metrics_port, name=worker.name: wait_until(
                lambda: port_open("127.0.0.1", port), name, 30, process),
            health_url=f"http://127.0.0.1:{worker.metrics_port}{HEALTH_PATH}"), wait=False)
        metrics[worker.name] = f"http://127.0.0.1:{worker.metrics_port}/metrics"
    for name in metrics:
        supervisor.wait_ready(name)
    return metrics
