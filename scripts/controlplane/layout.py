"""Where the control plane's binaries, certificates, data and logs live, and the loopback ports it uses."""
from __future__ import annotations

import os
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
BIN = ROOT / ".cache" / "controlplane" / "current" / "bin"
TOOLS = ROOT / ".tools" / "bin"
HELM = TOOLS / "helm"
KUBECTL = TOOLS / "kubectl"
RUN = ROOT / ".run" / "controlplane"
PKI = RUN / "pki"
LOGS = RUN / "logs"
ETCD_DATA = RUN / "etcd"
KUBECONFIG = RUN / "kubeconfig"
STATE = RUN / "pids.json"
KWOK_STAGES = ROOT / "k8s" / "controlplane" / "kwok-stages.yaml"

# Above the ranges the test stacks use (3307..24093 with their offsets); K8S_PORT_OFFSET moves them all.
_OFFSET = int(os.environ.get("K8S_PORT_OFFSET", "0"))
ETCD_CLIENT_PORT = 23790 + _OFFSET
ETCD_PEER_PORT = 23800 + _OFFSET
APISERVER_PORT = 26443 + _OFFSET
KWOK_PORT = 26250 + _OFFSET
SERVICE_CIDR = "10.96.0.0/16"
SIMULATED_NODES = ("kwok-node-0", "kwok-node-1", "kwok-node-2")
