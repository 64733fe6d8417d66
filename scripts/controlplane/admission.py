"""Sends the pod of every workload in a set of manifests to the API server as a server-side dry run, so
admission (PodSecurity "restricted" above all) judges each pod the controllers would create, and names the
workload with the server's message when it is refused. A Deployment itself is admitted whatever its pods
are: without this its pods would only be refused later, one FailedCreate event at a time."""
from __future__ import annotations

import json

from scripts.controlplane.kube import kubectl

POD_TEMPLATE_PATHS: dict[str, tuple[str, ...]] = {
    "Deployment": ("spec", "template"), "StatefulSet": ("spec", "template"), "DaemonSet": ("spec", "template"),
    "ReplicaSet": ("spec", "template"), "Job": ("spec", "template"),
    "CronJob": ("spec", "jobTemplate", "spec", "template"),
}


def pod_of(document: dict) -> dict | None:
    kind = document.get("kind")
    path = () if kind == "Pod" else POD_TEMPLATE_PATHS.get(kind)
    if path is None:
        return None
    template = document
    for key in path:
        template = template[key]
    name = f"admission-check-{kind.lower()}-{document['metadata']['name']}"[:63].rstrip("-.")
    spec = dict(template["spec"])
    # A StatefulSet's pods mount the claims its volumeClaimTemplates make, as the controller names them.
    claims = [{"name": claim["metadata"]["name"],
               "persistentVolumeClaim": {"claimName": f"{claim['metadata']['name']}-{document['metadata']['name']}-0"}}
              for claim in document.get("spec", {}).get("volumeClaimTemplates", [])]
    spec["volumes"] = [*spec.get("volumes", []), *claims]
    # The release's own ServiceAccount does not exist before the install; which account a pod uses is no
    # matter to PodSecurity, and the install itself proves the account is there.
    spec["serviceAccountName"] = "default"
    return {"apiVersion": "v1", "kind": "Pod", "metadata": {**template.get("metadata", {}), "name": name},
            "spec": spec}


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
            message = " ".join(line for line in result.stderr.splitlines() if not line.startswith("Warning:"))
            found.append(f"{document['kind']}/{document['metadata']['name']}: {message.strip()}")
    return found
