"""The chart's monitoring objects: off by default, and when on they embed the very rules and dashboard tested here."""
from __future__ import annotations

import json
import subprocess

import yaml

from monitoring.local_prometheus import ALERT_RULES
from tests.chart.conftest import CHART, HELM, OPERATOR_APIS

DASHBOARD = CHART / "files" / "grafana-dashboard.json"
ALL_ON = ["metrics.serviceMonitor.enabled=true", "metrics.prometheusRule.enabled=true",
          "metrics.grafanaDashboard.enabled=true"]
MONITORING_KINDS = {"ServiceMonitor", "PodMonitor", "PrometheusRule"}
APP_PREFIX = "coffee-coffee-order-"  # the release's own Deployments, not MariaDB's or Kafka's


def render(*settings: str, apis: list[str] = OPERATOR_APIS) -> list[dict]:
    """The chart as a cluster with the Prometheus Operator (by default) renders it."""
    # Its own release name, so the app's objects are told apart from MariaDB's and Kafka's by prefix.
    argv = [str(HELM), "template", "coffee", str(CHART), "--namespace", "shop", *apis,
            "--set", "global.secrets=throwaway"]
    for setting in settings:
        argv += ["--set", setting]
    rendered = subprocess.run(argv, capture_output=True, text=True)
    assert rendered.returncode == 0, rendered.stderr
    return [doc for doc in yaml.safe_load_all(rendered.stdout) if doc]


def is_dashboard(doc: dict) -> bool:
    return doc["kind"] == "ConfigMap" and "grafana_dashboard" in doc["metadata"]["labels"]


def test_monitoring_objects_are_off_by_default():
    docs = render()
    assert [doc["kind"] for doc in docs if doc["kind"] in MONITORING_KINDS or is_dashboard(doc)] == []


def test_prometheus_rule_is_the_alert_rules_file():
    rule = next(doc for doc in render(*ALL_ON) if doc["kind"] == "PrometheusRule")
    assert rule["spec"] == yaml.safe_load(ALERT_RULES.read_text())


def test_dashboard_configmap_carries_the_dashboard_for_the_grafana_sidecar():
    configmap = next(doc for doc in render(*ALL_ON) if is_dashboard(doc))
    assert configmap["metadata"]["labels"]["grafana_dashboard"] == "1"
    assert json.loads(configmap["data"]["coffee-order.json"]) == json.loads(DASHBOARD.read_text())


def test_every_process_is_scraped_under_its_component_as_job():
    docs = render(*ALL_ON)
    monitors = {doc["kind"]: doc["spec"] for doc in docs if doc["kind"] in {"ServiceMonitor", "PodMonitor"}}
    assert set(monitors) == {"ServiceMonitor", "PodMonitor"}
    scraped = set()
    for spec in monitors.values():
        assert spec["jobLabel"] == "app.kubernetes.io/component"
        assert spec["namespaceSelector"]["matchNames"] == ["shop"]
        (expression,) = spec["selector"]["matchExpressions"]
        scraped |= set(expression["values"])
    assert scraped == {"order-ms", "delivery-ms", "order-ms-stream", "delivery-ms-stream", "order-relay",
                       "delivery-relay", "consumer", "order-status-consumer"}
    # The ports they scrape exist on the pods of those components.
    ports = {doc["metadata"]["labels"]["app.kubernetes.io/component"]:
             {port["name"] for container in doc["spec"]["template"]["spec"]["containers"]
              for port in container.get("ports", [])}
             for doc in docs if doc["kind"] == "Deployment" and doc["metadata"]["name"].startswith(APP_PREFIX)}
    assert all("http" in ports[c] for c in monitors["ServiceMonitor"]["selector"]["matchExpressions"][0]["values"])
    assert all("metrics" in ports[c] for c in monitors["PodMonitor"]["selector"]["matchExpressions"][0]["values"])


def test_every_app_pod_carries_scrape_annotations_for_its_metrics_port():
    deployments = [doc for doc in render()
                   if doc["kind"] == "Deployment" and doc["metadata"]["name"].startswith(APP_PREFIX)]
    assert len(deployments) == 8
    for deployment in deployments:
        pod = deployment["spec"]["template"]
        annotations = pod["metadata"]["annotations"]
        ports = {port["name"]: port["containerPort"] for port in pod["spec"]["containers"][0]["ports"]}
        assert annotations["prometheus.io/scrape"] == "true" and annotations["prometheus.io/path"] == "/metrics"
        assert int(annotations["prometheus.io/port"]) == ports.get("metrics", ports.get("http"))


def test_operator_objects_need_the_operators_api_unless_forced():
    """Without the monitoring.coreos.com CRDs an install would fail: the objects are left out, unless
    metrics.renderWithoutCRDs says the CRDs will be there (Argo CD syncing them first)."""
    assert {doc["kind"] for doc in render(*ALL_ON)} >= MONITORING_KINDS
    without = [doc["kind"] for doc in render(*ALL_ON, apis=[])]
    assert MONITORING_KINDS.isdisjoint(without)
    assert sum(is_dashboard(doc) for doc in render(*ALL_ON, apis=[])) == 1, "a ConfigMap needs no CRD"
    forced = {doc["kind"] for doc in render(*ALL_ON, "metrics.renderWithoutCRDs=true", apis=[])}
    assert forced >= MONITORING_KINDS
