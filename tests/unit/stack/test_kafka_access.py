"""The local Kafka's logins: passwords kept per log directory, each stack process's principal, clients' options."""
from __future__ import annotations

import shutil
import stat
import uuid

from scripts.stack.broker import Broker, KafkaNode, needs_fresh_start
from scripts.stack.kafka_access import TOOLS_PRINCIPAL, Credentials, confluent_login, login_options, stack_definition
from scripts.stack.layout import Layout


def test_passwords_are_kept_for_a_log_directory_and_renewed_with_a_fresh_one(tmp_path):
    path = tmp_path / "credentials.json"
    first = Credentials.load_or_create(path, stack_definition(), fresh=True)
    again = Credentials.load_or_create(path, stack_definition(), fresh=False)
    fresh = Credentials.load_or_create(path, stack_definition(), fresh=True)
    assert again.passwords == first.passwords
    assert set(fresh.passwords) == set(first.passwords) and not set(fresh.passwords.values()) & set(
        first.passwords.values()
    )
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert {"kafka", "admin", "order-relay", "delivery-relay", "delivery-consumer", "order-status-consumer",
            TOOLS_PRINCIPAL} == set(
        first.passwords
    )


def test_each_stack_process_logs_in_as_its_components_principal(tmp_path):
    credentials = Credentials.load_or_create(tmp_path / "c.json", stack_definition(), fresh=True)
    broker = Broker("127.0.0.1:9092", credentials)
    assert broker.process_env("order-relay")["KAFKA_SASL_USERNAME"] == "order-relay"
    assert broker.process_env("delivery-relay")["KAFKA_SASL_USERNAME"] == "delivery-relay"
    assert broker.process_env("consumer-3")["KAFKA_SASL_USERNAME"] == "delivery-consumer"
    assert broker.process_env("order-status-consumer")["KAFKA_SASL_USERNAME"] == "order-status-consumer"
    assert broker.tools_env["KAFKA_SASL_USERNAME"] == TOOLS_PRINCIPAL
    assert Broker("kafka:9092", None).process_env("order-relay") == {}


def test_login_options_for_kafka_python_and_librdkafka(tmp_path):
    credentials = Credentials.load_or_create(tmp_path / "c.json", stack_definition(), fresh=True)
    env = credentials.client_env("order-relay")
    assert login_options(env) == {"security_protocol": "SASL_PLAINTEXT", "sasl_mechanism": "SCRAM-SHA-512",
                                  "sasl_plain_username": "order-relay",
                                  "sasl_plain_password": credentials.passwords["order-relay"]}
    assert confluent_login(env)["sasl.username"] == "order-relay"
    assert login_options({}) == {"security_protocol": "PLAINTEXT"} and confluent_login({}) == {
        "security.protocol": "PLAINTEXT"}


def test_the_node_takes_the_charts_security_settings(tmp_path):
    credentials = Credentials.load_or_create(tmp_path / "c.json", stack_definition(), fresh=True)
    properties = dict(line.split("=", 1) for line in
                      KafkaNode(tmp_path, 9092, 9093, credentials).server_properties().splitlines() if line)
    assert properties["authorizer.class.name"] == "org.apache.kafka.metadata.authorizer.StandardAuthorizer"
    assert properties["allow.everyone.if.no.acl.found"] == "false"
    assert properties["super.users"] == "User:kafka;User:admin"
    assert properties["listener.name.client.sasl.enabled.mechanisms"] == "SCRAM-SHA-512"
    assert "PLAINTEXT" not in properties["listener.security.protocol.map"].replace("SASL_PLAINTEXT", "")
    assert KafkaNode(tmp_path, 9092, 9093).server_properties().count("SASL") == 0


def test_a_log_directory_without_its_passwords_starts_over(monkeypatch):
    layout = Layout(f"unit-{uuid.uuid4().hex[:8]}", 0, "unit")
    monkeypatch.delenv("STACK_FRESH_DATABASES", raising=False)
    try:
        (layout.kafka_dir / "data").mkdir(parents=True)
        (layout.kafka_dir / "data" / "meta.properties").write_text("cluster.id=x\n")
        assert needs_fresh_start(layout), "nobody could log in to it"
        (layout.kafka_dir / "credentials.json").write_text("{}")
        assert not needs_fresh_start(layout)
        monkeypatch.setenv("STACK_FRESH_DATABASES", "1")
        assert needs_fresh_start(layout)
    finally:
        shutil.rmtree(layout.run_dir)
