"""Installs the Prometheus Operator's CRDs that the chart's monitoring objects need (ServiceMonitor,
PodMonitor, PrometheusRule), as scripts/controlplane/build.sh generated them from the pinned API types."""
from __future__ import annotations

from scripts.controlplane.kube import kubectl
from scripts.controlplane.layout import BIN

WANTED = ("servicemonitors", "podmonitors", "prometheusrules")


def install() -> list[str]:
    files = [BIN.parent / "crds" / f"monitoring.coreos.com_{plural}.yaml" for plural in WANTED]
    for path in files:
        kubectl("apply", "--server-side", "-f", str(path))
    names = [f"{plural}.monitoring.coreos.com" for plural in WANTED]
    kubectl("wait", "--for=condition=Established", "--timeout=60s", *(f"crd/{name}" for name in names))
    return names
