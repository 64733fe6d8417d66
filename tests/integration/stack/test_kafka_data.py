"""The stack's Kafka keeps its topics across a broker crash (its log directory is under .run/<profile>/kafka/),
and STACK_FRESH_DATABASES=1 starts it from an empty one."""
from __future__ import annotations

import signal
import uuid

from scripts.stack.broker import KafkaNode
from scripts.stack.holds import hold_process, release_process
from scripts.stack.layout import layout_for
from services.contracts import order_created
from tests.support.topics import OrderProducer, TopicReader


def test_a_record_outlives_a_sigkilled_broker(stack, kafka_servers):
    # The dead-letter topic: nothing of the stack reads it, so the record stays as written.
    marker = f"kept-{uuid.uuid4()}".encode()
    producer = OrderProducer(kafka_servers)
    try:
        written = producer.send_raw(marker, b"{}", [], topic=order_created.DEAD_LETTER_TOPIC)
    finally:
        producer.close()
    layout = layout_for(stack.profile, starting=False)
    hold_process(layout, "broker", signal.SIGKILL)
    release_process(layout, "broker")
    reader = TopicReader(kafka_servers, order_created.DEAD_LETTER_TOPIC)
    try:
        found = reader.wait_for(lambda record: record.key == marker, "the record written before the crash")
    finally:
        reader.close()
    assert [(record.partition, record.offset) for record in found] == [(written.partition, written.offset)]


def cluster_id(node: KafkaNode) -> str:
    properties = dict(line.split("=", 1) for line in (node.data_dir / "meta.properties").read_text().splitlines()
                      if "=" in line and not line.startswith("#"))
    return properties["cluster.id"]


def test_fresh_formats_a_new_log_directory_and_otherwise_keeps_it(tmp_path):
    node = KafkaNode(tmp_path, port=1, controller_port=2)
    node.prepare(fresh=False)
    first = cluster_id(node)
    (node.data_dir / "new_orders-0").mkdir()
    node.prepare(fresh=False)
    assert cluster_id(node) == first and (node.data_dir / "new_orders-0").exists()
    node.prepare(fresh=True)
    assert cluster_id(node) != first and not (node.data_dir / "new_orders-0").exists()
