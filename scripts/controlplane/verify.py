"""`make k8s-verify`: the chart and k8s/ against the local control plane. With the chart's defaults: the
pods of every workload admitted under PodSecurity "restricted", `helm install --wait`, the post-install
hook Job cleaned up by its policy, `helm upgrade` with changed values keeping every generated password,
`helm rollback`, an upgrade that changes a StatefulSet's volume claim refused by the server (and rolled
back), `helm test` with its pod cleaned up, `helm uninstall` leaving exactly the kept Secrets,
and a reinstall logging in with them. With the production values: install, the monitoring objects absent
until their CRDs exist and present after an upgrade once they do. Every file under k8s/ that is a
Kubernetes object: `kubectl apply --server-side --dry-run=server`. A failure names the object and
the server's message, and stops the run."""
from __future__ import annotations

import argparse
import base64
import json
import secrets
import sys
import time
from pathlib import Path

import yaml

from scripts.controlplane import admission, crds
from scripts.controlplane.kube import CommandFailed, helm, kubectl
from scripts.controlplane.layout import KUBECONFIG, ROOT

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


def _documents(text: str) -> list[dict]:
    return [d for d in yaml.safe_load_all(text) if isinstance(d, dict) and d.get("kind")]


def _manifest(namespace: str) -> list[dict]:
    return _documents(helm("get", "manifest", RELEASE, "-n", namespace).stdout)


def _hooks(namespace: str) -> list[dict]:
    return _documents(helm("get", "hooks", RELEASE, "-n", namespace).stdout)


def _secret_values(namespace: str, names: list[str]) -> dict[str, dict[str, str]]:
    values = {}
    for name in names:
        secret = json.loads(kubectl("-n", namespace, "get", "secret", name, "-o", "json").stdout)
        values[name] = {k: base64.b64decode(v).decode() for k, v in secret.get("data", {}).items()}
    return values


def _generated_secrets(namespace: str) -> list[str]:
    return sorted(d["metadata"]["name"] for d in _manifest(namespace) if d["kind"] == "Secret")


def _kept_secrets(namespace: str) -> list[str]:
    return sorted(d["metadata"]["name"] for d in _manifest(namespace) if d["kind"] == "Secret"
                  and d["metadata"].get("annotations", {}).get("helm.sh/resource-policy") == "keep")


def _warning_events(namespace: str) -> str:
    """What went wrong while helm waited (a refused pod, an unbound claim): each Warning event, naming its object."""
    events = json.loads(kubectl("-n", namespace, "get", "events", "-o", "json", check=False).stdout or '{"items": []}')
    lines = sorted({f"{e['involvedObject']['kind']}/{e['involvedObject']['name']}: {e['message']}"
                    for e in events["items"] if e.get("type") == "Warning"})
    return "\n".join(lines)


def _helm_wait(namespace: str, *args: str) -> None:
    try:
        jobs = ["--wait-for-jobs"] if args[0] in ("install", "upgrade") else []
        helm(*args, "-n", namespace, "--wait", *jobs, "--timeout", TIMEOUT)
    except CommandFailed as failure:
        warnings = _warning_events(namespace)
        raise Failed(f"{failure}\n{'warnings the server recorded:' if warnings else ''}\n{warnings}".rstrip()) from None


def _namespace(name: str) -> None:
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
    documents = _documents(rendered.get("manifest", ""))
    for hook in rendered.get("hooks", []):
        documents += _documents(hook.get("manifest", ""))
    refused = admission.refusals(documents, namespace)
    if refused:
        raise Failed("admission refused:\n" + "\n".join(refused))
    workloads = sum(1 for d in documents if admission.pod_of(d) is not None)
    return f"{workloads} workloads' pods admitted"


def _absent(namespace: str, kind: str, name: str) -> bool:
    return kubectl("-n", namespace, "get", kind, name, "--ignore-not-found", "-o", "name").stdout.strip() == ""


def defaults_lifecycle(chart: Path) -> None:
    ns = NAMESPACE
    _namespace(ns)
    step(f"admission of the defaults' pods in {ns}", lambda: check_admission(ns, chart))
    step("helm install --wait (defaults)", lambda: _helm_wait(ns, "install", RELEASE, str(chart)))

    def hook_jobs_cleaned() -> str:
        jobs = [d["metadata"]["name"] for d in _hooks(ns) if d["kind"] == "Job"]
        left = [j for j in jobs if not _absent(ns, "job", j)]
        if left:
            raise Failed(f"hook Jobs still there after they succeeded (hook-delete-policy): {left}")
        return f"hook Jobs {jobs} ran and were deleted"
    step("post-install hook Jobs succeeded and were cleaned up", hook_jobs_cleaned)

    generated = _generated_secrets(ns)
    before = _secret_values(ns, generated)

    def same_passwords(what: str) -> str:
        after = _secret_values(ns, generated)
        changed = [name for name in generated if after[name] != before[name]]
        if changed:
            raise Failed(f"{what} changed the generated Secrets {changed}")
        return f"{len(generated)} Secrets unchanged: {', '.join(generated)}"

    def log_level() -> str:
        configmaps = [d for d in _manifest(ns) if d["kind"] == "ConfigMap" and "LOG_LEVEL" in d.get("data", {})]
        name = configmaps[0]["metadata"]["name"]
        return json.loads(kubectl("-n", ns, "get", "configmap", name, "-o", "json").stdout)["data"]["LOG_LEVEL"]

    def upgrade() -> str:
        _helm_wait(ns, "upgrade", RELEASE, str(chart), "--set", "config.logLevel=DEBUG")
        if log_level() != "DEBUG":
            raise Failed(f"helm upgrade --set config.logLevel=DEBUG: LOG_LEVEL is {log_level()!r}")
        return same_passwords("helm upgrade")
    step("helm upgrade --wait with changed values keeps every generated password", upgrade)

    def rollback() -> str:
        _helm_wait(ns, "rollback", RELEASE, "1")
        if log_level() != "INFO":
            raise Failed(f"helm rollback to 1: LOG_LEVEL is {log_level()!r}, not INFO")
        return same_passwords("helm rollback")
    step("helm rollback --wait to revision 1", rollback)

    def claim_size_is_immutable() -> str:
        # What users hit most on a real cluster: a StatefulSet's volume claims cannot change on upgrade. The
        # server must refuse it, naming the StatefulSet, and a rollback must bring the release back.
        bigger = "mariadb.persistence.size=16Gi"
        try:
            helm("upgrade", RELEASE, str(chart), "-n", ns, "--set", bigger, "--timeout", TIMEOUT)
        except CommandFailed as failure:
            message = str(failure)
        else:
            raise Failed(f"helm upgrade --set {bigger} was accepted: the server allowed a StatefulSet's volume "
                         "claim to change")
        statefulset = f'StatefulSet.apps "{RELEASE}-mariadb" is invalid: spec.volumeClaimTemplates'
        refused = any(statefulset in line and line.endswith("field is immutable") for line in message.splitlines())
        if not refused:
            raise Failed(f"helm upgrade --set {bigger} failed, but not with the server's refusal of the "
                         f"StatefulSet {RELEASE}-mariadb:\n{message}")
        _helm_wait(ns, "rollback", RELEASE, "3")
        if log_level() != "INFO":
            raise Failed(f"helm rollback after the refused upgrade: LOG_LEVEL is {log_level()!r}, not INFO")
        return f"{statefulset}: ... field is immutable; rolled back to revision 3"
    step("helm upgrade with a changed volume claim is refused by the server, then rolled back", claim_size_is_immutable)

    def test() -> str:
        try:
            helm("test", RELEASE, "-n", ns, "--timeout", TIMEOUT)
        except CommandFailed as failure:
            raise Failed(str(failure)) from None
        pods = [d["metadata"]["name"] for d in _hooks(ns)
                if d["kind"] == "Pod" and "test" in d["metadata"].get("annotations", {}).get("helm.sh/hook", "")]
        left = [p for p in pods if not _absent(ns, "pod", p)]
        if not pods or left:
            raise Failed(f"helm test pods {pods}: still there after success (hook-delete-policy): {left}")
        return f"test pods {pods} succeeded and were deleted"
    step("helm test, its pods cleaned up by policy", test)

    kept = _kept_secrets(ns)

    def uninstall() -> str:
        helm("uninstall", RELEASE, "-n", ns, "--wait", "--timeout", TIMEOUT)
        secrets_left = json.loads(kubectl("-n", ns, "get", "secrets", "-o", "json").stdout)["items"]
        left = sorted(s["metadata"]["name"] for s in secrets_left)
        if left != kept:
            raise Failed(f"helm uninstall left the Secrets {left}; docs/security.md (Secrets) keeps exactly {kept}")
        others = kubectl("-n", ns, "get", "deploy,sts,job,svc,configmap,ingress,networkpolicy,pdb,hpa,role,rolebinding",
                         "-l", f"app.kubernetes.io/instance={RELEASE}", "-o", "name").stdout.split()
        if others:
            raise Failed(f"helm uninstall left {others}")
        return f"kept {', '.join(kept)}"
    step("helm uninstall leaves exactly the kept Secrets", uninstall)

    def reinstall() -> str:
        _helm_wait(ns, "install", RELEASE, str(chart))
        result = same_passwords("a reinstall over the kept Secrets")
        helm("uninstall", RELEASE, "-n", ns, "--wait", "--timeout", TIMEOUT)
        return result
    step("helm install again reuses the kept passwords", reinstall)


def _volume(name: str, storage_class: str) -> dict:
    # Statically provisioned volumes for the StatefulSets' claims (no provisioner runs): the claims of the
    # defaults (no class) and of the production values (fast-ssd) bind to these; no data is ever written.
    return {"apiVersion": "v1", "kind": "PersistentVolume", "metadata": {"name": name},
            "spec": {"capacity": {"storage": "100Gi"}, "accessModes": ["ReadWriteOnce"],
                     "persistentVolumeReclaimPolicy": "Retain", "storageClassName": storage_class,
                     "hostPath": {"path": f"/nonexistent/{name}"}}}


def fresh_start() -> str:
    """What an earlier run left (its namespaces, the CRDs, the used volumes) goes, so every run starts alike."""
    kubectl("delete", "namespace", NAMESPACE, PRODUCTION_NAMESPACE, "--ignore-not-found", "--timeout=180s")
    kubectl("delete", "crd", *(f"{plural}.monitoring.coreos.com" for plural in crds.WANTED), "--ignore-not-found")
    kubectl("delete", "persistentvolume", "--all", "--timeout=60s")
    volumes = [_volume(f"local-{i}", "") for i in range(4)] + [_volume(f"fast-ssd-{i}", "fast-ssd") for i in range(4)]
    kubectl("apply", "-f", "-", input=json.dumps({"apiVersion": "v1", "kind": "List", "items": volumes}))
    return f"{len(volumes)} PersistentVolumes, no release namespace, no monitoring CRDs"


def _existing_secrets(values: dict, namespace: str) -> list[str]:
    """Makes every Secret the production values name (`existingSecret`), with random values."""
    wanted: dict[str, list[str]] = {values["jwt"]["existingSecret"]: ["jwt-secret"],
                                    values["mariadb"]["auth"]["existingSecret"]: ["mariadb-root-password"]}
    for database in values["mariadb"]["databases"].values():
        wanted[database["existingSecret"]] = ["owner-password", "app-password"]
    auth = values["kafka"]["auth"]
    for entry in [auth["broker"], auth["admin"], *auth["users"].values()]:
        wanted[entry["existingSecret"]] = ["password"]
    for name, keys in wanted.items():
        literals = [f"--from-literal={key}={secrets.token_urlsafe(24)}" for key in keys]
        kubectl("-n", namespace, "create", "secret", "generic", name, *literals)
    return sorted(wanted)


def production_lifecycle(chart: Path) -> None:
    ns = PRODUCTION_NAMESPACE
    production_values = chart / "ci" / "production-values.yaml"
    values = yaml.safe_load(production_values.read_text())
    _namespace(ns)
    step(f"the production values' existing Secrets in {ns}", lambda: ", ".join(_existing_secrets(values, ns)))
    step(f"admission of the production values' pods in {ns}",
         lambda: check_admission(ns, chart, "-f", str(production_values)))

    def install_without_crds() -> str:
        if kubectl("get", "crd", "servicemonitors.monitoring.coreos.com", "--ignore-not-found", "-o", "name").stdout:
            raise Failed("the monitoring CRDs are already installed: start from `make k8s-up`")
        _helm_wait(ns, "install", RELEASE, str(chart), "-f", str(production_values))
        rendered = {d["kind"] for d in _manifest(ns)} & MONITORING_KINDS
        if rendered:
            raise Failed(f"rendered {sorted(rendered)} although the server has no monitoring.coreos.com API")
        return "no ServiceMonitor, PodMonitor or PrometheusRule rendered"
    step("helm install --wait (production values, no Prometheus Operator CRDs)", install_without_crds)

    def upgrade_with_crds() -> str:
        names = crds.install()
        _helm_wait(ns, "upgrade", RELEASE, str(chart), "-f", str(production_values))
        found = kubectl("-n", ns, "get", "servicemonitors,podmonitors,prometheusrules", "-o", "name").stdout.split()
        kinds = {name.split("/")[0].split(".")[0] for name in found}
        if kinds != {"servicemonitor", "podmonitor", "prometheusrule"}:
            raise Failed(f"with the CRDs {names} installed the server holds only {found}")
        return ", ".join(found)
    step("helm upgrade --wait once the CRDs exist renders the monitoring objects", upgrade_with_crds)

    def uninstall() -> None:
        helm("uninstall", RELEASE, "-n", ns, "--wait", "--timeout", TIMEOUT)
    step("helm uninstall (production values)", uninstall)


def k8s_files() -> None:
    for path in sorted((ROOT / "k8s").rglob("*.y*ml")):
        documents = _documents(path.read_text())
        objects = [d for d in documents if d.get("apiVersion") and d["apiVersion"] not in NOT_FOR_THE_SERVER]
        if not objects:
            continue
        relative = path.relative_to(ROOT)

        def apply(path=path, objects=objects) -> str:
            try:
                kubectl("apply", "--server-side", "--dry-run=server", "-n", NAMESPACE, "-f", str(path))
            except CommandFailed as failure:
                raise Failed(str(failure)) from None
            refused = admission.refusals(objects, NAMESPACE)
            if refused:
                raise Failed("admission refused:\n" + "\n".join(refused))
            return ", ".join(f"{d['kind']}/{d['metadata']['name']}" for d in objects)
        step(f"kubectl apply --server-side --dry-run=server {relative}", apply)


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


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m scripts.controlplane verify")
    parser.add_argument("--chart", type=Path, default=CHART, help="the chart to verify (default %(default)s)")
    chart = parser.parse_args(argv).chart.resolve()
    if kubectl("get", "--raw", "/readyz", check=False).returncode != 0:
        raise SystemExit(f"no control plane answers at {KUBECONFIG}: run `make k8s-up` first")
    started = time.monotonic()
    helm("dependency", "build", str(chart))
    step("a clean start", fresh_start)
    _namespace(NAMESPACE)
    k8s_files()
    defaults_lifecycle(chart)
    production_lifecycle(chart)
    print(f"k8s-verify passed in {time.monotonic() - started:.0f} s")
