"""A private Kafka-protocol broker (tansu) for a test that must not share the stack's topics."""
from __future__ import annotations

import contextlib
import subprocess
import sys
from pathlib import Path

from scripts.stack.broker import tansu_argv
from scripts.stack.waiting import port_open
from services.contracts.topics import TOPIC_PARTITIONS
from tests.support.polling import wait_for
from tests.support.processes import free_port
from tests.support.stack import ROOT


@contextlib.contextmanager
def private_broker(log_dir: Path):
    """Yields the bootstrap address of a fresh broker with the published topics; stops it afterwards."""
    port = free_port()
    address = f"127.0.0.1:{port}"
    with open(log_dir / "broker.log", "wb") as log_file:
        broker = subprocess.Popen(tansu_argv(address), stdout=log_file, stderr=subprocess.STDOUT)
    try:
        wait_for(lambda: port_open("127.0.0.1", port), "the private broker to listen")
        created = subprocess.run(
            [sys.executable, "-m", "services.platform.kafka_topics", *(f"{t}={n}" for t, n in TOPIC_PARTITIONS.items())],
            cwd=ROOT, env={"KAFKA_BOOTSTRAP_SERVERS": address, "PATH": "/usr/bin:/bin"}, capture_output=True, text=True,
            timeout=60)
        assert created.returncode == 0, created.stdout + created.stderr
        yield address
    finally:
        broker.terminate()
        broker.wait(timeout=30)
