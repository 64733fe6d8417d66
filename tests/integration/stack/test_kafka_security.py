"""The stack's Kafka has the chart's security: each process logs in as its own principal, the ACLs are exactly the
definition's, and a client with a wrong password or outside its ACLs is refused."""
from __future__ import annotations

import json
from pathlib import Path

import pytest
from kafka import KafkaAdminClient, KafkaConsumer, KafkaProducer
from kafka.admin import (
    ACLFilter,
    ACLOperation,
    ACLPermissionType,
    ACLResourcePatternType,
    NewTopic,
    ResourcePatternFilter,
    ResourceType,
)
from kafka.errors import GroupAuthorizationFailedError, KafkaTimeoutError, TopicAuthorizationFailedError

from scripts.stack.kafka_access import PROCESS_PRINCIPALS, TOOLS_PRINCIPAL, Acl, login_options, stack_definition
from services.contracts import delivery_status_changed, order_created
from tests.support.stack import current_pid

REFUSED_WITHIN_MS = 5000
# What the broker logs when a SCRAM login fails (log4j2.xml keeps it at INFO).
INVALID_CREDENTIALS = "invalid credentials with SASL mechanism SCRAM-SHA-512"


@pytest.fixture(scope="module")
def passwords(stack) -> dict[str, str]:
    return json.loads(Path(stack.kafka_credentials).read_text())


def login(stack, passwords, principal: str, password: str | None = None) -> dict:
    return {"bootstrap_servers": stack.env["KAFKA_BOOTSTRAP_SERVERS"].split(","),
            **login_options({"KAFKA_SECURITY_PROTOCOL": "SASL_PLAINTEXT", "KAFKA_SASL_USERNAME": principal,
                             "KAFKA_SASL_PASSWORD": password or passwords[principal]})}


def process_environment(pid: int) -> dict[str, str]:
    entries = Path(f"/proc/{pid}/environ").read_bytes().split(b"\0")
    return dict(entry.decode().split("=", 1) for entry in entries if b"=" in entry)


@pytest.mark.parametrize(("process", "component"), [("order-relay", "order-relay"),
                                                    ("delivery-relay", "delivery-relay"), ("consumer-1", "consumer"),
                                                    ("order-status-consumer", "order-status-consumer")])
def test_each_process_logs_in_as_the_principal_the_chart_gives_it(stack, process, component):
    env = process_environment(current_pid(process))
    assert env["KAFKA_SECURITY_PROTOCOL"] == "SASL_PLAINTEXT" and env["KAFKA_SASL_MECHANISM"] == "SCRAM-SHA-512"
    assert env["KAFKA_SASL_USERNAME"] == PROCESS_PRINCIPALS[component]


def test_the_broker_holds_exactly_the_definitions_acls(stack, passwords):
    definition = stack_definition()
    # Reading the ACLs is the set-up's business: the check logs in as its principal.
    admin = KafkaAdminClient(**login(stack, passwords, definition.admin))
    try:
        acls, _error = admin.describe_acls(ACLFilter(None, None, ACLOperation.ANY, ACLPermissionType.ANY,
                                                     ResourcePatternFilter(ResourceType.ANY, None,
                                                                           ACLResourcePatternType.ANY)))
    finally:
        admin.close()
    live = {Acl(acl.principal.removeprefix("User:"), acl.resource_pattern.resource_type.name.lower(),
                acl.resource_pattern.resource_name, acl.operation.name.title()) for acl in acls}
    assert all(acl.permission_type == ACLPermissionType.ALLOW and acl.host == "*" for acl in acls)
    assert live == definition.acls()


def test_a_wrong_password_is_refused(stack, passwords):
    broker_log = Path(stack.processes["broker"].log)
    refusals_before = broker_log.read_text(errors="replace").count(INVALID_CREDENTIALS)
    with pytest.raises(KafkaTimeoutError):
        KafkaProducer(**login(stack, passwords, "order-relay", password="not-the-password"),
                      bootstrap_timeout_ms=REFUSED_WITHIN_MS, max_block_ms=REFUSED_WITHIN_MS)
    assert broker_log.read_text(errors="replace").count(INVALID_CREDENTIALS) > refusals_before


def test_the_order_relay_may_not_publish_delivery_statuses(stack, passwords):
    producer = KafkaProducer(**login(stack, passwords, "order-relay"), max_block_ms=REFUSED_WITHIN_MS)
    try:
        with pytest.raises(TopicAuthorizationFailedError):
            producer.send(delivery_status_changed.TOPIC, b"{}").get(timeout=10)
    finally:
        producer.close(timeout=5)


def test_the_consumer_may_read_only_in_its_own_group(stack, passwords):
    consumer = KafkaConsumer(order_created.TOPIC, group_id="not-delivery-consumer",
                             **login(stack, passwords, "delivery-consumer"))
    try:
        with pytest.raises(GroupAuthorizationFailedError):
            for _ in range(20):
                consumer.poll(timeout_ms=500)
    finally:
        consumer.close(autocommit=False)


def test_the_status_consumer_reads_only_in_its_own_group_and_publishes_no_delivery_status(stack, passwords):
    consumer = KafkaConsumer(delivery_status_changed.TOPIC, group_id="not-order-ms-status",
                             **login(stack, passwords, "order-status-consumer"))
    try:
        with pytest.raises(GroupAuthorizationFailedError):
            for _ in range(20):
                consumer.poll(timeout_ms=500)
    finally:
        consumer.close(autocommit=False)
    producer = KafkaProducer(**login(stack, passwords, "order-status-consumer"), max_block_ms=REFUSED_WITHIN_MS)
    try:
        with pytest.raises(TopicAuthorizationFailedError):
            producer.send(delivery_status_changed.TOPIC, b"{}").get(timeout=10)
    finally:
        producer.close(timeout=5)


def test_the_tools_principal_administers_nothing(stack, passwords):
    admin = KafkaAdminClient(**login(stack, passwords, TOOLS_PRINCIPAL))
    try:
        with pytest.raises(TopicAuthorizationFailedError):
            admin.create_topics([NewTopic("created-by-the-tools", 1, 1)])
    finally:
        admin.close()
