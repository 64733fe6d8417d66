"""The Kafka broker: KAFKA_BOOTSTRAP_SERVERS when set, else one Apache Kafka node (KRaft, broker and controller)
whose topics live under .run/<profile>/kafka/ and survive its restarts; the published topics are created after
every start."""
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

from scripts.stack.kafka_dist import java_argv
from scripts.stack.layout import ROOT, Layout
from scripts.stack.supervisor import ProcessSpec, Supervisor
from scripts.stack.waiting import log, port_open, wait_until
from services.contracts.topics import TOPIC_PARTITIONS

# Sized for a small shared machine: the broker idles at about a fifth of this (README "Local stack").
HEAP_OPTIONS = ("-Xms64m", "-Xmx384m", "-XX:+UseG1GC", "-XX:MaxGCPauseMillis=20", "-XX:+ExplicitGCInvokesConcurrent")
# How long a broker may take from its start until it creates topics (a JVM starting on a busy machine).
READY_SECONDS = 120


@dataclass(frozen=True)
class KafkaNode:
    """One combined broker and controller on 127.0.0.1 with its configuration and data in `directory`."""

    directory: Path
    port: int
    controller_port: int

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
            "listener.security.protocol.map=CLIENT:PLAINTEXT,CONTROLLER:PLAINTEXT",
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
            "",
        ])

    def prepare(self, fresh: bool) -> None:
        """Writes server.properties and formats the log directory unless it holds a cluster already; `fresh`
        drops every topic first."""
        self.directory.mkdir(parents=True, exist_ok=True)
        self.config_file.write_text(self.server_properties())
        if fresh:
            shutil.rmtree(self.data_dir, ignore_errors=True)
        if (self.data_dir / "meta.properties").exists():
            return
        cluster_id = base64.urlsafe_b64encode(uuid.uuid4().bytes).decode().rstrip("=")
        result = subprocess.run(
            java_argv("kafka.tools.StorageTool", "format", "--cluster-id", cluster_id, "--config", str(self.config_file)),
            cwd=ROOT, capture_output=True, text=True)
        if result.returncode != 0:
            raise SystemExit(f"formatting Kafka's log directory {self.data_dir} failed:\n{result.stdout}{result.stderr}")

    def argv(self) -> list[str]:
        return java_argv("kafka.Kafka", str(self.config_file), heap=HEAP_OPTIONS)


def node_for(layout: Layout) -> KafkaNode:
    return KafkaNode(layout.kafka_dir, layout.kafka_port, layout.kafka_controller_port)


def create_topics(bootstrap_servers: str, logs: Path, timeout: float = READY_SECONDS) -> None:
    """The published topics, idempotently; retried while a starting broker does not answer yet."""
    deadline = time.monotonic() + timeout
    while True:
        result = subprocess.run(
            [sys.executable, "-m", "services.platform.kafka_topics",
             *(f"{name}={count}" for name, count in TOPIC_PARTITIONS.items())],
            cwd=ROOT, env={**os.environ, "KAFKA_BOOTSTRAP_SERVERS": bootstrap_servers}, capture_output=True, text=True)
        (logs / "topics.log").write_text(result.stdout + result.stderr)
        if result.returncode == 0:
            return
        if time.monotonic() > deadline:
            raise SystemExit(f"creating the topics failed:\n{result.stdout}{result.stderr}")
        time.sleep(0.5)


def wait_for_node(node: KafkaNode, logs: Path, process: subprocess.Popen | None) -> None:
    """Returns once the node listens and has the published topics."""
    wait_until(lambda: port_open("127.0.0.1", node.port), "Kafka broker", READY_SECONDS, process)
    create_topics(node.address, logs)


def start_broker(layout: Layout, supervisor: Supervisor) -> str:
    """The bootstrap servers of a broker with the topics in place."""
    external = os.environ.get("KAFKA_BOOTSTRAP_SERVERS")
    if external:
        log(f"Kafka: using {external}")
        create_topics(external, layout.logs)
        return external
    node = node_for(layout)
    for port in (node.port, node.controller_port):
        if port_open("127.0.0.1", port):
            raise SystemExit(f"port {port} is taken; stop what runs there or set KAFKA_BOOTSTRAP_SERVERS")
    fresh = os.environ.get("STACK_FRESH_DATABASES") == "1"
    node.prepare(fresh)
    started = time.monotonic()
    supervisor.start(ProcessSpec("broker", node.argv(), after_start=lambda process: wait_for_node(node, layout.logs, process)))
    log(f"Kafka: Apache Kafka on {node.address} (KRaft, data in {node.data_dir}"
        f"{', started empty' if fresh else ''}), ready in {time.monotonic() - started:.1f}s")
    return node.address
