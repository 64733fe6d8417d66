"""The chart's tracing values: the standard OTEL_* variables reach every process of the release only when an endpoint
is set, the schema refuses what no process would start with, and every workload may reach the receiver's port (on
the peers named, when named) and nothing more."""
from __future__ import annotations

import re

import pytest

from tests.chart.conftest import CHART, THROWAWAY, RenderError
from tests.chart.test_network_policies import APP, OUTSIDE, STREAMS, WORKERS, Cluster, Pod

PRODUCTION = ["-f", str(CHART / "ci" / "production-values.yaml")]
COLLECTOR = Pod("collector", {"app.kubernetes.io/name": "opentelemetry-collector"}, namespace="observability",
                ports={"otlp-http": 4318})
# A pod in the collector's namespace that is not the collector.
NEIGHBOUR = Pod("neighbour", {"app": "something-else"}, namespace="observability", ports={"otlp-http": 4318})
PROCESSES = APP + WORKERS + STREAMS


def config_map(docs: list[dict]) -> dict:
    (config,) = [d for d in docs if d["kind"] == "ConfigMap" and d["metadata"]["name"] == "coffee-order"]
    return config["data"]


def otel(data: dict) -> dict:
    return {name: value for name, value in data.items() if name.startswith("OTEL_")}


def test_tracing_is_off_by_default(rendered):
    for values_set in ("defaults", "ci", "external"):
        docs = rendered[values_set]
        assert otel(config_map(docs)) == {}, values_set
        cluster = Cluster(docs, [COLLECTOR])
        assert not any(cluster.allowed(pod, "collector", 4318) for pod in PROCESSES), values_set


def test_an_endpoint_sets_the_standard_variables(render):
    docs = render(*THROWAWAY, "--set", "tracing.endpoint=http://jaeger-collector.tracing:4318")
    assert otel(config_map(docs)) == {
        "OTEL_EXPORTER_OTLP_ENDPOINT": "http://jaeger-collector.tracing:4318",
        "OTEL_EXPORTER_OTLP_PROTOCOL": "http/protobuf",
        "OTEL_TRACES_SAMPLER": "parentbased_always_on",
        "OTEL_RESOURCE_ATTRIBUTES": "service.namespace=coffee-order,k8s.namespace.name=coffee-order",
    }


def test_a_ratio_sampler_gets_its_ratio_and_the_attributes_are_added(rendered):
    data = otel(config_map(rendered["production"]))
    assert (data["OTEL_TRACES_SAMPLER"], data["OTEL_TRACES_SAMPLER_ARG"]) == ("parentbased_traceidratio", "0.05")
    assert data["OTEL_RESOURCE_ATTRIBUTES"].endswith(",deployment.environment.name=production")


def test_every_process_reads_the_variables(rendered):
    """Each container of each workload takes the whole ConfigMap, so no process is left out of the trace."""
    docs = rendered["production"]
    workloads = [d for d in docs if d["kind"] == "Deployment"]
    assert {d["metadata"]["name"] for d in workloads} >= set(PROCESSES)
    for workload in workloads:
        if workload["metadata"]["name"] not in PROCESSES:
            continue
        for container in workload["spec"]["template"]["spec"]["containers"]:
            sources = [source.get("configMapRef", {}).get("name") for source in container.get("envFrom", [])]
            assert "coffee-order" in sources, f"{workload['metadata']['name']}/{container['name']}"


def test_every_process_may_reach_the_named_collector_and_only_it(rendered):
    cluster = Cluster(rendered["production"], [*OUTSIDE, COLLECTOR, NEIGHBOUR])
    for pod in PROCESSES:
        assert cluster.allowed(pod, "collector", 4318), f"{pod} -> collector:4318 is blocked"
        assert not cluster.allowed(pod, "neighbour", 4318), f"{pod} -> another pod of its namespace is open"
        assert not cluster.allowed(pod, "collector", 4317), f"{pod} -> collector:4317 (not the endpoint's) is open"


def test_without_peers_the_endpoints_port_is_open_and_no_other(render):
    docs = render(*THROWAWAY, "--set", "tracing.endpoint=https://tempo.example.com")
    cluster = Cluster(docs, [Pod("tempo", {"app": "tempo"}, namespace="tracing", ports={"https": 443})])
    for pod in PROCESSES:
        assert cluster.allowed(pod, "tempo", 443) and not cluster.allowed(pod, "tempo", 4318), pod


@pytest.mark.parametrize("flag, setting, complaint", [
    ("--set", "tracing.endpoint=collector:4318", "does not match"),
    ("--set", "tracing.sampler=sometimes", "must be one of"),
    ("--set-json", "tracing.ratio=1.5", "maximum"),
    ("--set", "tracing.endpont=http://collector:4318", "additional properties 'endpont' not allowed"),
])
def test_the_schema_refuses_what_no_process_would_start_with(render, flag, setting, complaint):
    with pytest.raises(RenderError, match=re.escape(complaint)):
        render(*THROWAWAY, flag, setting)
