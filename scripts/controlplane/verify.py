"""`make k8s-verify`: the chart and k8s/ against the local control plane. With the chart's defaults: the
pods of every workload admitted under PodSecurity "restricted", `helm install --wait`, the post-install
hook Job cleaned up by its policy, the API ports' NetworkPolicies as the server keeps them (only the ingress
controller's pods), `helm upgrade` with changed values keeping every generated password, `helm rollback`, an
upgrade that changes a StatefulSet's volume claim refused by the server (and rolled back), `helm test` with its
pod cleaned up, `helm uninstall` leaving exactly the kept Secrets, and a reinstall logging in with them. With
the production values: install, the monitoring objects absent until their CRDs exist and present after an
upgrade once they do. Every file under k8s/ that is a Kubernetes object: `kubectl apply --server-side
--dry-run=server`. A failure names the object and the server's message, and stops the run."""
from __future__ import annotations

import argparse
import json
import secrets
import tempfile
import time
from pathlib import Path

import yaml

from scripts.controlplane import admission, crds
from scripts.controlplane.kube import CommandFailed, helm, kubectl
from scripts.controlplane.layout import KUBECONFIG, ROOT
from scripts.controlplane.release import (
    CHART,
    MONITORING_KINDS,
    NAMESPACE,
    NOT_FOR_THE_SERVER,
    PRODUCTION_NAMESPACE,
    RELEASE,
    TIMEOUT,
    Failed,
    absent,
    check_admission,
    documents,
    generated_secrets,
    helm_wait,
    hooks,
    kept_secrets,
    make_namespace,
    manifest,
    secret_values,
    step,
)
from services.platform.token_keys import ensure_key_pair


def api_ports_admit_only_the_controller(namespace: str, chart: Path) -> str:
    """docs/decisions/0007-client-address-trust.md, on what the server keeps: each HTTP service's NetworkPolicy admits
    its API port from one peer, the controller's namespace AND its pods (a server that split or merged the peer
    would admit more); the metrics port admits no controller; the namespace selector matches the label the server
    itself puts on a namespace named ingress-nginx; and the services believe every peer's X-Forwarded-For."""
    values = yaml.safe_load((chart / "values.yaml").read_text())["networkPolicies"]
    controller = {"namespaceSelector": values["ingressNamespaceSelector"],
                  "podSelector": values["ingressControllerPodSelector"]}
    ingress_namespace = json.loads(kubectl("create", "namespace", "ingress-nginx", "--dry-run=server",
                                           "-o", "json").stdout)
    wanted_labels = values["ingressNamespaceSelector"]["matchLabels"].items()
    if not wanted_labels <= ingress_namespace["metadata"]["labels"].items():
        raise Failed(f"networkPolicies.ingressNamespaceSelector {dict(wanted_labels)} does not match the labels the "
                     f"server gives the namespace ingress-nginx: {ingress_namespace['metadata']['labels']}")
    checked = []
    for component in ("order-ms", "delivery-ms"):
        name = f"{RELEASE}-{component}"
        policy = json.loads(kubectl("-n", namespace, "get", "networkpolicy", name, "-o", "json").stdout)["spec"]
        by_port: dict[str, list[dict]] = {}
        for rule in policy["ingress"]:
            for port in rule["ports"]:
                by_port.setdefault(port["port"], []).extend(rule["from"])
        if by_port.get("http") != [controller]:
            raise Failed(f"NetworkPolicy {name} admits its API port from {by_port.get('http')}, not only {controller}")
        if controller in by_port.get("metrics", []) or set(by_port) != {"http", "metrics"}:
            raise Failed(f"NetworkPolicy {name} admits {by_port}: the metrics port is for monitoring only")
        checked.append(name)
    settings = [d for d in manifest(namespace) if d["kind"] == "ConfigMap" and "FORWARDED_ALLOW_IPS" in d["data"]]
    stored = json.loads(kubectl("-n", namespace, "get", "configmap", settings[0]["metadata"]["name"],
                                "-o", "json").stdout)["data"]
    if (stored["FORWARDED_ALLOW_IPS"], stored["TRUSTED_PROXY_HOPS"]) != ("*", "1"):
        raise Failed(f"FORWARDED_ALLOW_IPS={stored['FORWARDED_ALLOW_IPS']!r}, "
                     f"TRUSTED_PROXY_HOPS={stored['TRUSTED_PROXY_HOPS']!r}; wanted '*' and '1' by default")
    return f"{', '.join(checked)}: API port from the controller's pods only; FORWARDED_ALLOW_IPS=*"


def defaults_lifecycle(chart: Path) -> None:
    ns = NAMESPACE
    make_namespace(ns)
    step(f"admission of the defaults' pods in {ns}", lambda: check_admission(ns, chart))
    step("helm install --wait (defaults)", lambda: helm_wait(ns, "install", RELEASE, str(chart)))
    step("the API ports admit only the ingress controller's pods, whose X-Forwarded-For is believed",
         lambda: api_ports_admit_only_the_controller(ns, chart))

    def hook_jobs_cleaned() -> str:
        jobs = [d["metadata"]["name"] for d in hooks(ns) if d["kind"] == "Job"]
        left = [j for j in jobs if not absent(ns, "job", j)]
        if left:
            raise Failed(f"hook Jobs still there after they succeeded (hook-delete-policy): {left}")
        return f"hook Jobs {jobs} ran and were deleted"
    step("post-install hook Jobs succeeded and were cleaned up", hook_jobs_cleaned)

    generated = generated_secrets(ns)
    before = secret_values(ns, generated)

    def same_passwords(what: str) -> str:
        after = secret_values(ns, generated)
        changed = [name for name in generated if after[name] != before[name]]
        if changed:
            raise Failed(f"{what} changed the generated Secrets {changed}")
        return f"{len(generated)} Secrets unchanged: {', '.join(generated)}"

    def log_level() -> str:
        configmaps = [d for d in manifest(ns) if d["kind"] == "ConfigMap" and "LOG_LEVEL" in d.get("data", {})]
        name = configmaps[0]["metadata"]["name"]
        return json.loads(kubectl("-n", ns, "get", "configmap", name, "-o", "json").stdout)["data"]["LOG_LEVEL"]

    def upgrade() -> str:
        helm_wait(ns, "upgrade", RELEASE, str(chart), "--set", "config.logLevel=DEBUG")
        if log_level() != "DEBUG":
            raise Failed(f"helm upgrade --set config.logLevel=DEBUG: LOG_LEVEL is {log_level()!r}")
        return same_passwords("helm upgrade")
    step("helm upgrade --wait with changed values keeps every generated password", upgrade)

    def rollback() -> str:
        helm_wait(ns, "rollback", RELEASE, "1")
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
        helm_wait(ns, "rollback", RELEASE, "3")
        if log_level() != "INFO":
            raise Failed(f"helm rollback after the refused upgrade: LOG_LEVEL is {log_level()!r}, not INFO")
        return f"{statefulset}: ... field is immutable; rolled back to revision 3"
    step("helm upgrade with a changed volume claim is refused by the server, then rolled back", claim_size_is_immutable)

    def test() -> str:
        try:
            helm("test", RELEASE, "-n", ns, "--timeout", TIMEOUT)
        except CommandFailed as failure:
            raise Failed(str(failure)) from None
        pods = [d["metadata"]["name"] for d in hooks(ns)
                if d["kind"] == "Pod" and "test" in d["metadata"].get("annotations", {}).get("helm.sh/hook", "")]
        left = [p for p in pods if not absent(ns, "pod", p)]
        if not pods or left:
            raise Failed(f"helm test pods {pods}: still there after success (hook-delete-policy): {left}")
        return f"test pods {pods} succeeded and were deleted"
    step("helm test, its pods cleaned up by policy", test)

    kept = kept_secrets(ns)

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
        helm_wait(ns, "install", RELEASE, str(chart))
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
    """Makes every Secret the production values name (`existingSecret`), with random values (the token keys: a
    new key pair)."""
    wanted: dict[str, list[str]] = {values["mariadb"]["auth"]["existingSecret"]: ["mariadb-root-password"]}
    for database in values["mariadb"]["databases"].values():
        wanted[database["existingSecret"]] = ["owner-password", "app-password"]
    auth = values["kafka"]["auth"]
    for entry in [auth["broker"], auth["admin"], *auth["users"].values()]:
        wanted[entry["existingSecret"]] = ["password"]
    for name, keys in wanted.items():
        literals = [f"--from-literal={key}={secrets.token_urlsafe(24)}" for key in keys]
        kubectl("-n", namespace, "create", "secret", "generic", name, *literals)
    with tempfile.TemporaryDirectory() as folder:
        signing_key, public_keys = ensure_key_pair(Path(folder))
        tokens = values["tokens"]
        for name, key, path in ((tokens["signingKey"]["existingSecret"], "signing-key.pem", signing_key),
                                (tokens["publicKeys"]["existingSecret"], "public-keys.pem", public_keys)):
            kubectl("-n", namespace, "create", "secret", "generic", name, f"--from-file={key}={path}")
            wanted[name] = [key]
    return sorted(wanted)


def production_lifecycle(chart: Path) -> None:
    ns = PRODUCTION_NAMESPACE
    production_values = chart / "ci" / "production-values.yaml"
    values = yaml.safe_load(production_values.read_text())
    make_namespace(ns)
    step(f"the production values' existing Secrets in {ns}", lambda: ", ".join(_existing_secrets(values, ns)))
    step(f"admission of the production values' pods in {ns}",
         lambda: check_admission(ns, chart, "-f", str(production_values)))

    def install_without_crds() -> str:
        if kubectl("get", "crd", "servicemonitors.monitoring.coreos.com", "--ignore-not-found", "-o", "name").stdout:
            raise Failed("the monitoring CRDs are already installed: start from `make k8s-up`")
        helm_wait(ns, "install", RELEASE, str(chart), "-f", str(production_values))
        rendered = {d["kind"] for d in manifest(ns)} & MONITORING_KINDS
        if rendered:
            raise Failed(f"rendered {sorted(rendered)} although the server has no monitoring.coreos.com API")
        return "no ServiceMonitor, PodMonitor or PrometheusRule rendered"
    step("helm install --wait (production values, no Prometheus Operator CRDs)", install_without_crds)

    def upgrade_with_crds() -> str:
        names = crds.install()
        helm_wait(ns, "upgrade", RELEASE, str(chart), "-f", str(production_values))
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
        objects = [d for d in documents(path.read_text())
                   if d.get("apiVersion") and d["apiVersion"] not in NOT_FOR_THE_SERVER]
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


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m scripts.controlplane verify")
    parser.add_argument("--chart", type=Path, default=CHART, help="the chart to verify (default %(default)s)")
    chart = parser.parse_args(argv).chart.resolve()
    if kubectl("get", "--raw", "/readyz", check=False).returncode != 0:
        raise SystemExit(f"no control plane answers at {KUBECONFIG}: run `make k8s-up` first")
    started = time.monotonic()
    helm("dependency", "build", str(chart))
    step("a clean start", fresh_start)
    make_namespace(NAMESPACE)
    k8s_files()
    defaults_lifecycle(chart)
    production_lifecycle(chart)
    print(f"k8s-verify passed in {time.monotonic() - started:.0f} s")
