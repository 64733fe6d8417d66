"""A private Apache Kafka node for a test that must not share the stack's topics, secured as the stack's."""
from __future__ import annotations

import contextlib
import os
import subprocess
from pathlib import Path

from scripts.stack.broker import KafkaNode, wait_for_node
from scripts.stack.kafka_access import TOOLS_PRINCIPAL, Credentials, stack_definition
from tests.support.processes import free_port


@contextlib.contextmanager
def private_broker(log_dir: Path):
    """Yields the bootstrap address of a fresh broker with the published topics; stops it afterwards.

    It has the stack's principals and ACLs, and the tools' principal keeps the password of the KAFKA_SASL_*
    login in the environment, so the test's clients and the processes it starts log in as they do to the stack."""
    tools_login = ({TOOLS_PRINCIPAL: os.environ["KAFKA_SASL_PASSWORD"]}
                   if os.environ.get("KAFKA_SASL_USERNAME") == TOOLS_PRINCIPAL else {})
    credentials = Credentials.load_or_create(log_dir / "kafka" / "credentials.json", stack_definition(), fresh=True,
                                             given=tools_login)
    node = KafkaNode(log_dir / "kafka", free_port(), free_port(),
                     credentials if os.environ.get("KAFKA_SECURITY_PROTOCOL", "PLAINTEXT") != "PLAINTEXT" else None)
    node.prepare(fresh=True)
    with open(log_dir / "broker.log", "wb") as log_file:
        broker = subprocess.Popen(node.argv(), stdout=log_file, stderr=subprocess.STDOUT)
    try:
        wait_for_node(node, log_dir, broker)
        yield node.address
    finally:
        broker.terminate()
        broker.wait(timeout=60)
