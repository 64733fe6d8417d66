"""What `make k8s-verify` asks the control plane about a release (its manifest, hooks, Secrets, warning events),
the namespace it makes, admission as a server-side dry run, and how each check is reported."""
from __future__ import annotations

import base64
import json
import sys
import time
from pathlib import Path

import yaml

from scripts.controlplane import admission
from scripts.controlplane.kube import CommandFailed, helm, kubectl
from scripts.controlplane.layout import ROOT

CHART = ROOT / "charts" / "coffee-order"
RELEASE = "coffee-order"
NAMESPACE = "coffee-order"
PRODUCTION_NAMESPACE = "coffee-order-production"
MONITORING_KINDS = {"ServiceMonitor", "PodMonitor", "PrometheusRule"}
# Files under k8s/ that are not objects for the API server: kind's and kwok's own configuration.
NOT_FOR_THE_SERVER = {"kind.x-k8s.io/v1alpha4", "kwok.x-k8s.io/v1alpha1"}
TIMEOUT = "5m"


class Failed(Exception):
    """A check failed; the message names the object and says what the server said."""


def documents(text: str) -> list[dict]:
    return [d for d in yaml.safe_load_all(text) if isinstance(d, dict) and d.get("kind")]


def manifest(namespace: str) -> list[dict]:
    return documents(helm("get", "manifest", RELEASE, "-n", namespace).stdout)


def hooks(namespace: str) -> list[dict]:
    return documents(helm("get", "hooks", RELEASE, "-n", namespace).stdout)


def secret_values(namespace: str, names: list[str]) -> dict[str, dict[str, str]]:
    values = {}
    for name in names:
        secret = json.loads(kubectl("-n", namespace, "get", "secret", name, "-o", "json").stdout)
        values[name] = {k: base64.b64decode(v).decode() for k, v in secret.get("data", {}).items()}
    return values


def generated_secrets(namespace: str) -> list[str]:
    return sorted(d["metadata"]["name"] for d in manifest(namespace) if d["kind"] == "Secret")


def kept_secrets(namespace: str) -> list[str]:
    return sorted(d["metadata"]["name"] for d in manifest(namespace) if d["kind"] == "Secret"
                  and d["metadata"].get("annotations", {}).get("helm.sh/resource-policy") == "keep")


def warning_events(namespace: str) -> str:
    """What went wrong while helm waited (a refused pod, an unbound claim): each Warning event, naming its object."""
    events = json.loads(kubectl("-n", namespace, "get", "events", "-o", "json", check=False).stdout or '{"items": []}')
    lines = sorted({f"{e['involvedObject']['kind']}/{e['involvedObject']['name']}: {e['message']}"
                    for e in events["items"] if e.get("type") == "Warning"})
    return "\n".join(lines)


def helm_wait(namespace: str, *args: str) -> None:
    try:
        jobs = ["--wait-for-jobs"] if args[0] in ("install", "upgrade") else []
        helm(*args, "-n", namespace, "--wait", *jobs, "--timeout", TIMEOUT)
    except CommandFailed as failure:
        warnings = warning_events(namespace)
        raise Failed(f"{failure}\n{'warnings the server recorded:' if warnings else ''}\n{warnings}".rstrip()) from None


def make_namespace(name: str) -> None:
    """The release namespace as k8s/namespace.yaml makes it (PodSecurity "restricted" enforced), under `name`."""
    namespace = yaml.safe_load((ROOT / "k8s" / "namespace.yaml").read_text())
    namespace["metadata"]["name"] = name
    kubectl("apply", "--server-side", "-f", "-", input=json.dumps(namespace))
    deadline = time.monotonic() + 60
    while kubectl("-n", name, "get", "serviceaccount", "default", check=False).returncode != 0:
        if time.monotonic() > deadline:
            raise Failed(f"namespace {name}: no default ServiceAccount after 60 s (is kube-controller-manager up?)")
        time.sleep(0.5)


def check_admission(namespace: str, chart: Path, *values: str) -> str:
    """Renders the release as the server would (lookup included) and sends every workload's pod to admission."""
    rendered = json.loads(helm("install", RELEASE, str(chart), "-n", namespace, "--dry-run=server", *values,
                               "-o", "json").stdout)
    objects = documents(rendered.get("manifest", ""))
    for hook in rendered.get("hooks", []):
        objects += documents(hook.get("manifest", ""))
    refused = admission.refusals(objects, namespace)
    if refused:
        raise Failed("admission refused:\n" + "\n".join(refused))
    workloads = sum(1 for d in objects if admission.pod_of(d) is not None)
    return f"{workloads} workloads' pods admitted"


def absent(namespace: str, kind: str, name: str) -> bool:
    return kubectl("-n", namespace, "get", kind, name, "--ignore-not-found", "-o", "name").stdout.strip() == ""


def step(name: str, check) -> None:
    started = time.monotonic()
    try:
        detail = check()
    except (Failed, CommandFailed) as failure:
        print(f"FAIL  {name} ({time.monotonic() - started:.0f} s)")
        print("\n".join("      " + line for line in str(failure).splitlines()))
        raise SystemExit(1) from None
    print(f"ok    {name} ({time.monotonic() - started:.0f} s){': ' + detail if isinstance(detail, str) else ''}")
    sys.stdout.flush()
