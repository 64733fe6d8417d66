"""Sends the pod of every workload in a set of manifests to the API server as a server-side dry run, so
admission (PodSecurity "restricted" above all) judges each pod the controllers would create, and names the
workload with the server's message when it is refused. A Deployment itself is admitted whatever its pods
are: without this its pods would only be refused later, one FailedCreate event at a time."""
from __future__ import annotations

import json

from scripts.controlplane.kube import kubectl

POD_TEMPLATE_PATHS = {
    "Deployment": ("spec", "template"), "StatefulSet": ("spec", "template"), "DaemonSet": ("spec", "template"),
    "ReplicaSet": ("spec", "template"), "Job": ("spec", "template"),
    "CronJob": ("spec", "jobTemplate", "spec", "template"),
}


def pod_of(document: dict) -> dict | None:
    kind = document.get("kind")
    if kind == "Pod":
        return document
    path = POD_TEMPLATE_PATHS.get(kind)
    if path is None:
        return None
    template = document
    for key in path:
        template = template[key]
    name = f"admission-check-{kind.lower()}-{document['metadata']['name']}"[:63].rstrip("-.")
    return {"apiVersion": "v1", "kind": "Pod", "metadata": {**template.get("metadata", {}), "name": name},
            "spec": template["spec"]}


def refusals(documents: list[dict], namespace: str) -> list[str]:
    """One line per workload whose pod the server refuses: `Kind/name: the server's message`."""
    found = []
    for document in documents:
        pod = pod_of(document)
        if pod is None:
            continue
        result = kubectl("-n", namespace, "create", "--dry-run=server", "-o", "name", "-f", "-",
                         input=json.dumps(pod), check=False)
        if result.returncode != 0:
            found.append(f"{document['kind']}/{document['metadata']['name']}: {result.stderr.strip()}")
    return found
