"""The Kafka broker: KAFKA_BOOTSTRAP_SERVERS when set, else one Apache Kafka node (KRaft, broker and controller)
with the chart's security (SASL/SCRAM-SHA-512 clients, ACLs, scripts/stack/kafka_access.py) whose topics live
under .run/<profile>/kafka/ and survive its restarts; the users, ACLs and topics are set up after every start."""
from __future__ import annotations

import base64
import os
import shutil
import subprocess
import sys
import time
import uuid
from dataclasses import dataclass
from pathlib import Path

from scripts.stack.kafka_access import (
    MECHANISM,
    PROCESS_PRINCIPALS,
    TOOLS_PRINCIPAL,
    Credentials,
    apply_users_and_acls,
    stack_definition,
)
from scripts.stack.kafka_dist import java_argv
from scripts.stack.layout import ROOT, Layout
from scripts.stack.supervisor import ProcessSpec, Supervisor
from scripts.stack.waiting import log, port_open, wait_until
from services.contracts.topics import TOPIC_CONFIGS, TOPIC_PARTITIONS

# Sized for a small shared machine: the broker idles at about a fifth of this (docs/local-stack.md).
HEAP_OPTIONS = ("-Xms64m", "-Xmx384m", "-XX:+UseG1GC", "-XX:MaxGCPauseMillis=20", "-XX:+ExplicitGCInvokesConcurrent")
# How long a broker may take from its start until it creates topics (a JVM starting on a busy machine).
READY_SECONDS = 120


@dataclass(frozen=True)
class KafkaNode:
    """One combined broker and controller on 127.0.0.1 with its configuration and data in `directory`; with
    `credentials`, clients log in with SCRAM and only what an ACL allows is allowed (as in the chart)."""

    directory: Path
    port: int
    controller_port: int
    credentials: Credentials | None = None

    @property
    def address(self) -> str:
        return f"127.0.0.1:{self.port}"

    @property
    def config_file(self) -> Path:
        return self.directory / "server.properties"

    @property
    def data_dir(self) -> Path:
        return self.directory / "data"

    def server_properties(self) -> str:
        return "\n".join([
            "process.roles=broker,controller",
            "node.id=1",
            f"controller.quorum.voters=1@127.0.0.1:{self.controller_port}",
            "controller.listener.names=CONTROLLER",
            f"listeners=CLIENT://127.0.0.1:{self.port},CONTROLLER://127.0.0.1:{self.controller_port}",
            f"advertised.listeners=CLIENT://{self.address}",
            "inter.broker.listener.name=CLIENT",
            *(self._security_properties() if self.credentials else
              ["listener.security.protocol.map=CLIENT:PLAINTEXT,CONTROLLER:PLAINTEXT"]),
            f"log.dirs={self.data_dir}",
            # As the chart: topics are created on purpose only, and one node means one replica of everything.
            "auto.create.topics.enable=false",
            "num.partitions=1",
            "default.replication.factor=1",
            "min.insync.replicas=1",
            "offsets.topic.replication.factor=1",
            "transaction.state.log.replication.factor=1",
            "transaction.state.log.min.isr=1",
            "share.coordinator.state.topic.replication.factor=1",
            "share.coordinator.state.topic.min.isr=1",
            "group.initial.rebalance.delay.ms=0",
            # Fewer threads than the defaults (8 I/O, 3 network): two cores are shared with the whole stack.
            "num.io.threads=2",
            "num.network.threads=2",
            "num.recovery.threads.per.data.dir=1",
            # The controller writes a no-op record this often when nothing else happens (500 ms by default):
            # an idle lone node took 3.2 % of a core with the default, 2.0 % with this.
            "metadata.max.idle.interval.ms=5000",
            "",
        ])

    def _security_properties(self) -> list[str]:
        """The chart's settings (charts/kafka/templates/configmap.yaml) for one node: clients and the node itself
        log in with SCRAM on the client listener, the node with PLAIN on the controller listener (a controller
        cannot check SCRAM before it has read the metadata)."""
        broker = self.credentials.definition.broker
        password = self.credentials.passwords[broker]
        scram_login = (f'org.apache.kafka.common.security.scram.ScramLoginModule required username="{broker}" '
                       f'password="{password}";')
        plain_login = (f'org.apache.kafka.common.security.plain.PlainLoginModule required username="{broker}" '
                       f'password="{password}" user_{broker}="{password}";')
        return [
            "listener.security.protocol.map=CLIENT:SASL_PLAINTEXT,CONTROLLER:SASL_PLAINTEXT",
            f"listener.name.client.sasl.enabled.mechanisms={MECHANISM}",
            f"listener.name.client.{MECHANISM.lower()}.sasl.jaas.config={scram_login}",
            f"sasl.mechanism.inter.broker.protocol={MECHANISM}",
            "listener.name.controller.sasl.enabled.mechanisms=PLAIN",
            f"listener.name.controller.plain.sasl.jaas.config={plain_login}",
            "sasl.mechanism.controller.protocol=PLAIN",
            "authorizer.class.name=org.apache.kafka.metadata.authorizer.StandardAuthorizer",
            "allow.everyone.if.no.acl.found=false",
            f"super.users=User:{broker};User:{self.credentials.definition.admin}",
        ]

    def prepare(self, fresh: bool) -> None:
        """Writes server.properties and formats the log directory unless it holds a cluster already; `fresh`
        drops every topic first."""
        self.directory.mkdir(parents=True, exist_ok=True)
        # Holds the node's password: readable by its owner only.
        self.config_file.touch(mode=0o600)
        self.config_file.write_text(self.server_properties())
        if fresh:
            shutil.rmtree(self.data_dir, ignore_errors=True)
        if (self.data_dir / "meta.properties").exists():
            return
        cluster_id = base64.urlsafe_b64encode(uuid.uuid4().bytes).decode().rstrip("=")
        # Every principal's SCRAM credential is written with the metadata, so the node and the set-up can log in
        # from the first start (the chart's start.sh does the same).
        scram = [argument for name, password in (self.credentials.passwords.items() if self.credentials else [])
                 for argument in ("--add-scram", f"{MECHANISM}=[name={name},password={password}]")]
        # `--cluster-id=`: an id that starts with "-" (one in 64) would otherwise be taken for an option.
        result = subprocess.run(
            java_argv("kafka.tools.StorageTool", "format", f"--cluster-id={cluster_id}", "--config",
                      str(self.config_file), *scram),
            cwd=ROOT, capture_output=True, text=True)
        if result.returncode != 0:
            raise SystemExit(
                f"formatting Kafka's log directory {self.data_dir} failed:\n{result.stdout}{result.stderr}"
            )

    def argv(self) -> list[str]:
        return java_argv("kafka.Kafka", str(self.config_file), heap=HEAP_OPTIONS)


def create_topics(bootstrap_servers: str, logs: Path, env: dict[str, str] | None = None,
                  timeout: float = READY_SECONDS) -> None:
    """The published topics, idempotently (as the process environment's principal, or `env`'s); retried while a
    starting broker does not answer yet."""
    deadline = time.monotonic() + timeout
    while True:
        result = subprocess.run(
            [sys.executable, "-m", "services.platform.kafka_topics",
             *(f"{name}={count}" for name, count in TOPIC_PARTITIONS.items()),
             *(f"--config={name}:{key}={value}" for name, config in TOPIC_CONFIGS.items()
               for key, value in config.items())],
            cwd=ROOT, env={**os.environ, **(env or {}), "KAFKA_BOOTSTRAP_SERVERS": bootstrap_servers},
            capture_output=True, text=True)
        (logs / "topics.log").write_text(result.stdout + result.stderr)
        if result.returncode == 0:
            return
        if time.monotonic() > deadline:
            raise SystemExit(f"creating the topics failed:\n{result.stdout}{result.stderr}")
        time.sleep(0.5)


def wait_for_node(node: KafkaNode, logs: Path, process: subprocess.Popen | None) -> None:
    """Returns once the node listens and has its users, ACLs and the published topics (set up as admin)."""
    wait_until(lambda: port_open("127.0.0.1", node.port), "Kafka broker", READY_SECONDS, process)
    admin_env = node.credentials.admin_env if node.credentials else {"KAFKA_SECURITY_PROTOCOL": "PLAINTEXT"}
    create_topics(node.address, logs, admin_env)
    if node.credentials:
        apply_users_and_acls(node.address, node.credentials)


@dataclass(frozen=True)
class Broker:
    """Where the stack's Kafka is and how each of its processes logs in."""

    bootstrap_servers: str
    credentials: Credentials | None  # None: an external cluster, logged into as the environment says
    ready_seconds: float | None = None  # from its start until its users, ACLs and topics were set up

    def process_env(self, process: str) -> dict[str, str]:
        """The login of a stack process (order-relay, delivery-relay, consumer-N), as the chart gives it."""
        if self.credentials is None:
            return {}
        return self.credentials.client_env(
            PROCESS_PRINCIPALS["consumer" if process.startswith("consumer-") else process]
        )

    @property
    def tools_env(self) -> dict[str, str]:
        """The login of the tests and tools (KAFKA_* settings), exported by `python -m scripts.stack env`."""
        return self.credentials.client_env(TOOLS_PRINCIPAL) if self.credentials else {}


def node_for(layout: Layout, fresh: bool) -> KafkaNode:
    credentials = Credentials.load_or_create(layout.kafka_dir / "credentials.json", stack_definition(), fresh)
    return KafkaNode(layout.kafka_dir, layout.kafka_port, layout.kafka_controller_port, credentials)


def needs_fresh_start(layout: Layout) -> bool:
    """STACK_FRESH_DATABASES=1, or a log directory whose passwords are gone (nobody could log in to it)."""
    if os.environ.get("STACK_FRESH_DATABASES") == "1":
        return True
    formatted = (layout.kafka_dir / "data" / "meta.properties").exists()
    if formatted and not (layout.kafka_dir / "credentials.json").exists():
        log(f"Kafka: {layout.kafka_dir} has no credentials.json beside its data; starting from an empty log directory")
        return True
    return False


def start_broker(layout: Layout, supervisor: Supervisor) -> Broker:
    """A broker with the users, ACLs and topics in place."""
    external = os.environ.get("KAFKA_BOOTSTRAP_SERVERS")
    if external:
        log(f"Kafka: using {external}")
        create_topics(external, layout.logs)
        return Broker(external, None)
    fresh = needs_fresh_start(layout)
    node = node_for(layout, fresh)
    for port in (node.port, node.controller_port):
        if port_open("127.0.0.1", port):
            raise SystemExit(f"port {port} is taken; stop what runs there or set KAFKA_BOOTSTRAP_SERVERS")
    node.prepare(fresh)
    started = time.monotonic()
    supervisor.start(
        ProcessSpec("broker", node.argv(), after_start=lambda process: wait_for_node(node, layout.logs, process))
    )
    ready = time.monotonic() - started
    log(f"Kafka: Apache Kafka on {node.address} (KRaft, SASL/SCRAM and ACLs, data in {node.data_dir}"
        f"{', started empty' if fresh else ''}), ready in {ready:.1f}s")
    return Broker(node.address, node.credentials, round(ready, 2))
