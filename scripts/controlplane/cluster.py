"""Starts etcd, kube-apiserver, kube-controller-manager, kube-scheduler and kwok on loopback, each in its own
process group with its log under .run/controlplane/logs, and stops them again. Every `up` starts from
empty: new certificates, new etcd data."""
from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import time

from scripts.controlplane import certs
from scripts.controlplane.kube import kubectl, wait_for
from scripts.controlplane.layout import (
    APISERVER_PORT,
    BIN,
    ETCD_CLIENT_PORT,
    ETCD_DATA,
    ETCD_PEER_PORT,
    KUBECONFIG,
    KWOK_PORT,
    KWOK_STAGES,
    LOGS,
    PKI,
    RUN,
    SERVICE_CIDR,
    SIMULATED_NODES,
    STATE,
)

# PodSecurity "restricted" is the cluster's default; kube-system alone is exempt (nothing of ours runs there).
ADMISSION_CONFIG = """apiVersion: apiserver.config.k8s.io/v1
kind: AdmissionConfiguration
plugins:
- name: PodSecurity
  configuration:
    apiVersion: pod-security.admission.config.k8s.io/v1
    kind: PodSecurityConfiguration
    defaults: {enforce: restricted, enforce-version: latest, warn: restricted, warn-version: latest}
    exemptions: {namespaces: [kube-system]}
"""


def _programs() -> list[tuple[str, list[str]]]:
    etcd_url = f"http://127.0.0.1:{ETCD_CLIENT_PORT}"
    peer_url = f"http://127.0.0.1:{ETCD_PEER_PORT}"
    kubeconfig = f"--kubeconfig={KUBECONFIG}"
    return [
        # etcd on loopback without TLS (only this user's processes reach 127.0.0.1 here); its data is thrown
        # away with the cluster, so it need not fsync.
        (
            "etcd",
            [
                "--name=local",
                f"--data-dir={ETCD_DATA}",
                f"--listen-client-urls={etcd_url}",
                f"--advertise-client-urls={etcd_url}",
                f"--listen-peer-urls={peer_url}",
                f"--initial-advertise-peer-urls={peer_url}",
                f"--initial-cluster=local={peer_url}",
                "--unsafe-no-fsync",
            ],
        ),
        (
            "kube-apiserver",
            [
                f"--etcd-servers={etcd_url}",
                "--bind-address=127.0.0.1",
                f"--secure-port={APISERVER_PORT}",
                "--advertise-address=127.0.0.1",
                "--endpoint-reconciler-type=none",
                f"--tls-cert-file={PKI / 'apiserver.crt'}",
                f"--tls-private-key-file={PKI / 'apiserver.key'}",
                f"--client-ca-file={PKI / 'ca.crt'}",
                f"--service-account-key-file={PKI / 'service-account.pub'}",
                f"--service-account-signing-key-file={PKI / 'service-account.key'}",
                "--service-account-issuer=https://kubernetes.default.svc.cluster.local",
                f"--service-cluster-ip-range={SERVICE_CIDR}",
                "--authorization-mode=RBAC",
                "--allow-privileged=false",
                f"--admission-control-config-file={RUN / 'admission.yaml'}",
            ],
        ),
        (
            "kube-controller-manager",
            [
                kubeconfig,
                f"--authentication-kubeconfig={KUBECONFIG}",
                f"--authorization-kubeconfig={KUBECONFIG}",
                "--leader-elect=false",
                "--secure-port=0",
                f"--service-account-private-key-file={PKI / 'service-account.key'}",
                f"--root-ca-file={PKI / 'ca.crt'}",
                f"--service-cluster-ip-range={SERVICE_CIDR}",
                # The simulated nodes' heartbeats come from kwok, which gets little CPU on a busy machine: a
                # late one must not mark them NotReady (and their pods not ready) within the default 50 s.
                "--use-service-account-credentials=false",
                "--node-monitor-grace-period=180s",
            ],
        ),
        (
            "kube-scheduler",
            [
                kubeconfig,
                f"--authentication-kubeconfig={KUBECONFIG}",
                f"--authorization-kubeconfig={KUBECONFIG}",
                "--leader-elect=false",
                "--secure-port=0",
            ],
        ),
        # kwok plays the kubelet of every node annotated kwok.x-k8s.io/node=fake, by the Stages in k8s/controlplane.
        (
            "kwok",
            [
                kubeconfig,
                f"--config={KWOK_STAGES}",
                "--manage-nodes-with-annotation-selector=kwok.x-k8s.io/node=fake",
                "--cidr=10.244.0.0/16",
                "--node-ip=127.0.0.1",
                f"--server-address=127.0.0.1:{KWOK_PORT}",
            ],
        ),
    ]


def _node(name: str) -> dict:
    return {"apiVersion": "v1", "kind": "Node",
            "metadata": {"name": name, "annotations": {"kwok.x-k8s.io/node": "fake"},
                         "labels": {"kubernetes.io/hostname": name, "kubernetes.io/os": "linux",
                                    "kubernetes.io/arch": "amd64", "type": "kwok"}}}


def _read_state() -> dict[str, int]:
    return json.loads(STATE.read_text()) if STATE.exists() else {}


def up() -> None:
    if _read_state():
        down()
    if not (BIN / "kwok").exists():
        raise SystemExit(f"no control plane binaries in {BIN}: run scripts/controlplane/build.sh (make k8s-up does)")
    shutil.rmtree(RUN, ignore_errors=True)
    LOGS.mkdir(parents=True)
    (RUN / "admission.yaml").write_text(ADMISSION_CONFIG)
    certs.make_all()
    pids: dict[str, int] = {}
    try:
        for name, args in _programs():
            log = open(LOGS / f"{name}.log", "wb")
            process = subprocess.Popen([str(BIN / name), *args], stdout=log, stderr=subprocess.STDOUT,
                                       stdin=subprocess.DEVNULL, start_new_session=True)
            pids[name] = process.pid
            STATE.write_text(json.dumps(pids))
            if name == "kube-apiserver":
                wait_for(
                    "the API server's /readyz",
                    lambda: kubectl("get", "--raw", "/readyz", check=False).returncode == 0,
                    timeout=180,
                    log=LOGS / "kube-apiserver.log",
                )
        for node in SIMULATED_NODES:
            kubectl("apply", "-f", "-", input=json.dumps(_node(node)))
        wait_for(
            "the simulated nodes to be Ready",
            lambda: (
                kubectl("wait", "--for=condition=Ready", "node", "--all", "--timeout=5s", check=False).returncode == 0
            ),
            timeout=120,
            log=LOGS / "kwok.log",
        )
        wait_for("the controllers (default ServiceAccount)",
                 lambda: kubectl("-n", "default", "get", "serviceaccount", "default", check=False).returncode == 0,
                 timeout=120, log=LOGS / "kube-controller-manager.log")
    except BaseException:
        down()
        raise
    print(f"control plane up: export KUBECONFIG={KUBECONFIG}   (logs in {LOGS})")


def down() -> None:
    pids = _read_state()
    for pid in reversed(list(pids.values())):
        try:
            os.killpg(pid, signal.SIGTERM)
        except ProcessLookupError:
            continue
        deadline = time.monotonic() + 15
        while time.monotonic() < deadline and _alive(pid):
            time.sleep(0.1)
        if _alive(pid):
            os.killpg(pid, signal.SIGKILL)
    STATE.unlink(missing_ok=True)
    print("control plane down" if pids else "control plane: nothing to stop")


def _alive(pid: int) -> bool:
    try:
        finished, _ = os.waitpid(pid, os.WNOHANG)
        if finished:
            return False
    except ChildProcessError:
        pass
    try:
        stat = open(f"/proc/{pid}/stat").read()
    except FileNotFoundError:
        return False
    return stat.rsplit(")", 1)[1].split()[0] != "Z"   # an exited orphan nobody reaped yet is gone too
