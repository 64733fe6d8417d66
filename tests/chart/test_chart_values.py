"""The chart's values: typos are rejected, limits are enforced, and the defaults are the secure ones."""
from __future__ import annotations

import re

import pytest

from scripts.stack.cli import DEFAULT_CONSUMERS
from services.contracts.topics import TOPIC_PARTITIONS
from tests.chart.conftest import THROWAWAY, RenderError


@pytest.mark.parametrize("setting, complaint", [
    ("orderMs.replica=3", "additional properties 'replica' not allowed"),
    ("ingress.classname=nginx", "additional properties 'classname' not allowed"),
    ("mariadb.auth.pasword=secret", "additional properties 'pasword' not allowed"),
    ("kafka.replica=3", "additional properties 'replica' not allowed"),
    ("securityContext.readOnlyRootFileSystem=false", "additional properties 'readOnlyRootFileSystem' not allowed"),
    ("orderMs.port=http", "want integer"),
    ("kafka.replicas=2", "must be one of 1, 3"),
    ("orderRelay.reconciler.overdueSeconds=0", "minimum"),
    ("orderRelay.reconciler.overdue=30", "additional properties 'overdue' not allowed"),
])
def test_values_schema_rejects_typos_and_wrong_types(render, setting, complaint):
    with pytest.raises(RenderError, match=re.escape(complaint)):
        render("--set", setting, *THROWAWAY)


@pytest.mark.parametrize(
    "flag, setting, complaint",
    [
        ("--set", "global.secrets=random", "must be one of 'generate', 'existing', 'throwaway'"),
        (
            "--set-json",
            'kafka.auth.users.order-relay.acls=[{"resource": "topic", "name": "new_orders",'
            ' "operations": ["Publish"]}]',
            "must be one of 'Read', 'Write'",
        ),
        ("--set", "mariadb.databases.coffee_order.ownerUser=bad-name", "does not match"),
        ("--set", "externalKafka.securityProtocol=TLS", "must be one of"),
    ],
)
def test_values_schema_rejects_bad_secrets_acls_and_users(render, flag, setting, complaint):
    with pytest.raises(RenderError, match=re.escape(complaint)):
        render(*THROWAWAY, flag, setting)


def test_consumer_replicas_never_exceed_the_new_orders_partitions(render):
    with pytest.raises(RenderError, match="exceeds the 3 partitions of new_orders"):
        render("--set", "consumer.replicas=4", *THROWAWAY)
    docs = render("--set", "consumer.replicas=6", "--set", "kafka.topics.new_orders.partitions=6", *THROWAWAY)
    (consumer,) = [d for d in docs if d["kind"] == "Deployment" and d["metadata"]["name"] == "coffee-order-consumer"]
    assert consumer["spec"]["replicas"] == 6
    with pytest.raises(RenderError, match="exceeds the 2 partitions"):
        render("-f", "charts/coffee-order/ci/external-values.yaml", "--set", "externalKafka.newOrdersPartitions=2")


def test_two_consumers_by_default_as_the_local_stack_runs(rendered):
    """One consumer process works off a backlog below `make bench`'s target and is gone while it restarts: the chart
    and `make run` both run two by default, so what the bench measures is what the chart deploys."""
    docs = rendered["defaults"]
    (consumer,) = [d for d in docs if d["kind"] == "Deployment" and d["metadata"]["name"] == "coffee-order-consumer"]
    assert consumer["spec"]["replicas"] == DEFAULT_CONSUMERS == 2
    (budget,) = [d for d in docs
                 if d["kind"] == "PodDisruptionBudget" and d["metadata"]["name"] == "coffee-order-consumer"]
    assert budget["spec"]["maxUnavailable"] == 1  # a drain leaves one consumer running


def test_status_consumer_replicas_never_exceed_the_delivery_status_partitions(render):
    with pytest.raises(RenderError, match="exceeds the 3 partitions of delivery_status"):
        render("--set", "orderStatusConsumer.replicas=4", *THROWAWAY)
    docs = render("--set", "orderStatusConsumer.replicas=6", "--set", "kafka.topics.delivery_status.partitions=6",
                  *THROWAWAY)
    (consumer,) = [d for d in docs
                   if d["kind"] == "Deployment" and d["metadata"]["name"] == "coffee-order-order-status-consumer"]
    assert consumer["spec"]["replicas"] == 6
    with pytest.raises(RenderError, match="exceeds the 2 partitions of delivery_status"):
        render("-f", "charts/coffee-order/ci/external-values.yaml", "--set", "externalKafka.deliveryStatusPartitions=2",
               "--set", "orderStatusConsumer.replicas=3")


def test_the_order_relay_runs_the_reconciler_with_the_products_defaults_or_the_values(rendered, render):
    def relay_env(docs):
        (relay,) = [d for d in docs if d["kind"] == "Deployment" and d["metadata"]["name"].endswith("-order-relay")]
        return {e["name"]: e.get("value") for e in relay["spec"]["template"]["spec"]["containers"][0]["env"]}

    defaults = relay_env(rendered["defaults"])
    assert (defaults["ORDER_OVERDUE_SECONDS"], defaults["ORDER_OVERDUE_CHECK_SECONDS"],
            defaults["ORDER_RECONCILE_WINDOW_SECONDS"]) == ("60", "15", "86400")
    tuned = relay_env(render("--set", "orderRelay.reconciler.overdueSeconds=300", *THROWAWAY))
    assert tuned["ORDER_OVERDUE_SECONDS"] == "300"


def test_termination_grace_outlasts_gunicorns_graceful_timeout(rendered, render):
    for doc in rendered["defaults"]:
        if doc["kind"] == "Deployment" and doc["spec"]["template"]["spec"]["containers"][0]["command"][0] == "gunicorn":
            spec = doc["spec"]["template"]["spec"]
            env = {e["name"]: e.get("value") for e in spec["containers"][0]["env"]}
            sleep = int(spec["containers"][0]["lifecycle"]["preStop"]["exec"]["command"][1])
            assert spec["terminationGracePeriodSeconds"] > int(env["GUNICORN_GRACEFUL_TIMEOUT"]) + sleep
    with pytest.raises(RenderError, match="terminationGracePeriodSeconds"):
        render("--set", "deliveryMs.gunicorn.gracefulTimeout=30", *THROWAWAY)
    with pytest.raises(RenderError, match="orderMsStream: terminationGracePeriodSeconds"):
        render("--set", "orderMsStream.gracefulTimeout=30", *THROWAWAY)


def test_every_worker_gives_up_stopping_inside_its_grace_period(rendered, render):
    """A worker whose stop hangs logs its threads' stacks and exits before the kubelet's SIGKILL (stop_signals.py)."""
    def worker_deadlines(docs):
        deadlines = {}
        for doc in docs:
            if doc["kind"] != "Deployment":
                continue
            spec = doc["spec"]["template"]["spec"]
            env = {e["name"]: e.get("value") for e in spec["containers"][0].get("env", [])}
            if spec["containers"][0]["command"][:2] == ["python", "-m"] and "METRICS_PORT" in env:
                deadlines[doc["metadata"]["name"]] = (int(env["WORKER_STOP_SECONDS"]),
                                                      spec["terminationGracePeriodSeconds"])
        return deadlines

    defaults = worker_deadlines(rendered["defaults"])
    assert len(defaults) == 4, defaults  # two relays, the delivery consumer, order-ms's status consumer
    assert all(deadline == 20 and grace == 30 for deadline, grace in defaults.values()), defaults
    shorter = worker_deadlines(render("--set", "orderRelay.terminationGracePeriodSeconds=12", *THROWAWAY))
    assert [deadline for name, (deadline, _grace) in shorter.items() if name.endswith("-order-relay")] == [2]


@pytest.mark.parametrize("values_set", ["defaults", "ci", "external", "production"])
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
            assert context["readOnlyRootFilesystem"] is True, name


def test_every_pod_of_our_images_can_pull_them_from_the_private_registry(rendered):
    """image.pullSecrets reach every pod running one of the project's images, the helm test pod included."""
    pods = 0
    for doc in rendered["production"]:
        if doc["kind"] not in {"Deployment", "Job", "Pod"}:
            continue
        spec = doc["spec"] if doc["kind"] == "Pod" else doc["spec"]["template"]["spec"]
        if any(c["image"].startswith("ghcr.io/acme/") for c in spec["containers"]):
            pods += 1
            assert spec.get("imagePullSecrets") == [{"name": "ghcr-pull"}], doc["metadata"]["name"]
    assert pods == 9


def test_app_pods_roll_when_their_configuration_changes(render):
    def checksums(*args):
        docs = render("-f", "charts/coffee-order/ci/production-values.yaml", *args)
        return {d["metadata"]["name"]: d["spec"]["template"]["metadata"]["annotations"]["checksum/config"]
                for d in docs if d["kind"] == "Deployment"}

    before, after = checksums(), checksums("--set", "config.logLevel=DEBUG")
    assert before == checksums(), "the same values must give the same pods (no random input)"
    assert before.keys() == after.keys() and len(before) == 8
    assert all(before[name] != after[name] for name in before)


def test_secrets_come_from_existing_secrets_when_named(rendered):
    docs = rendered["production"]
    assert not [d for d in docs if d["kind"] == "Secret"]
    (order_ms,) = [d for d in docs if d["kind"] == "Deployment" and d["metadata"]["name"] == "coffee-order-order-ms"]
    env = {e["name"]: e for e in order_ms["spec"]["template"]["spec"]["containers"][0]["env"]}
    volumes = {v["name"]: v for v in order_ms["spec"]["template"]["spec"]["volumes"]}
    assert volumes["token-signing-key"]["secret"]["secretName"] == "coffee-token-signing-key"
    assert volumes["token-public-keys"]["secret"]["secretName"] == "coffee-token-public-keys"
    assert env["DB_PASSWORD"]["valueFrom"]["secretKeyRef"] == {"name": "coffee-db-order", "key": "app-password"}
    (relay,) = [d for d in docs if d["kind"] == "Deployment" and d["metadata"]["name"] == "coffee-order-order-relay"]
    env = {e["name"]: e for e in relay["spec"]["template"]["spec"]["containers"][0]["env"]}
    assert env["KAFKA_SASL_PASSWORD"]["valueFrom"]["secretKeyRef"] == {
        "name": "coffee-kafka-order-relay",
        "key": "password",
    }


def test_external_database_and_kafka_replace_the_bundled_ones(rendered, render):
    docs = rendered["external"]
    assert not [d for d in docs if d["kind"] == "StatefulSet"]
    (config,) = [d for d in docs if d["kind"] == "ConfigMap"]
    assert config["data"]["DB_HOST"] == "coffee.mariadb.example.internal"
    assert config["data"]["KAFKA_BOOTSTRAP_SERVERS"] == "coffee-kafka-bootstrap.kafka.svc:9093"
    assert config["data"]["KAFKA_SECURITY_PROTOCOL"] == "SASL_SSL"
    assert config["data"]["KAFKA_SSL_CAFILE"] == "/etc/kafka-ca/ca.crt"
    assert config["data"]["APP_ENV"] == "production"
    consumers = [d for d in docs if d["kind"] == "Deployment" and d["metadata"]["name"].endswith("-consumer")]
    assert len(consumers) == 2, "delivery-ms's consumer and order-ms's status consumer"
    for consumer in consumers:
        spec = consumer["spec"]["template"]["spec"]
        volumes = {v["name"]: v for v in spec["volumes"]}
        assert volumes["kafka-ca"]["secret"]["secretName"] == "coffee-kafka-cluster-ca-cert"
        assert {"name": "kafka-ca", "mountPath": "/etc/kafka-ca", "readOnly": True} in spec["containers"][0][
            "volumeMounts"]
    with pytest.raises(RenderError, match="externalDatabase.databases.coffee_order.existingSecret is required"):
        render(
            "-f",
            "charts/coffee-order/ci/external-values.yaml",
            "--set",
            "externalDatabase.databases.coffee_order.existingSecret=",
        )


def test_three_kafka_nodes_form_one_quorum_and_replicate_topics(rendered):
    (kafka,) = [
        d
        for d in rendered["production"]
        if d["kind"] == "StatefulSet" and d["metadata"]["name"] == "coffee-order-kafka"
    ]
    properties = next(d for d in rendered["production"] if d["kind"] == "ConfigMap"
                      and d["metadata"]["name"] == "coffee-order-kafka")["data"]["server.properties"]
    settings = dict(line.split("=", 1) for line in properties.splitlines() if "=" in line and not line.startswith("#"))
    assert kafka["spec"]["replicas"] == 3
    assert settings["controller.quorum.voters"].count("@") == 3
    assert settings["min.insync.replicas"] == "2"
    script = next(d for d in rendered["production"] if d["kind"] == "ConfigMap"
                  and d["metadata"]["name"] == "coffee-order-kafka")["data"]["topics.sh"]
    assert "wanted_replicas=3" in script
    listed = script.split("<<'TOPICS'\n")[1].split("\nTOPICS")[0].split()
    topics = dict(line.split("=") for line in listed)
    assert topics == {name: str(6 if partitions > 1 else 1) for name, partitions in TOPIC_PARTITIONS.items()}


def test_default_topics_are_the_contracts_topics(rendered):
    """The bundled Kafka gets exactly the topics and partitions of services/contracts/topics.py."""
    script = next(d for d in rendered["defaults"] if d["kind"] == "ConfigMap"
                  and d["metadata"]["name"] == "coffee-order-kafka")["data"]["topics.sh"]
    listed = script.split("<<'TOPICS'\n")[1].split("\nTOPICS")[0].split()
    assert {name: int(count) for name, count in (line.split("=") for line in listed)} == TOPIC_PARTITIONS


DEMO_OVERRIDE = ["--set", "demoAccounts.enabled=true", "--set-string",
                 "config.extraEnv.INSECURE_DEMO_ACCOUNTS_OUTSIDE_LOCAL=true"]


def test_init_containers_have_room_for_what_they_do(render):
    """The demo accounts hash with argon2 at import (about 80 MiB): their limit leaves headroom."""
    (order_ms,) = [d for d in render(*DEMO_OVERRIDE, *THROWAWAY)
                   if d["kind"] == "Deployment" and d["metadata"]["name"].endswith("-order-ms")]
    init = {c["name"]: c for c in order_ms["spec"]["template"]["spec"]["initContainers"]}
    limit = init["demo-accounts"]["resources"]["limits"]["memory"]
    assert limit.endswith("Mi") and int(limit[:-2]) >= 80 * 1.5


def test_demo_accounts_are_refused_without_the_loud_override(render):
    with pytest.raises(RenderError, match="INSECURE_DEMO_ACCOUNTS_OUTSIDE_LOCAL"):
        render("--set", "demoAccounts.enabled=true", *THROWAWAY)


@pytest.mark.parametrize("values", [[], ["-f", "k8s/values-ci.yaml"], ["-f", "k8s/values-dev.yaml"],
                                    ["-f", "charts/coffee-order/ci/production-values.yaml"]])
def test_no_values_file_of_ours_turns_the_demo_accounts_on(render, values):
    docs = render(*values, *THROWAWAY)
    (config,) = [d for d in docs if d["kind"] == "ConfigMap" and d["metadata"]["name"] == "coffee-order"]
    assert config["data"]["DEMO_ACCOUNTS"] == "false"
    assert "INSECURE_DEMO_ACCOUNTS_OUTSIDE_LOCAL" not in config["data"]
    init_containers = [c["name"] for d in docs if d["kind"] == "Deployment"
                       for c in d["spec"]["template"]["spec"].get("initContainers", [])]
    assert "demo-accounts" not in init_containers
