"""Whose X-Forwarded-For the services believe (docs/decisions/0007-client-address-trust.md): by default every peer
that reaches their API port, and the NetworkPolicies let only the ingress controller's pods (a namespace and a pod
label, both chart values) reach it; monitoring reaches a metrics port that serves no API. Without NetworkPolicies
the chart refuses to render until the operator names the trusted addresses. The hop count is a value."""
from __future__ import annotations

import pytest

from tests.chart.conftest import THROWAWAY, RenderError
from tests.chart.test_network_policies import APP, CONTROLLER_LABELS, OUTSIDE, Cluster, Pod

SERVICES = {"coffee-order-order-ms": "order-ms", "coffee-order-delivery-ms": "delivery-ms"}


def configmap(docs: list[dict]) -> dict:
    (found,) = [d for d in docs if d["kind"] == "ConfigMap" and "FORWARDED_ALLOW_IPS" in d.get("data", {})]
    return found["data"]


def app_container(docs: list[dict], deployment: str) -> dict:
    (found,) = [d for d in docs if d["kind"] == "Deployment" and d["metadata"]["name"] == deployment]
    (container,) = found["spec"]["template"]["spec"]["containers"]
    return container


def api_port(docs: list[dict], deployment: str) -> int:
    return next(p["containerPort"] for p in app_container(docs, deployment)["ports"] if p["name"] == "http")


def who_reaches_the_api_port(docs: list[dict], candidates: list[Pod]) -> dict[str, set[str]]:
    cluster = Cluster(docs, candidates)
    return {deployment: {pod.name for pod in candidates if cluster.allowed(pod.name, deployment,
                                                                         api_port(docs, deployment))}
            for deployment in APP}


@pytest.mark.parametrize("values_set", ["defaults", "ci", "production"])
def test_the_services_believe_forwarded_for_only_from_what_the_policies_let_reach_the_api(rendered, values_set):
    docs = rendered[values_set]
    assert configmap(docs)["FORWARDED_ALLOW_IPS"] == "*"
    reach = who_reaches_the_api_port(docs, OUTSIDE)
    assert reach == {deployment: {"ingress-controller"} for deployment in APP}


def test_the_controller_is_picked_by_the_labels_given(render):
    traefik = {"app.kubernetes.io/name": "traefik"}
    # Helm merges maps with the defaults: a label of ingress-nginx's that traefik lacks is set to null.
    labels = "networkPolicies.ingressControllerPodSelector.matchLabels.app\\.kubernetes\\.io/"
    docs = render(*THROWAWAY, "--set", "networkPolicies.ingressNamespaceSelector.matchLabels.kubernetes\\.io/"
                  "metadata\\.name=traefik", "--set", f"{labels}name=traefik", "--set", f"{labels}component=null")
    candidates = [Pod("traefik", traefik, namespace="traefik"),
                  Pod("nginx", CONTROLLER_LABELS, namespace="ingress-nginx"),
                  Pod("traefik-look-alike", traefik), Pod("traefik-neighbour", {"app": "x"}, namespace="traefik")]
    assert who_reaches_the_api_port(docs, candidates) == {deployment: {"traefik"} for deployment in APP}


def test_without_network_policies_the_trusted_proxies_must_be_named(render):
    with pytest.raises(RenderError, match="config.trustedProxies"):
        render(*THROWAWAY, "--set", "networkPolicies.enabled=false")
    docs = render(*THROWAWAY, "--set", "networkPolicies.enabled=false", "--set", "config.trustedProxies=10.2.0.0/16")
    assert configmap(docs)["FORWARDED_ALLOW_IPS"] == "10.2.0.0/16"


def test_named_trusted_proxies_narrow_the_trust_with_network_policies_too(render):
    docs = render(*THROWAWAY, "--set", "config.trustedProxies=10.2.0.0/16\\,10.3.0.0/16")
    assert configmap(docs)["FORWARDED_ALLOW_IPS"] == "10.2.0.0/16,10.3.0.0/16"


def test_the_hop_count_is_a_value(render, rendered):
    assert configmap(rendered["defaults"])["TRUSTED_PROXY_HOPS"] == "1"
    assert configmap(render(*THROWAWAY, "--set", "config.trustedProxyHops=2"))["TRUSTED_PROXY_HOPS"] == "2"
    for bad in ("-1", "two"):
        with pytest.raises(RenderError, match="trustedProxyHops"):
            render(*THROWAWAY, "--set", f"config.trustedProxyHops={bad}")


@pytest.mark.parametrize("values_set", ["defaults", "production"])
def test_each_service_serves_metrics_on_a_port_of_its_own(rendered, values_set):
    """METRICS_PORT is the container's `metrics` port, the Service's, the scrape annotation's, and not the API's."""
    docs = rendered[values_set]
    for deployment, component in SERVICES.items():
        container = app_container(docs, deployment)
        ports = {p["name"]: p["containerPort"] for p in container["ports"]}
        env = {e["name"]: e.get("value") for e in container["env"]}
        assert env["METRICS_PORT"] == str(ports["metrics"]) and ports["metrics"] != ports["http"]
        (pod,) = [d["spec"]["template"] for d in docs if d["metadata"]["name"] == deployment
                  and d["kind"] == "Deployment"]
        assert pod["metadata"]["annotations"]["prometheus.io/port"] == str(ports["metrics"])
        (service,) = [d for d in docs if d["kind"] == "Service" and d["metadata"]["name"] == deployment]
        assert {"name": "metrics", "port": ports["metrics"], "targetPort": "metrics", "protocol": "TCP"} in \
            service["spec"]["ports"], component


def test_the_helm_test_asks_readiness_on_the_metrics_port(rendered):
    (smoke,) = [d for d in rendered["defaults"] if d["kind"] == "Pod"]
    urls = [arg for arg in smoke["spec"]["containers"][0]["command"] if arg.startswith("http://")]
    assert urls == ["http://coffee-order-order-ms:9100/readyz", "http://coffee-order-delivery-ms:9100/readyz"]
