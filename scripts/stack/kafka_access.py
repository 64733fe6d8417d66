"""Who may do what on the local Kafka: the principals and ACLs of the chart's values (one definition for the
chart and the stack), their SCRAM passwords for one log directory, and the set-up that applies them as admin."""
from __future__ import annotations

import json
import secrets
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

import yaml

from scripts.stack.layout import ROOT

# The definition: kafka.auth.users of the app chart (its topics Job applies them in Kubernetes), and the names
# of the super users from the Kafka chart's defaults.
APP_VALUES = ROOT / "charts" / "coffee-order" / "values.yaml"
KAFKA_VALUES = ROOT / "charts" / "kafka" / "values.yaml"
MECHANISM = "SCRAM-SHA-512"
# The chart's topics Job sets this iteration count (charts/kafka/templates/_topics.tpl).
SCRAM_ITERATIONS = 8192
# The stack's processes and the principal each logs in as, as the chart's Deployments do (a chart test checks).
PROCESS_PRINCIPALS = {"order-relay": "order-relay", "delivery-relay": "delivery-relay", "consumer": "delivery-consumer",
                      "order-status-consumer": "order-status-consumer"}
# The local test tools (tests, chaos, bench) log in as this principal: it may read and write the topics and read
# any group, as a test playing another producer or checking a group's offsets must; it administers nothing.
TOOLS_PRINCIPAL = "stack-tools"


@dataclass(frozen=True, order=True)
class Acl:
    """One allow rule: `principal` may do `operation` on the resource (`topic`, `group`, ...) named `name`."""

    principal: str
    resource: str
    name: str
    operation: str


@dataclass(frozen=True)
class Definition:
    broker: str  # the nodes' own principal (a super user)
    admin: str  # set-up only (a super user)
    users: dict[str, list[dict]]  # every client principal with its ACLs, as in kafka.auth.users

    def acls(self) -> set[Acl]:
        return {Acl(name, acl["resource"], acl["name"], operation)
                for name, rules in self.users.items() for acl in rules for operation in acl["operations"]}


def tools_acls(topics: list[str]) -> list[dict]:
    return [*({"resource": "topic", "name": topic, "operations": ["Read", "Write", "Describe"]} for topic in topics),
            {"resource": "group", "name": "*", "operations": ["Read", "Describe"]}]


def chart_definition() -> Definition:
    """The principals and ACLs exactly as the chart's default values define them."""
    kafka_chart = yaml.safe_load(KAFKA_VALUES.read_text())["auth"]
    app = yaml.safe_load(APP_VALUES.read_text())["kafka"]
    users = {name: list(user.get("acls", [])) for name, user in app["auth"]["users"].items()}
    return Definition(kafka_chart["broker"]["user"], kafka_chart["admin"]["user"], users)


def stack_definition() -> Definition:
    """The chart's principals and ACLs plus the local test tools' principal."""
    chart = chart_definition()
    topics = list(yaml.safe_load(APP_VALUES.read_text())["kafka"]["topics"])
    return Definition(chart.broker, chart.admin, {**chart.users, TOOLS_PRINCIPAL: tools_acls(topics)})


@dataclass(frozen=True)
class Credentials:
    """Every principal's password for one Kafka log directory, kept beside it (mode 600) so a restarted broker
    and the stack's processes agree; a fresh log directory gets fresh ones."""

    definition: Definition
    passwords: dict[str, str]
    path: Path

    @classmethod
    def load_or_create(cls, path: Path, definition: Definition, fresh: bool,
                       given: dict[str, str] | None = None) -> Credentials:
        """`given` passwords win over kept and new ones."""
        kept = {**({} if fresh or not path.exists() else json.loads(path.read_text())), **(given or {})}
        names = [definition.broker, definition.admin, *definition.users]
        passwords = {name: kept.get(name) or secrets.token_urlsafe(24) for name in names}
        path.parent.mkdir(parents=True, exist_ok=True)
        path.touch(mode=0o600)
        path.write_text(json.dumps(passwords, indent=1))
        return cls(definition, passwords, path)

    def client_env(self, principal: str) -> dict[str, str]:
        """The settings (services/platform/settings.py) of a process that logs in as `principal`."""
        return {"KAFKA_SECURITY_PROTOCOL": "SASL_PLAINTEXT", "KAFKA_SASL_MECHANISM": MECHANISM,
                "KAFKA_SASL_USERNAME": principal, "KAFKA_SASL_PASSWORD": self.passwords[principal]}

    @property
    def admin_env(self) -> dict[str, str]:
        return self.client_env(self.definition.admin)


def login_options(env: Mapping[str, str]) -> dict:
    """kafka-python's login options from KAFKA_* settings such as `client_env` gives (PLAINTEXT without any)."""
    protocol = env.get("KAFKA_SECURITY_PROTOCOL", "PLAINTEXT")
    if not protocol.startswith("SASL"):
        return {"security_protocol": protocol}
    return {"security_protocol": protocol, "sasl_mechanism": env.get("KAFKA_SASL_MECHANISM", MECHANISM),
            "sasl_plain_username": env["KAFKA_SASL_USERNAME"], "sasl_plain_password": env["KAFKA_SASL_PASSWORD"]}


def confluent_login(env: Mapping[str, str]) -> dict:
    """The same login in librdkafka's (confluent-kafka's) terms."""
    options = login_options(env)
    login = {"security.protocol": options["security_protocol"]}
    if "sasl_mechanism" in options:
        login.update({"sasl.mechanism": options["sasl_mechanism"], "sasl.username": options["sasl_plain_username"],
                      "sasl.password": options["sasl_plain_password"]})
    return login


def apply_users_and_acls(bootstrap_servers: str, credentials: Credentials) -> None:
    """As admin, sets every user's SCRAM credential and adds its ACLs (both idempotent), as the chart's topics Job
    does after every install; an ACL removed from the definition stays until deleted by hand, as there."""
    from kafka import KafkaAdminClient
    from kafka.admin import (
        ACL,
        ACLOperation,
        ACLPermissionType,
        ResourcePattern,
        ResourceType,
        ScramMechanism,
        UserScramCredentialUpsertion,
    )

    admin = KafkaAdminClient(bootstrap_servers=bootstrap_servers.split(","), **login_options(credentials.admin_env),
                             client_id="stack-set-up", request_timeout_ms=15000)
    try:
        answer = admin.alter_user_scram_credentials([
            UserScramCredentialUpsertion(name, ScramMechanism[MECHANISM.replace("-", "_")], credentials.passwords[name],
                                         iterations=SCRAM_ITERATIONS)
            for name in credentials.definition.users])
        refused = {name: error for name, error in answer.items() if error}
        if refused:
            raise SystemExit(f"Kafka refused SCRAM credentials: {refused}")
        created = admin.create_acls([
            ACL(f"User:{acl.principal}", "*", ACLOperation[acl.operation.upper()], ACLPermissionType.ALLOW,
                ResourcePattern(ResourceType[acl.resource.upper()], acl.name))
            for acl in sorted(credentials.definition.acls())])
        if created["failed"]:
            raise SystemExit(f"Kafka refused ACLs: {created['failed']}")
    finally:
        admin.close()
