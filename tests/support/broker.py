"""A private Apache Kafka node for a test that must not share the stack's topics."""
from __future__ import annotations

import contextlib
import subprocess
from pathlib import Path

from scripts.stack.broker import KafkaNode, wait_for_node
from tests.support.processes import free_port


@contextlib.contextmanager
def private_broker(log_dir: Path):
    """Yields the bootstrap address of a fresh broker with the published topics; stops it afterwards."""
    node = KafkaNode(log_dir / "kafka", free_port(), free_port())
    node.prepare(fresh=True)
    with open(log_dir / "broker.log", "wb") as log_file:
        broker = subprocess.Popen(node.argv(), stdout=log_file, stderr=subprocess.STDOUT)
    try:
        wait_for_node(node, log_dir, broker)
        yield node.address
    finally:
        broker.terminate()
        broker.wait(timeout=60)
