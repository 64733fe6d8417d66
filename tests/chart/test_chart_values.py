"""The chart's values: typos are rejected, limits are enforced, and the defaults are the secure ones."""
from __future__ import annotations

import re

import pytest

from services.common.events import TOPIC_DELIVERY_STATUS, TOPIC_NEW_ORDERS, TOPIC_NEW_ORDERS_DLQ
from tests.chart.conftest import RenderError


@pytest.mark.parametrize("setting, complaint", [
    ("orderMs.replica=3", "additional properties 'replica' not allowed"),
    ("ingress.classname=nginx", "additional properties 'classname' not allowed"),
    ("mariadb.auth.pasword=secret", "additional properties 'pasword' not allowed"),
    ("kafka.replica=3", "additional properties 'replica' not allowed"),
    ("securityContext.readOnlyRootFileSystem=false", "additional properties 'readOnlyRootFileSystem' not allowed"),
    ("orderMs.port=http", "want integer"),
    ("kafka.replicas=2", "must be one of 1, 3"),
])
def test_values_schema_rejects_typos_and_wrong_types(render, setting, complaint):
    with pytest.raises(RenderError, match=re.escape(complaint)):
        render("--set", setting)


def test_consumer_replicas_never_exceed_the_new_orders_partitions(render):
    with pytest.raises(RenderError, match="exceeds the 3 partitions of new_orders"):
        render("--set", "consumer.replicas=4")
    docs = render("--set", "consumer.replicas=6", "--set", "kafka.topics.newOrders.partitions=6")
    (consumer,) = [d for d in docs if d["kind"] == "Deployment" and d["metadata"]["name"].endswith("-consumer")]
    assert consumer["spec"]["replicas"] == 6
    with pytest.raises(RenderError, match="exceeds the 2 partitions"):
        render("-f", "charts/coffee-order/ci/external-values.yaml", "--set", "externalKafka.newOrdersPartitions=2")


def test_termination_grace_outlasts_gunicorns_graceful_timeout(rendered, render):
    for doc in rendered["defaults"]:
        if doc["kind"] == "Deployment" and doc["spec"]["template"]["spec"]["containers"][0]["command"][0] == "gunicorn":
            spec = doc["spec"]["template"]["spec"]
            env = {e["name"]: e.get("value") for e in spec["containers"][0]["env"]}
            sleep = int(spec["containers"][0]["lifecycle"]["preStop"]["exec"]["command"][1])
            assert spec["terminationGracePeriodSeconds"] > int(env["GUNICORN_GRACEFUL_TIMEOUT"]) + sleep
    with pytest.raises(RenderError, match="terminationGracePeriodSeconds"):
        render("--set", "deliveryMs.gunicorn.gracefulTimeout=30")


@pytest.mark.parametrize("values_set", ["defaults", "external", "production"])
def test_every_pod_runs_locked_down(rendered, values_set):
    for doc in rendered[values_set]:
        if doc["kind"] not in {"Deployment", "StatefulSet", "Job", "Pod"}:
            continue
        spec = doc["spec"] if doc["kind"] == "Pod" else doc["spec"]["template"]["spec"]
        name = doc["metadata"]["name"]
        assert spec["securityContext"]["runAsNonRoot"] is True, name
        assert spec["securityContext"]["seccompProfile"] == {"type": "RuntimeDefault"}, name
        for container in [*spec.get("initContainers", []), *spec["containers"]]:
            context = container["securityContext"]
            assert context["allowPrivilegeEscalation"] is False, name
            assert context["capabilities"]["drop"] == ["ALL"], name
            assert container["resources"].get("requests"), f"{name}/{container['name']} has no requests"
            # Only Kafka's start script writes to its image; everything else has a read-only root.
            assert context["readOnlyRootFilesystem"] is ("kafka" not in container["image"]), name


def test_app_pods_roll_when_their_configuration_changes(render):
    def checksums(*args):
        docs = render("--set", "jwt.secret=fixed", *args)
        return {d["metadata"]["name"]: d["spec"]["template"]["metadata"]["annotations"]["checksum/config"]
                for d in docs if d["kind"] == "Deployment"}

    before, after = checksums(), checksums("--set", "config.logLevel=DEBUG")
    assert before.keys() == after.keys() and len(before) == 5
    assert all(before[name] != after[name] for name in before)


def test_secrets_come_from_existing_secrets_when_named(rendered):
    docs = rendered["production"]
    assert not [d for d in docs if d["kind"] == "Secret" and d["metadata"]["name"] == "coffee-order"]
    (order_ms,) = [d for d in docs if d["kind"] == "Deployment" and d["metadata"]["name"] == "coffee-order-order-ms"]
    env = {e["name"]: e for e in order_ms["spec"]["template"]["spec"]["containers"][0]["env"]}
    assert env["JWT_SECRET"]["valueFrom"]["secretKeyRef"] == {"name": "coffee-jwt", "key": "jwt-secret"}
    assert env["DB_PASSWORD"]["valueFrom"]["secretKeyRef"] == {"name": "coffee-mariadb", "key": "mariadb-password"}


def test_external_database_and_kafka_replace_the_bundled_ones(rendered):
    docs = rendered["external"]
    assert not [d for d in docs if d["kind"] == "StatefulSet"]
    (config,) = [d for d in docs if d["kind"] == "ConfigMap"]
    assert config["data"]["DB_HOST"] == "coffee.mariadb.example.internal"
    assert config["data"]["KAFKA_BOOTSTRAP_SERVERS"] == "coffee-kafka-bootstrap.kafka.svc:9092"
    assert config["data"]["APP_ENV"] == "production"


def test_three_kafka_nodes_form_one_quorum_and_replicate_topics(rendered):
    (kafka,) = [d for d in rendered["production"] if d["kind"] == "StatefulSet" and d["metadata"]["name"] == "coffee-order-kafka"]
    env = {e["name"]: e.get("value") for e in kafka["spec"]["template"]["spec"]["containers"][0]["env"]}
    assert kafka["spec"]["replicas"] == 3
    assert env["KAFKA_CONTROLLER_QUORUM_VOTERS"].count("@") == 3
    assert env["KAFKA_MIN_INSYNC_REPLICAS"] == "2"
    (job,) = [d for d in rendered["production"] if d["kind"] == "Job"]
    job_env = {e["name"]: e.get("value") for e in job["spec"]["template"]["spec"]["containers"][0]["env"]}
    assert job_env["REPLICATION_FACTOR"] == "3"
    topics = dict(line.split("=") for line in job_env["TOPICS"].split())
    assert topics == {TOPIC_NEW_ORDERS: "6", TOPIC_NEW_ORDERS_DLQ: "1", TOPIC_DELIVERY_STATUS: "6"}
