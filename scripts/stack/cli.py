"""The local stack's commands (`python -m scripts.stack COMMAND [--profile NAME]`):

    run     the whole stack in the foreground; Ctrl-C stops everything
    up      the same in the background
    down    stops only what `up` started, by PID (safe to repeat)
    status  every process with its pid and restart count
    env     shell `export` lines (BASE_URL, KAFKA_BOOTSTRAP_SERVERS and the tools' Kafka login, STACK_STATE,
            *_METRICS_URL) for a running stack
    hold    stop one process of a running stack and keep it down (`hold mariadb`, `--signal KILL` for a crash)
    release let the supervisor start a held process again, and wait until it answers

Profiles differ only in ports, database names and state folder (`.run/<profile>/`), so the test stack
never disturbs a running dev stack."""
from __future__ import annotations

import argparse
import os
import shlex
import signal
import subprocess
import sys
import threading
import time

from scripts.stack.application import (
    http_services,
    migrate_and_seed,
    start_application,
    stream_services,
    token_keys_env,
)
from scripts.stack.broker import start_broker
from scripts.stack.env_overrides import clear_overrides, overrides_path
from scripts.stack.holds import hold_process, holds_for, release_process
from scripts.stack.ingress import start_ingress
from scripts.stack.layout import ROOT, Layout, layout_for
from scripts.stack.mariadb import database_server, provision_services, state_entry
from scripts.stack.prometheus import start_prometheus
from scripts.stack.state import StackState, write_state
from scripts.stack.supervisor import Supervisor
from scripts.stack.trace_backend import start_trace_backend, tracing_requested
from scripts.stack.waiting import log

MAX_CONSUMERS = 3  # the partitions of new_orders
# As the chart's consumer.replicas: one Python process turns ~9,000-10,000 events/s of a backlog into deliveries on
# two cores, below `make bench`'s 10,000 target, and a second member of the group keeps consuming while the first
# restarts (docs/performance.md, "The consumer from a backlog").
DEFAULT_CONSUMERS = 2
MAX_REPLICAS = 3  # instances of each HTTP service; each takes the next port after the service's own


class Stack:
    """Brings the whole local stack up in dependency order and records where everything is."""

    def __init__(self, layout: Layout, echo: bool):
        self.layout = layout
        self.state: dict = {"profile": layout.profile, "ready": False}
        holds = holds_for(layout)
        holds.clear()
        clear_overrides(overrides_path(layout))
        self.supervisor = Supervisor(layout.logs, echo, on_change=self.save, holds=holds,
                                     env_overrides=overrides_path(layout))

    def start(self, consumers: int, replicas: int) -> None:
        self.layout.logs.mkdir(parents=True, exist_ok=True)
        shared_env = {"APP_ENV": "local", "LOG_LEVEL": os.environ.get("LOG_LEVEL", "INFO")}
        http_env = token_keys_env(self.layout)
        backend = start_trace_backend(self.layout, self.supervisor) if tracing_requested() else None
        if backend:
            # OTEL_* the caller set (os.environ reaches every process) win: e.g. a test's own receiver.
            shared_env.update({name: value for name, value in backend.process_env.items() if name not in os.environ})
        server = database_server(self.layout, self.supervisor)
        shared_env.update(server.env)
        databases = provision_services(server, self.layout)
        broker = start_broker(self.layout, self.supervisor)
        shared_env["KAFKA_BOOTSTRAP_SERVERS"] = broker.bootstrap_servers
        staff = migrate_and_seed(self.layout, shared_env, databases)
        metrics = start_application(self.layout, self.supervisor, shared_env, http_env, databases, consumers,
                                    replicas, broker.process_env)
        if backend:
            self.supervisor.wait_ready("zipkin")
            self.supervisor.wait_ready("otlp-collector")
        instances = http_services(self.layout, replicas)
        streams = stream_services(self.layout)
        base_url = start_ingress(self.supervisor, self.layout.run_dir / "nginx", self.layout.ingress_port,
                                 [i.port for i in instances if i.group == "order-ms"],
                                 [i.port for i in instances if i.group == "delivery-ms"],
                                 {s.group: [s.port] for s in streams})
        self.state.update(
            base_url=base_url,
            # The first instance of each service (what the tests call directly), then every instance by name.
            services={http.group: http.url for http in instances if http.name == http.group},
            instances={group: {i.name: i.url for i in instances if i.group == group}
                       for group in dict.fromkeys(i.group for i in instances)},
            # Each service's stream process, directly (the ingress routes the streams' paths there).
            streams={s.group: s.url for s in streams},
            env=shared_env,
            http_env=http_env,
            staff=staff,
            admin={"DB_USER": server.admin_user, "DB_PASSWORD": server.admin_password},
            databases={service: state_entry(database) for service, database in databases.items()},
            service_env={service: database.app_env() for service, database in databases.items()},
            # How the tests and tools log in to the stack's Kafka (empty for an external one: its own settings).
            kafka_tools_env=broker.tools_env,
            kafka_credentials=str(broker.credentials.path) if broker.credentials else None,
            kafka_ready_seconds=broker.ready_seconds,
            metrics=metrics,
            trace_ui=backend.ui_url if backend else None,
            otlp_endpoint=backend.otlp_endpoint if backend else None,
        )
        if os.environ.get("PROMETHEUS") == "1":
            self.state["prometheus_url"] = start_prometheus(
                self.supervisor, metrics, self.layout.run_dir / "prometheus", self.layout.prometheus_port
            )
        self.state.update(ready=True, supervisor_pid=os.getpid())

    def save(self) -> None:
        """Written once everything is up (`up` and the tests take its existence to mean ready), then on every
        restart."""
        if self.state.get("ready"):
            write_state(self.layout.state_file, {**self.state, "processes": self.supervisor.snapshot()})

    def print_urls(self) -> None:
        from services.order_ms.demo_accounts import DEMO_ACCOUNTS

        base, env = self.state["base_url"], self.state["env"]
        databases = ", ".join(db["database"] for db in self.state["databases"].values())
        instances = {name: " ".join(urls.values()) for name, urls in self.state["instances"].items()}
        print(f"""
Coffee Order is up ({self.layout.profile} profile):
  ingress       {base}/order-ms   {base}/delivery-ms
  web UI        {base}/order-ms/ui/
  order-ms      {instances["order-ms"]}   delivery-ms {instances["delivery-ms"]}
  streams       {self.state["streams"]["order-ms"]}   {self.state["streams"]["delivery-ms"]}
  Kafka         {env["KAFKA_BOOTSTRAP_SERVERS"]}   MariaDB {env["DB_HOST"]}:{env["DB_PORT"]} ({databases})
  logs          {self.layout.logs}/
""", end="", flush=True)
        if self.state.get("trace_ui"):
            print(f"  traces        {self.state['trace_ui']}/zipkin/   (Zipkin; its OTLP/HTTP collector: "
                  f"{self.state['otlp_endpoint']})")
        if "prometheus_url" in self.state:
            print(f"  Prometheus    {self.state['prometheus_url']}   (alerts: {self.state['prometheus_url']}/alerts)")
        if os.environ.get("DEMO_ACCOUNTS", "true").lower() in {"1", "true", "yes", "on"}:
            accounts = ", ".join(f"{role} {user} / {password}" for user, password, role in DEMO_ACCOUNTS)
            print(f"  demo accounts {accounts}")
        print(f"  staff account {self.state['staff']['user_id']} (password: `python -m scripts.stack env`)")
        print(flush=True)


def command_run(layout: Layout, consumers: int, replicas: int, echo: bool) -> int:
    layout.run_dir.mkdir(parents=True, exist_ok=True)
    layout.state_file.unlink(missing_ok=True)
    stack = Stack(layout, echo)
    stopping = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_args: stopping.set())
    signal.signal(signal.SIGINT, lambda *_args: stopping.set())
    try:
        stack.start(consumers, replicas)
        stack.print_urls()
        stack.save()
        if echo:
            print("Press Ctrl-C to stop everything.", flush=True)
        while not stopping.wait(0.2):
            stack.supervisor.watch()
        return 0
    finally:
        log("stopping")
        stack.supervisor.stop_all()
        layout.state_file.unlink(missing_ok=True)
        log("stopped")


def running_pid(layout: Layout) -> int | None:
    """The pid of this profile's background stack, if it is still running."""
    try:
        pid = int(layout.pid_file.read_text().strip())
        os.kill(pid, 0)
        cmdline = open(f"/proc/{pid}/cmdline", "rb").read().decode(errors="replace")
    except (OSError, ValueError):
        return None
    return pid if "scripts.stack" in cmdline else None


def command_up(layout: Layout, consumers: int, replicas: int) -> int:
    if running_pid(layout):
        log(f"the {layout.profile} stack is already running (pid {running_pid(layout)}); `make down` stops it")
        return 0
    layout.run_dir.mkdir(parents=True, exist_ok=True)
    layout.state_file.unlink(missing_ok=True)
    stack_log = layout.run_dir / "stack.log"
    with open(stack_log, "ab") as out:
        process = subprocess.Popen(
            [sys.executable, "-m", "scripts.stack", "run", "--profile", layout.profile, "--consumers", str(consumers),
             "--replicas", str(replicas), "--quiet"],
            cwd=ROOT, stdout=out, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL, start_new_session=True)
    layout.pid_file.write_text(str(process.pid))
    deadline = time.monotonic() + 600
    while not layout.state_file.exists():
        if process.poll() is not None:
            print(stack_log.read_text()[-4000:])
            raise SystemExit(f"the stack failed to start (exit {process.returncode}); log: {stack_log}")
        if time.monotonic() > deadline:
            command_down(layout)
            raise SystemExit("the stack did not start within 600 s")
        time.sleep(0.2)
    text = stack_log.read_text()
    print(text[text.rfind("Coffee Order is up"):] if "Coffee Order is up" in text else "", end="")
    log(f"running in the background (pid {process.pid}); `make down` stops it")
    return 0


def command_down(layout: Layout) -> int:
    pid = running_pid(layout)
    if pid is None:
        log(f"no {layout.profile} stack is running")
        layout.pid_file.unlink(missing_ok=True)
        return 0
    os.kill(pid, signal.SIGTERM)
    deadline = time.monotonic() + 45
    while time.monotonic() < deadline:
        try:
            os.kill(pid, 0)
        except ProcessLookupError:
            break
        time.sleep(0.2)
    else:
        log("the stack did not stop in time; killing its process group")
        os.killpg(pid, signal.SIGKILL)
    layout.pid_file.unlink(missing_ok=True)
    log(f"the {layout.profile} stack is stopped")
    return 0


def command_status(layout: Layout) -> int:
    if running_pid(layout) is None or not layout.state_file.exists():
        log(f"the {layout.profile} stack is not running")
        return 1
    state = StackState.read(layout.state_file)
    print(f"{layout.profile} stack at {state.base_url} (supervisor pid {state.supervisor_pid})")
    print(f"  {'process':<22} {'pid':>8} {'state':<8} {'restarts':>8}  up since")
    for name, process in state.processes.items():
        since = time.strftime("%H:%M:%S", time.localtime(process.started_at))
        condition = "running" if process.running else "held" if process.held else "waiting"
        print(f"  {name:<22} {process.pid:>8} {condition:<8} {process.restarts:>8}  {since}")
    return 0


def command_hold(layout: Layout, name: str, signal_name: str) -> int:
    if running_pid(layout) is None:
        raise SystemExit(f"the {layout.profile} stack is not running")
    process = hold_process(layout, name, signal.Signals[f"SIG{signal_name}"])
    log(f"{name} is held down (exit code {process.last_exit_code}); "
        f"`python -m scripts.stack release {name} --profile {layout.profile}` brings it back")
    return 0


def command_release(layout: Layout, name: str) -> int:
    if running_pid(layout) is None:
        raise SystemExit(f"the {layout.profile} stack is not running")
    process = release_process(layout, name)
    log(f"{name} is back (pid {process.pid}, restart {process.restarts})")
    return 0


def command_env(layout: Layout) -> int:
    if not layout.state_file.exists():
        raise SystemExit(
            f"the {layout.profile} stack is not running: python -m scripts.stack up --profile {layout.profile}"
        )
    state = StackState.read(layout.state_file)
    exports = {"BASE_URL": state.base_url, "KAFKA_BOOTSTRAP_SERVERS": state.kafka_servers,
               "STACK_STATE": str(layout.state_file), **state.kafka_tools_env,
               # The acceptance suite reads metrics where Prometheus would: each service's own port.
               "ORDER_MS_METRICS_URL": state.metrics["order-ms"],
               "DELIVERY_MS_METRICS_URL": state.metrics["delivery-ms"],
               # The staff account the suites log in as (made by the stack, services/order_ms/staff.py).
               "UAT_STAFF_USER": state.staff["user_id"], "UAT_STAFF_PASSWORD": state.staff["password"]}
    for name, value in exports.items():
        print(f"export {name}={shlex.quote(value)}")
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m scripts.stack", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("command", choices=["run", "up", "down", "status", "env", "hold", "release"])
    parser.add_argument("process", nargs="?", help="hold/release: the process's name as `status` shows it")
    parser.add_argument("--profile", default="dev", help="dev, test, or any name with STACK_PORT_OFFSET set")
    parser.add_argument("--consumers", type=int, default=int(os.environ.get("CONSUMERS", str(DEFAULT_CONSUMERS))),
                        help=f"consumer processes sharing new_orders (at most its partition count, {MAX_CONSUMERS})")
    parser.add_argument("--replicas", type=int, default=int(os.environ.get("STACK_REPLICAS", "1")),
                        help=f"instances of each HTTP service behind nginx (at most {MAX_REPLICAS}), e.g. for a "
                             "rolling restart")
    parser.add_argument("--signal", default="TERM", choices=["TERM", "KILL", "INT"],
                        help="hold: how to stop the process (KILL for a crash)")
    parser.add_argument("--quiet", action="store_true", help="logs only to files (used by `up`)")
    args = parser.parse_args(argv)
    if args.command in {"hold", "release"} and not args.process:
        parser.error(f"{args.command} needs the name of a process")
    layout = layout_for(args.profile, starting=args.command in {"run", "up"})
    consumers = max(1, min(args.consumers, MAX_CONSUMERS))
    replicas = max(1, min(args.replicas, MAX_REPLICAS))
    commands = {
        "run": lambda: command_run(layout, consumers, replicas, echo=not args.quiet),
        "up": lambda: command_up(layout, consumers, replicas),
        "down": lambda: command_down(layout),
        "status": lambda: command_status(layout),
        "env": lambda: command_env(layout),
        "hold": lambda: command_hold(layout, args.process, args.signal),
        "release": lambda: command_release(layout, args.process),
    }
    return commands[args.command]()
