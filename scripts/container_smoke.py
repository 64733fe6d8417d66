"""Container smoke: builds both images with podman and runs the chart's pods from them behind nginx.

    .venv/bin/python -m scripts.container_smoke          # what `make container-smoke` runs

1. A Debian bookworm base image made locally with debootstrap (no registry can be reached here), cached
   in podman's storage under .run/podman/ together with the build layers, so a second run only
   rebuilds what changed.
2. Dockerfile.order and Dockerfile.delivery built on it (`--build-arg BASE_IMAGE`).
3. `helm template` of charts/coffee-order with the local MariaDB and an Apache Kafka node (SASL/SCRAM with the
   chart's users and ACLs, scripts/stack/kafka_access.py) as the external database and Kafka (every secret from an existing Secret, as in GitOps); the two databases and their
   owner and app users are made by `python -m services.platform.provision`, the topics by
   `python -m services.platform.kafka_topics`. Every Deployment of the output is run as its pod would
   be: init containers first, then the container with the rendered command, environment, user,
   read-only root filesystem, dropped capabilities and emptyDir mounts (host networking, one replica each).
4. Each container's startup and readiness probes are polled as the kubelet would, the chart's
   `helm test` pod runs, the suite's staff account is made with `podman exec` of services.order_ms.staff (as
   `kubectl exec` would), then nginx (the local stack's ingress, scripts/stack/ingress.py) fronts order-ms and
   delivery-ms, and the acceptance suite's smoke cases run through it.
5. Every container is stopped as Kubernetes stops a pod (SIGTERM, then the pod's grace period) and must
   exit 0 within it: one that needs SIGKILL or exits with an error fails the smoke.

Ports are the standard ones shifted by CONTAINER_SMOKE_PORT_OFFSET (default 12000: below the kernel's ephemeral
range, so no outgoing connection can hold one of them, and clear of the test stack's +10000); the databases are
coffee_smoke_order and coffee_smoke_delivery, dropped first so the migrations run from nothing.
When podman cannot run here the smoke fails, unless CONTAINER_SMOKE_OPTIONAL=1 asks to skip it: then it
prints SKIPPED and exits 77, which scripts/test.sh reports as a skipped suite.
"""
from __future__ import annotations

import argparse
import json
import os
import secrets
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

import yaml

from scripts.stack.broker import KafkaNode, wait_for_node
from scripts.stack.kafka_access import TOOLS_PRINCIPAL, Credentials, chart_definition, stack_definition
from scripts.stack.debian import ensure_debian_package
from scripts.stack.ingress import nginx_argv, render_config
from scripts.stack.layout import ROOT
from scripts.stack.waiting import http_ok, port_open, wait_until

PODMAN_DIR = ROOT / ".run" / "podman"
RUN_DIR = ROOT / ".run" / "container-smoke"
HELM = ROOT / ".tools" / "bin" / "helm"
CHART = ROOT / "charts" / "coffee-order"
# Bump when the recipe below changes, so cached base images from an older recipe are not reused.
BASE_IMAGE = "localhost/coffee-base:bookworm-1"
IMAGES = {"order": ("Dockerfile.order", "localhost/coffee-order"), "delivery": ("Dockerfile.delivery", "localhost/coffee-delivery")}
IMAGE_TAG = "smoke"
CODECS_CHECK = ("from kafka import codec; missing = [name for name in ('snappy', 'lz4', 'zstd')"
                " if not getattr(codec, 'has_' + name)()]; assert not missing, missing")
CONTAINER_PREFIX = "coffee-smoke-"
# Secrets the chart reads from Secrets it does not create here (global.secrets=existing).
JWT_SECRET_NAME = "smoke-jwt"
DATABASES = {"order": "coffee_smoke_order", "delivery": "coffee_smoke_delivery"}
KAFKA_USERS = tuple(chart_definition().users)
# The exit status of a smoke skipped on request (automake's convention for a skipped test).
SKIPPED = 77


def log(message: str) -> None:
    print(f"[container-smoke] {message}", flush=True)


# --- podman ----------------------------------------------------------------------------------------
class Podman:
    """podman with its configuration and storage under .run/podman (the toolbox's workarounds)."""

    def __init__(self):
        self.env = {**os.environ,
                    "CONTAINERS_CONF": str(PODMAN_DIR / "containers.conf"),
                    "CONTAINERS_STORAGE_CONF": str(PODMAN_DIR / "storage.conf"),
                    "TMPDIR": str(PODMAN_DIR / "tmp")}

    def configure(self) -> None:
        for sub in ("tmp", "storage", "runroot", "libpod-tmp", "volumes"):
            (PODMAN_DIR / sub).mkdir(parents=True, exist_ok=True)
        # crun fails on this machine's hybrid cgroups and the sandbox cannot raise rlimits: runc,
        # cgroupfs, file events and fixed ulimits make podman work here (and anywhere else).
        (PODMAN_DIR / "containers.conf").write_text(f"""[containers]
default_ulimits = ["nofile=20000:20000", "nproc=32768:32768"]

[engine]
runtime = "runc"
cgroup_manager = "cgroupfs"
events_logger = "file"
tmp_dir = "{PODMAN_DIR / 'libpod-tmp'}"
volume_path = "{PODMAN_DIR / 'volumes'}"
""")
        (PODMAN_DIR / "storage.conf").write_text(f"""[storage]
driver = "overlay"
graphroot = "{PODMAN_DIR / 'storage'}"
runroot = "{PODMAN_DIR / 'runroot'}"
""")

    def run(self, *args: str, check: bool = True, capture: bool = False, **kwargs) -> subprocess.CompletedProcess:
        return subprocess.run(["podman", *args], env=self.env, check=check, text=True,
                              capture_output=capture, **kwargs)

    def image_exists(self, name: str) -> bool:
        return self.run("image", "exists", name, check=False).returncode == 0


def podman_available(podman: Podman) -> str | None:
    """None when podman works here, else why not."""
    if shutil.which("podman") is None:
        try:
            ensure_debian_package("podman", "podman")
            ensure_debian_package("runc", "runc")
        except SystemExit as exc:
            return f"podman is not installed and cannot be installed here ({exc})"
    podman.configure()
    result = podman.run("info", "--format", "{{.Host.OCIRuntime.Name}}", check=False, capture=True)
    if result.returncode != 0:
        return f"`podman info` fails: {result.stderr.strip()[-500:]}"
    return None


def debian_mirror() -> str:
    """The host's Debian mirror, so the base image installs from where the host does."""
    sources = Path("/etc/apt/sources.list.d/debian.sources")
    if sources.exists():
        for line in sources.read_text().splitlines():
            if line.startswith("URIs:"):
                return line.split()[1]
    return "http://deb.debian.org/debian"


def build_base_image(podman: Podman) -> None:
    """bookworm + python3 + venv (what the official slim image offers the Dockerfiles), from debootstrap."""
    if podman.image_exists(BASE_IMAGE):
        log(f"base image {BASE_IMAGE}: cached")
        return
    if os.geteuid() != 0:
        raise SystemExit("the base image is made with debootstrap and chroot, which need root: run as root (CI does)")
    debootstrap = ensure_debian_package("debootstrap", "debootstrap")
    log(f"base image {BASE_IMAGE}: debootstrap bookworm (once; about 2 minutes)")
    started = time.monotonic()
    with tempfile.TemporaryDirectory(dir=PODMAN_DIR / "tmp") as work:
        rootfs = Path(work) / "rootfs"
        subprocess.run([debootstrap, "--variant=minbase", "--include=python3,python3-venv,ca-certificates",
                        "bookworm", str(rootfs), debian_mirror()], check=True, stdout=subprocess.DEVNULL)
        # Trust what the host trusts: pip inside the build must pass the same TLS-inspecting proxies.
        local_cas = sorted(Path("/usr/local/share/ca-certificates").glob("**/*.crt"))
        for cert in local_cas:
            shutil.copy(cert, rootfs / "usr/local/share/ca-certificates" / cert.name)
        if local_cas:
            subprocess.run(["chroot", str(rootfs), "update-ca-certificates"], check=True, capture_output=True,
                           env={**os.environ, "TMPDIR": "/tmp"})
        host_sources = Path("/etc/apt/sources.list.d/debian.sources")
        if host_sources.exists():
            shutil.copy(host_sources, rootfs / "etc/apt/sources.list.d/")
            (rootfs / "etc/apt/sources.list").unlink(missing_ok=True)
        for leftover in [*rootfs.glob("var/cache/apt/archives/*.deb"), *rootfs.glob("var/lib/apt/lists/*_*")]:
            leftover.unlink()
        tar = subprocess.Popen(["tar", "-C", str(rootfs), "-c", "."], stdout=subprocess.PIPE)
        podman.run("import", "--change", "ENV PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin",
                   "-", BASE_IMAGE, stdin=tar.stdout, stdout=subprocess.DEVNULL)
        if tar.wait() != 0:
            raise SystemExit("tar of the debootstrap root filesystem failed")
    log(f"base image built in {time.monotonic() - started:.0f}s")


def build_images(podman: Podman) -> None:
    for kind, (dockerfile, repository) in IMAGES.items():
        started = time.monotonic()
        log_path = RUN_DIR / "logs" / f"build-{kind}.log"
        with open(log_path, "w") as out:
            result = podman.run("build", "--pull=never", "--layers", "--network", "host",
                                "--build-arg", f"BASE_IMAGE={BASE_IMAGE}", "-f", dockerfile,
                                "-t", f"{repository}:{IMAGE_TAG}", ".", check=False, cwd=ROOT,
                                stdout=out, stderr=subprocess.STDOUT)
        if result.returncode != 0:
            print(log_path.read_text()[-4000:])
            raise SystemExit(f"podman build -f {dockerfile} failed; log: {log_path}")
        log(f"{repository}:{IMAGE_TAG} built in {time.monotonic() - started:.0f}s")
        # Every codec Kafka defines must decode in the image the consumer runs from (and in the other one too:
        # both install requirements.txt), or one compressed batch from another producer stops it.
        check = podman.run("run", "--rm", f"{repository}:{IMAGE_TAG}", "python", "-c", CODECS_CHECK, check=False,
                           capture=True)
        if check.returncode != 0:
            raise SystemExit(f"{repository}:{IMAGE_TAG} cannot decode every Kafka codec:\n{check.stdout}{check.stderr}")


# --- what the chart renders ---------------------------------------------------------------------
@dataclass
class Ports:
    offset: int
    order: int = field(init=False)
    delivery: int = field(init=False)
    ingress: int = field(init=False)
    broker: int = field(init=False)

    def __post_init__(self):
        self.order, self.delivery = 5000 + self.offset, 6000 + self.offset
        self.ingress, self.broker = 8080 + self.offset, 9092 + self.offset


def database_spec() -> list[dict]:
    """The two databases with an owner and an app user each, fresh passwords every run."""
    return [{"database": name, "owner": {"user": f"{name}_owner"[:32], "password": secrets.token_urlsafe(18)},
             "app": {"user": f"{name}_app"[:32], "password": secrets.token_urlsafe(18)}}
            for name in DATABASES.values()]


def render_chart(ports: Ports, db: dict[str, str], spec: list[dict]) -> list[dict]:
    """The chart as Argo CD would render it, every secret from an existing Secret."""
    values = {
        "global": {"secrets": "existing"},
        "image": {"registry": "", "tag": IMAGE_TAG, "pullPolicy": "Never",
                  "order": {"repository": IMAGES["order"][1]}, "delivery": {"repository": IMAGES["delivery"][1]}},
        "config": {"trustedProxies": "127.0.0.1"},  # nginx, the one proxy hop here
        "jwt": {"existingSecret": JWT_SECRET_NAME},
        "orderMs": {"port": ports.order, "replicas": 1},
        "deliveryMs": {"port": ports.delivery, "replicas": 1},
        # Host networking: each worker needs a metrics port of its own.
        "orderRelay": {"metricsPort": 9101 + ports.offset},
        "deliveryRelay": {"metricsPort": 9102 + ports.offset},
        "consumer": {"metricsPort": 9110 + ports.offset},
        "databases": DATABASES,
        "mariadb": {"enabled": False},
        "externalDatabase": {"host": db["DB_HOST"], "port": int(db["DB_PORT"]), "databases": {
            entry["database"]: {"ownerUser": entry["owner"]["user"], "appUser": entry["app"]["user"],
                                "existingSecret": f"smoke-db-{entry['database']}"} for entry in spec}},
        "kafka": {"enabled": False},
        "externalKafka": {"bootstrapServers": f"127.0.0.1:{ports.broker}", "securityProtocol": "SASL_PLAINTEXT",
                          "users": {user: {"existingSecret": f"smoke-kafka-{user}"} for user in KAFKA_USERS},
                          "newOrdersPartitions": 3},
    }
    values_file = RUN_DIR / "values.yaml"
    values_file.write_text(yaml.safe_dump(values))
    subprocess.run([str(HELM), "dependency", "build", str(CHART)], check=True, capture_output=True)
    rendered = subprocess.run([str(HELM), "template", "smoke", str(CHART), "-f", str(values_file)],
                              check=True, capture_output=True, text=True).stdout
    (RUN_DIR / "rendered.yaml").write_text(rendered)
    return [doc for doc in yaml.safe_load_all(rendered) if doc]


def env_of(container: dict, config_maps: dict[str, dict], secrets_: dict[tuple[str, str], str]) -> dict[str, str]:
    """The container's environment as the kubelet builds it: envFrom first, then env (which wins)."""
    env: dict[str, str] = {}
    for source in container.get("envFrom", []):
        env.update(config_maps[source["configMapRef"]["name"]])
    for item in container.get("env", []):
        if "value" in item:
            env[item["name"]] = str(item["value"])
        else:
            ref = item["valueFrom"]["secretKeyRef"]
            env[item["name"]] = secrets_[(ref["name"], ref["key"])]
    return env


def podman_flags(pod_spec: dict, container: dict) -> list[str]:
    """The pod's and container's security settings and emptyDir mounts as podman options."""
    pod_sc, sc = pod_spec.get("securityContext", {}), container.get("securityContext", {})
    user = sc.get("runAsUser", pod_sc.get("runAsUser"))
    group = sc.get("runAsGroup", pod_sc.get("runAsGroup"))
    flags = ["--pull=never", "--network", "host"]
    if user is not None:
        flags += ["--user", f"{user}:{group if group is not None else user}"]
    if sc.get("readOnlyRootFilesystem"):
        flags.append("--read-only")
    if "ALL" in sc.get("capabilities", {}).get("drop", []):
        flags.append("--cap-drop=all")
    if sc.get("allowPrivilegeEscalation") is False:
        flags += ["--security-opt", "no-new-privileges"]
    empty_dirs = {v["name"] for v in pod_spec.get("volumes", []) if "emptyDir" in v}
    for mount in container.get("volumeMounts", []):
        if mount["name"] in empty_dirs:
            flags += ["--tmpfs", f"{mount['mountPath']}:rw,mode=1777"]
    return flags


def probe_url(container: dict, probe: str) -> str | None:
    spec = container.get(probe, {}).get("httpGet")
    if not spec:
        return None
    port = spec["port"]
    if isinstance(port, str):
        port = next(p["containerPort"] for p in container["ports"] if p["name"] == port)
    return f"http://127.0.0.1:{port}{spec['path']}"


# --- running the pods --------------------------------------------------------------------------
class Smoke:
    """Starts the broker, the pods and nginx, and stops exactly what it started."""

    def __init__(self, podman: Podman, ports: Ports, kafka_credentials: Credentials):
        self.podman = podman
        self.ports = ports
        self.kafka_credentials = kafka_credentials
        self.processes: dict[str, subprocess.Popen] = {}
        self.containers: list[str] = []

    def start_broker(self) -> None:
        if port_open("127.0.0.1", self.ports.broker):
            raise SystemExit(f"port {self.ports.broker} is taken; set CONTAINER_SMOKE_PORT_OFFSET to another offset")
        node = KafkaNode(RUN_DIR / "kafka", self.ports.broker, self.ports.broker + 1, self.kafka_credentials)
        node.prepare(fresh=True)
        self._start("broker", node.argv())
        # In Kubernetes the kafka chart's topics Job sets up the topics, users and ACLs; the same ones.
        wait_for_node(node, RUN_DIR / "logs", self.processes["broker"])

    def _start(self, name: str, argv: list[str]) -> None:
        out = open(RUN_DIR / "logs" / f"{name}.log", "wb")
        self.processes[name] = subprocess.Popen(argv, cwd=ROOT, stdout=out, stderr=subprocess.STDOUT,
                                                stdin=subprocess.DEVNULL)

    def run_pod(self, deployment: dict, config_maps: dict, secrets_: dict) -> dict:
        """Init containers to completion, then the main container in the background; returns the latter."""
        name = deployment["metadata"]["name"]
        spec = deployment["spec"]["template"]["spec"]
        for init in spec.get("initContainers", []):
            started = time.monotonic()
            result = self._podman_run(f"{name}-{init['name']}", spec, init, config_maps, secrets_, detach=False)
            if result.returncode != 0:
                raise SystemExit(f"{name}: init container {init['name']} failed:\n{(result.stdout + result.stderr)[-3000:]}")
            log(f"{name}: init container {init['name']} done in {time.monotonic() - started:.1f}s")
        (container,) = spec["containers"]
        result = self._podman_run(name, spec, container, config_maps, secrets_, detach=True)
        if result.returncode != 0:
            raise SystemExit(f"{name}: podman run failed:\n{result.stdout[-3000:]}")
        self.containers.append((CONTAINER_PREFIX + name, spec.get("terminationGracePeriodSeconds", 30)))
        return container

    def run_helm_test(self, pod: dict, service_names: list[str], config_maps: dict, secrets_: dict) -> None:
        """The chart's `helm test` pod, its Service names pointing at this host (host networking)."""
        name = pod["metadata"]["name"]
        (container,) = pod["spec"]["containers"]
        hosts = [flag for service in service_names for flag in ("--add-host", f"{service}:127.0.0.1")]
        result = self._podman_run(name, pod["spec"], container, config_maps, secrets_, detach=False, extra=hosts)
        if result.returncode != 0:
            raise SystemExit(f"helm test pod {name} failed:\n{result.stdout[-3000:]}{result.stderr[-3000:]}")
        log(f"helm test pod {name} passed")

    def _podman_run(self, name, spec, container, config_maps, secrets_, detach: bool, extra: list[str] = ()):
        env_file = RUN_DIR / f"{name}.env"
        env_file.write_text("".join(f"{k}={v}\n" for k, v in env_of(container, config_maps, secrets_).items()))
        env_file.chmod(0o600)  # it holds the secrets
        container_name = CONTAINER_PREFIX + name
        self.podman.run("rm", "-f", "--ignore", container_name, check=False, capture=True)
        argv = ["run", "--name", container_name, "--env-file", str(env_file), *podman_flags(spec, container), *extra]
        argv += ["-d"] if detach else ["--rm"]
        argv += ["--entrypoint", json.dumps(container["command"]), container["image"], *container.get("args", [])]
        return self.podman.run(*argv, check=False, capture=True)

    def wait_for_probes(self, name: str, container: dict) -> None:
        for probe in ("startupProbe", "readinessProbe", "livenessProbe"):
            url = probe_url(container, probe)
            if url:
                wait_until(lambda: self._running(name) and http_ok(url), f"{name} {probe} {url}", 120)
        log(f"{name}: probes pass")

    def _running(self, name: str) -> bool:
        state = self.podman.run("inspect", "--format", "{{.State.Running}}", CONTAINER_PREFIX + name,
                                check=False, capture=True).stdout.strip()
        if state != "true":
            logs = self.podman.run("logs", CONTAINER_PREFIX + name, check=False, capture=True)
            raise SystemExit(f"{name} is not running:\n{(logs.stdout + logs.stderr)[-3000:]}")
        return True

    def create_staff(self, order_ms: str) -> dict[str, str]:
        """The suite's staff account, made as an operator makes one in a cluster (`kubectl exec` of
        services.order_ms.staff in the order-ms container, the password on standard input); the chart has no
        demo accounts."""
        staff = {"UAT_STAFF_USER": "smoke-staff", "UAT_STAFF_PASSWORD": secrets.token_urlsafe(18)}
        result = self.podman.run("exec", "-i", CONTAINER_PREFIX + order_ms, "python", "-m", "services.order_ms.staff",
                                 "create", "--user-id", staff["UAT_STAFF_USER"], "--password-stdin",
                                 "--reset-password", check=False, capture=True,
                                 input=staff["UAT_STAFF_PASSWORD"] + "\n")
        if result.returncode != 0:
            raise SystemExit(f"creating the staff account failed:\n{result.stdout}{result.stderr}")
        log(result.stdout.strip())
        return staff

    def start_ingress(self) -> str:
        config = render_config(RUN_DIR / "nginx", self.ports.ingress, [self.ports.order], [self.ports.delivery])
        self._start("ingress", nginx_argv(config))
        base_url = f"http://127.0.0.1:{self.ports.ingress}"
        wait_until(lambda: http_ok(f"{base_url}/order-ms") and http_ok(f"{base_url}/delivery-ms"),
                   "nginx ingress", 30, self.processes["ingress"])
        return base_url

    def stop(self) -> list[str]:
        """Stops everything it started; returns the containers that did not stop cleanly."""
        unclean = []
        for container, grace in reversed(self.containers):
            # SIGTERM, then SIGKILL after the pod's grace period, as the kubelet does.
            self.podman.run("stop", "-t", str(grace), container, check=False, capture=True)
            state = self.podman.run("inspect", "--format", "{{.State.ExitCode}} {{.State.OOMKilled}}", container,
                                    check=False, capture=True).stdout.split()
            logs = self.podman.run("logs", container, check=False, capture=True)
            (RUN_DIR / "logs" / f"{container}.log").write_text(logs.stdout + logs.stderr)
            if state[:1] != ["0"]:
                unclean.append(f"{container} (exit {' '.join(state) or 'unknown'}, log {RUN_DIR / 'logs' / container}.log)")
            self.podman.run("rm", "-f", container, check=False, capture=True)
        for name, process in reversed(list(self.processes.items())):
            if process.poll() is None:
                process.terminate()
                try:
                    process.wait(timeout=20)
                except subprocess.TimeoutExpired:
                    process.kill()
                    process.wait()
        return unclean


def database_settings() -> dict[str, str]:
    """The MariaDB server to use and its administrator: the running test stack's, else DB_* from the environment."""
    state_file = os.environ.get("STACK_STATE")
    if state_file and Path(state_file).exists():
        state = json.loads(Path(state_file).read_text())
        env = {**state["env"], **state.get("admin", {})}
    else:
        env = os.environ
    return {"DB_HOST": env.get("DB_HOST", "127.0.0.1"), "DB_PORT": str(env.get("DB_PORT", "3306")),
            "DB_USER": env.get("DB_USER", "root"), "DB_PASSWORD": env.get("DB_PASSWORD", "")}


def provision_databases(db: dict[str, str], spec: list[dict]) -> None:
    """Drops the smoke's databases, then makes them and their users as an operator would."""
    import mariadb

    try:
        conn = mariadb.connect(host=db["DB_HOST"], port=int(db["DB_PORT"]), user=db["DB_USER"],
                               password=db["DB_PASSWORD"], connect_timeout=5)
    except mariadb.Error as exc:
        raise SystemExit(f"MariaDB at {db['DB_HOST']}:{db['DB_PORT']} does not answer ({exc}); "
                         "start it (make up) or set DB_HOST/DB_PORT") from None
    for entry in spec:
        conn.cursor().execute(f"DROP DATABASE IF EXISTS `{entry['database']}`")
    conn.close()
    subprocess.run([sys.executable, "-m", "services.platform.provision"], cwd=ROOT, check=True,
                   input=json.dumps(spec), text=True,
                   env={**os.environ, "DB_HOST": db["DB_HOST"], "DB_PORT": db["DB_PORT"],
                        "DB_ADMIN_USER": db["DB_USER"], "DB_ADMIN_PASSWORD": db["DB_PASSWORD"]})


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--keep", action="store_true", help="leave everything running until Ctrl-C (to poke at it)")
    args = parser.parse_args()
    # A TERM (a CI timeout, `kill`) unwinds through the `finally` below, so no container is left behind.
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    podman = Podman()
    reason = podman_available(podman)
    if reason:
        if os.environ.get("CONTAINER_SMOKE_OPTIONAL") == "1":
            log(f"SKIPPED (CONTAINER_SMOKE_OPTIONAL=1): {reason}")
            return SKIPPED
        log(f"FAILED: podman cannot run here: {reason}")
        log("set CONTAINER_SMOKE_OPTIONAL=1 to skip the container smoke on purpose")
        return 1
    if not HELM.exists():
        raise SystemExit(f"{HELM} is missing: run scripts/setup.d/k8s-tools.sh")
    (RUN_DIR / "logs").mkdir(parents=True, exist_ok=True)
    ports = Ports(int(os.environ.get("CONTAINER_SMOKE_PORT_OFFSET", "12000")))
    db = database_settings()
    spec = database_spec()

    build_base_image(podman)
    build_images(podman)
    docs = render_chart(ports, db, spec)
    config_maps = {d["metadata"]["name"]: d["data"] for d in docs if d["kind"] == "ConfigMap"}
    secret_values = {(JWT_SECRET_NAME, "jwt-secret"): secrets.token_urlsafe(32)}
    for entry in spec:
        for role in ("owner", "app"):
            secret_values[(f"smoke-db-{entry['database']}", f"{role}-password")] = entry[role]["password"]
    kafka_credentials = Credentials.load_or_create(RUN_DIR / "kafka" / "credentials.json", stack_definition(), fresh=True)
    for user in KAFKA_USERS:
        secret_values[(f"smoke-kafka-{user}", "password")] = kafka_credentials.passwords[user]
    deployments = [d for d in docs if d["kind"] == "Deployment"]

    provision_databases(db, spec)
    smoke = Smoke(podman, ports, kafka_credentials)
    try:
        smoke.start_broker()
        started = {}
        for deployment in deployments:
            started[deployment["metadata"]["name"]] = smoke.run_pod(deployment, config_maps, secret_values)
        for name, container in started.items():
            smoke.wait_for_probes(name, container)
        services = [d["metadata"]["name"] for d in docs if d["kind"] == "Service"]
        for pod in (d for d in docs if d["kind"] == "Pod" and "test" in d["metadata"]["annotations"]["helm.sh/hook"]):
            smoke.run_helm_test(pod, services, config_maps, secret_values)
        staff = smoke.create_staff(next(name for name in started if name.endswith("-order-ms")))
        base_url = smoke.start_ingress()
        log(f"ingress {base_url} -> containers {', '.join(started)}")
        if args.keep:
            log("running; Ctrl-C (or kill) stops everything")
            try:
                signal.pause()
            except KeyboardInterrupt:
                return 0
        results = os.environ.get("TEST_RESULTS", str(ROOT / "test-results"))
        suite = subprocess.run(
            [sys.executable, "-m", "pytest", "tests/acceptance", "-m", "smoke", "-q", "-p", "no:cacheprovider",
             f"--junitxml={results}/container-smoke.xml"],
            cwd=ROOT, env={**os.environ, "BASE_URL": base_url, "KAFKA_BOOTSTRAP_SERVERS": f"127.0.0.1:{ports.broker}",
                           **kafka_credentials.client_env(TOOLS_PRINCIPAL), **staff,
                           "UAT_REPORT_DIR": f"{results}/container-smoke"})
        suite_status = suite.returncode
    finally:
        unclean = smoke.stop()
        log(f"stopped; logs in {RUN_DIR / 'logs'}")
    if unclean:
        log("did not stop cleanly on SIGTERM: " + "; ".join(unclean))
        return 1
    return suite_status


if __name__ == "__main__":
    sys.exit(main())
