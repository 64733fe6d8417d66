"""Running the rendered pods as the kubelet would: init containers, then the container with its command,
environment and security settings; its probes; the chart's `helm test` pod; nginx in front; and stopping every
container with SIGTERM and its grace period."""
from __future__ import annotations

import json
import secrets
import subprocess
import time

from scripts.smoke.layout import CONTAINER_PREFIX, RUN_DIR, Ports, log
from scripts.smoke.podman import Podman
from scripts.stack.broker import KafkaNode, wait_for_node
from scripts.stack.ingress import nginx_argv, render_config
from scripts.stack.kafka_access import Credentials
from scripts.stack.layout import ROOT
from scripts.stack.waiting import http_ok, port_open, wait_until


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


def secret_volume_flags(name: str, pod_spec: dict, container: dict, secrets_: dict[tuple[str, str], str]) -> list[str]:
    """The container's Secret volumes as read-only bind mounts of their items, written under RUN_DIR. A bind mount
    cannot hand the files to the pod's fsGroup as the kubelet does, so they are world-readable here: a smoke's
    throwaway keys only."""
    volumes = {v["name"]: v["secret"] for v in pod_spec.get("volumes", []) if "secret" in v}
    flags = []
    for mount in container.get("volumeMounts", []):
        volume = volumes.get(mount["name"])
        if volume is None:
            continue
        folder = RUN_DIR / "volumes" / name / mount["name"]
        folder.mkdir(parents=True, exist_ok=True)
        for item in volume["items"]:
            path = folder / item["path"]
            path.unlink(missing_ok=True)  # read-only from the last run
            path.write_text(secrets_[(volume["secretName"], item["key"])])
            path.chmod(0o444)
        flags += ["-v", f"{folder}:{mount['mountPath']}:ro"]
    return flags


def probe_url(container: dict, probe: str) -> str | None:
    spec = container.get(probe, {}).get("httpGet")
    if not spec:
        return None
    port = spec["port"]
    if isinstance(port, str):
        port = next(p["containerPort"] for p in container["ports"] if p["name"] == port)
    return f"http://127.0.0.1:{port}{spec['path']}"


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
                raise SystemExit(
                    f"{name}: init container {init['name']} failed:\n{(result.stdout + result.stderr)[-3000:]}"
                )
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
        argv = ["run", "--name", container_name, "--env-file", str(env_file), *podman_flags(spec, container),
                *secret_volume_flags(name, spec, container, secrets_), *extra]
        argv += ["-d"] if detach else ["--rm"]
        argv += ["--entrypoint", json.dumps(container["command"]), container["image"], *container.get("args", [])]
        return self.podman.run(*argv, check=False, capture=True)

    def wait_for_probes(self, name: str, container: dict) -> None:
        for probe in ("startupProbe", "readinessProbe", "livenessProbe"):
            url = probe_url(container, probe)
            if url:
                wait_until(lambda url=url: self._running(name) and http_ok(url), f"{name} {probe} {url}", 120)
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
        config = render_config(RUN_DIR / "nginx", self.ports.ingress, [self.ports.order], [self.ports.delivery],
                               {"order-ms": [self.ports.order_stream], "delivery-ms": [self.ports.delivery_stream]})
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
                unclean.append(
                    f"{container} (exit {' '.join(state) or 'unknown'}, log {RUN_DIR / 'logs' / container}.log)"
                )
            self.podman.run("rm", "-f", container, check=False, capture=True)
        for process in reversed(list(self.processes.values())):
            if process.poll() is None:
                process.terminate()
                try:
                    process.wait(timeout=20)
                except subprocess.TimeoutExpired:
                    process.kill()
                    process.wait()
        return unclean
