"""The rendered NetworkPolicies allow exactly the flows the services and the suites use, and no other.

A small evaluator of Kubernetes NetworkPolicy semantics (a pod selected by any policy of a direction
accepts only what one of them allows; unselected pods accept everything) runs over the pods of a render,
plus the outside parties: the ingress controller, Prometheus, DNS and a stranger pod in the namespace."""
from __future__ import annotations

from dataclasses import dataclass, field

import pytest

NAMESPACE = "coffee-order"


@dataclass
class Pod:
    name: str
    labels: dict
    namespace: str = NAMESPACE
    namespace_labels: dict = field(default_factory=dict)
    ports: dict = field(default_factory=dict)  # name -> number

    def __post_init__(self):
        self.namespace_labels = {"kubernetes.io/metadata.name": self.namespace, **self.namespace_labels}


def matches(selector: dict | None, labels: dict) -> bool:
    if selector is None:
        return True
    if any(labels.get(key) != value for key, value in selector.get("matchLabels", {}).items()):
        return False
    for expression in selector.get("matchExpressions", []):
        if expression["operator"] == "In" and labels.get(expression["key"]) not in expression["values"]:
            return False
    return True


def peer_matches(peer: dict, policy_namespace: str, pod: Pod) -> bool:
    if "ipBlock" in peer:
        return False
    if "namespaceSelector" in peer:
        if not matches(peer["namespaceSelector"], pod.namespace_labels):
            return False
    elif pod.namespace != policy_namespace:
        return False
    return matches(peer.get("podSelector"), pod.labels)


def port_matches(rule_ports: list | None, target: Pod, port: int, protocol: str) -> bool:
    if not rule_ports:
        return True
    for rule_port in rule_ports:
        if rule_port.get("protocol", "TCP") != protocol:
            continue
        wanted = rule_port.get("port")
        if wanted is None or wanted == port or target.ports.get(wanted) == port:
            return True
    return False


class Cluster:
    def __init__(self, docs: list[dict], extra: list[Pod]):
        self.policies = [d for d in docs if d["kind"] == "NetworkPolicy"]
        self.pods = {pod.name: pod for pod in [*self._workload_pods(docs), *extra]}

    @staticmethod
    def _workload_pods(docs):
        for doc in docs:
            if doc["kind"] in {"Deployment", "StatefulSet", "Job"}:
                template = doc["spec"]["template"]
                labels, spec = template["metadata"]["labels"], template["spec"]
            elif doc["kind"] == "Pod":
                labels, spec = doc["metadata"]["labels"], doc["spec"]
            else:
                continue
            ports = {
                p["name"]: p["containerPort"] for c in spec["containers"] for p in c.get("ports", []) if "name" in p
            }
            yield Pod(doc["metadata"]["name"], labels, ports=ports)

    def _selecting(self, pod: Pod, direction: str):
        return [p for p in self.policies if pod.namespace == NAMESPACE and direction in p["spec"]["policyTypes"]
                and matches(p["spec"]["podSelector"], pod.labels)]

    def allowed(self, source: str, target: str, port: int, protocol: str = "TCP") -> bool:
        src, dst = self.pods[source], self.pods[target]
        egress = self._selecting(src, "Egress")
        if egress and not any(
                port_matches(rule.get("ports"), dst, port, protocol)
                and (not rule.get("to") or any(peer_matches(peer, NAMESPACE, dst) for peer in rule["to"]))
                for policy in egress for rule in policy["spec"].get("egress", [])):
            return False
        ingress = self._selecting(dst, "Ingress")
        return not ingress or any(
            port_matches(rule.get("ports"), dst, port, protocol)
            and (not rule.get("from") or any(peer_matches(peer, NAMESPACE, src) for peer in rule["from"]))
            for policy in ingress for rule in policy["spec"].get("ingress", []))


CONTROLLER_LABELS = {"app.kubernetes.io/name": "ingress-nginx", "app.kubernetes.io/component": "controller"}
OUTSIDE = [
    Pod("ingress-controller", CONTROLLER_LABELS, namespace="ingress-nginx", ports={"http": 80}),
    # Another pod of the controller's namespace (ingress-nginx's admission webhook Jobs run there).
    Pod("ingress-webhook", {**CONTROLLER_LABELS, "app.kubernetes.io/component": "admission-webhook"},
        namespace="ingress-nginx"),
    # Pods that carry the controller's labels elsewhere: in the release's namespace and in another one.
    Pod("look-alike", CONTROLLER_LABELS),
    Pod("look-alike-elsewhere", CONTROLLER_LABELS, namespace="tenant-b"),
    Pod("prometheus", {"app.kubernetes.io/name": "prometheus"}, namespace="monitoring"),
    Pod("dns", {"k8s-app": "kube-dns"}, namespace="kube-system", ports={"dns": 53}),
    Pod("stranger", {"app": "something-else"}),
    Pod("acceptance", {"app.kubernetes.io/name": "coffee-acceptance", "coffee-order/kafka-client": "true"}),
]
APP = ["coffee-order-order-ms", "coffee-order-delivery-ms"]
WORKERS = ["coffee-order-order-relay", "coffee-order-delivery-relay", "coffee-order-consumer",
           "coffee-order-order-status-consumer"]
STREAMS = ["coffee-order-order-ms-stream", "coffee-order-delivery-ms-stream"]
STREAM_PORTS = (5003, 6003)
MARIADB, KAFKA, TOPICS, SMOKE = ("coffee-order-mariadb", "coffee-order-kafka", "coffee-order-kafka-topics",
                                 "coffee-order-smoke")


@pytest.fixture(scope="module")
def cluster(rendered) -> Cluster:
    # The CI values: the acceptance Job's policy, everything else as by default.
    return Cluster(rendered["ci"], OUTSIDE)


API_PORTS = list(zip(APP, (5000, 6000), strict=True))
METRICS_PORT = 9100  # the services' /metrics and health checks, as the workers'


def test_every_flow_the_services_and_suites_use_is_allowed(cluster):
    wanted = [("ingress-controller", app, port) for app, port in API_PORTS]
    wanted += [("prometheus", app, METRICS_PORT) for app in APP]
    wanted += [("prometheus", worker, 9100) for worker in WORKERS]
    wanted += [(SMOKE, app, METRICS_PORT) for app in APP]                   # helm test: /readyz
    # The live streams through the ingress controller; their /metrics for Prometheus and the acceptance Job.
    wanted += [("ingress-controller", stream, port) for stream, port in zip(STREAMS, STREAM_PORTS, strict=True)]
    wanted += [(source, stream, METRICS_PORT) for stream in STREAMS for source in ("prometheus", "acceptance")]
    wanted += [(stream, MARIADB, 3306) for stream in STREAMS]
    wanted += [(pod, MARIADB, 3306) for pod in APP + WORKERS]                # migrations and the processes
    wanted += [(pod, KAFKA, 9092) for pod in WORKERS + [TOPICS, "acceptance"]]
    wanted += [(KAFKA, KAFKA, port) for port in (9092, 9093, 9094)]          # quorum and replication
    wanted += [("acceptance", "ingress-controller", 80)]
    wanted += [("acceptance", app, METRICS_PORT) for app in APP]            # /metrics, as Prometheus
    for source, target, port in wanted:
        assert cluster.allowed(source, target, port), f"{source} -> {target}:{port} is blocked"
    for pod in APP + WORKERS + STREAMS + [KAFKA, TOPICS, SMOKE, "acceptance"]:
        assert cluster.allowed(pod, "dns", 53, "UDP") and cluster.allowed(pod, "dns", 53, "TCP"), f"{pod}: no DNS"


def test_nothing_else_is_allowed(cluster):
    unwanted = [(pod, KAFKA, 9092) for pod in APP + ["stranger", SMOKE, "ingress-controller"]]
    unwanted += [(pod, MARIADB, 3306) for pod in [KAFKA, TOPICS, SMOKE, "stranger", "acceptance", "ingress-controller"]]
    unwanted += [(pod, KAFKA, port) for pod in WORKERS + [TOPICS, "acceptance"] for port in (9093, 9094)]
    unwanted += [("stranger", app, port) for app, port in API_PORTS] + [("stranger", app, METRICS_PORT) for app in APP]
    # The API ports (whose X-Forwarded-For the services believe) admit the ingress controller's pods only:
    # not monitoring, the test pods, the controller's namespace neighbours or a pod merely labelled like it.
    unwanted += [(pod, app, port) for pod in ["prometheus", SMOKE, "acceptance", "ingress-webhook", "look-alike",
                                              "look-alike-elsewhere"] for app, port in API_PORTS]
    # The metrics ports admit monitoring and the suites, not the controller (it routes no /metrics).
    unwanted += [(pod, app, METRICS_PORT) for pod in ["ingress-controller", "look-alike"] for app in APP]
    unwanted += [("ingress-controller", worker, 9100) for worker in WORKERS]
    unwanted += [("acceptance", MARIADB, 3306)] + [("acceptance", worker, 9100) for worker in WORKERS]
    unwanted += [(MARIADB, "dns", 53), (MARIADB, KAFKA, 9092)]                # the database sends nothing
    unwanted += [(app, "stranger", 443) for app in APP]                      # no way out to anything else
    # The streams read only their database: never the broker, never reached by strangers.
    unwanted += [(stream, KAFKA, 9092) for stream in STREAMS]
    unwanted += [("stranger", stream, port) for stream, port in zip(STREAMS, STREAM_PORTS, strict=True)]
    for source, target, port in unwanted:
        assert not cluster.allowed(source, target, port), f"{source} -> {target}:{port} is open"


def test_the_evaluator_sees_a_missing_policy(rendered):
    """Without the chart's policies every flow above would be open: the checks depend on them."""
    docs = [d for d in rendered["ci"] if d["kind"] != "NetworkPolicy"]
    assert Cluster(docs, OUTSIDE).allowed("stranger", KAFKA, 9092)


@pytest.mark.parametrize("values_set", ["defaults", "external", "production"])
def test_every_pod_is_covered_in_both_directions(rendered, values_set):
    cluster = Cluster(rendered[values_set], [])
    for pod in cluster.pods.values():
        assert cluster._selecting(pod, "Ingress") and cluster._selecting(pod, "Egress"), pod.name
