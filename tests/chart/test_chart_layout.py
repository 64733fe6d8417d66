"""The chart reads one workload at a time: each workload's objects are written out in its own template file, and
the helpers build no object (they hold names, labels, the environment, the pod security block and NetworkPolicy
peers only)."""
from __future__ import annotations

import re
import subprocess

import yaml

from tests.chart.conftest import CHART, HELM

# Every object of a workload with the production values (autoscaling on, NetworkPolicies, PDBs).
WORKLOAD_KINDS = {
    "order-ms": {"Deployment", "Service", "HorizontalPodAutoscaler", "PodDisruptionBudget", "NetworkPolicy"},
    "delivery-ms": {"Deployment", "Service", "HorizontalPodAutoscaler", "PodDisruptionBudget", "NetworkPolicy"},
    "order-ms-stream": {"Deployment", "Service", "PodDisruptionBudget", "NetworkPolicy"},
    "delivery-ms-stream": {"Deployment", "Service", "PodDisruptionBudget", "NetworkPolicy"},
    "consumer": {"Deployment", "PodDisruptionBudget", "NetworkPolicy"},
    "order-relay": {"Deployment", "NetworkPolicy"},
    "delivery-relay": {"Deployment", "NetworkPolicy"},
}


def rendered_sources() -> dict[tuple[str, str], str]:
    """(kind, name) -> the template file helm names as the object's source."""
    output = subprocess.run([str(HELM), "template", "coffee-order", str(CHART), "--namespace", "coffee-order",
                             "-f", str(CHART / "ci" / "production-values.yaml")],
                            check=True, capture_output=True, text=True).stdout
    sources = {}
    for chunk in output.split("\n---\n"):
        source = re.search(r"^# Source: (\S+)$", chunk, re.MULTILINE)
        doc = yaml.safe_load(chunk)
        if source and doc:
            sources[(doc["kind"], doc["metadata"]["name"])] = source.group(1)
    return sources


def test_each_workloads_objects_come_from_its_own_file():
    sources = rendered_sources()
    for component, kinds in WORKLOAD_KINDS.items():
        name = f"coffee-order-{component}"
        found = {kind: source for (kind, object_name), source in sources.items() if object_name == name}
        assert set(found) == kinds, component
        assert set(found.values()) == {f"coffee-order/templates/{component}.yaml"}, found


def test_helpers_build_no_object():
    """A helper that renders a whole object is the macro this layout replaced: write the object out instead."""
    for helpers in CHART.glob("templates/_*.tpl"):
        # Each piece runs from one `define` to the next, so it holds that helper's whole body.
        for piece in re.split(r'(?={{-? define ")', helpers.read_text())[1:]:
            name = re.match(r'{{-? define "([^"]+)"', piece).group(1)
            assert not re.search(r"^\s*kind: ", piece, re.MULTILINE), f"{helpers.name}: {name} renders an object"
