"""Talking to the broker from tests: produce orders straight to `new_orders`, read a topic from the beginning."""
from __future__ import annotations

import time
import uuid
from collections.abc import Callable

from kafka import KafkaConsumer, KafkaProducer, TopicPartition
from kafka.consumer.fetcher import ConsumerRecord

from services.contracts import order_created
from services.contracts.envelope import Message

# The login of the tests and tools, from the KAFKA_* variables `python -m scripts.stack env` exports.
from tests.acceptance.uat.events import kafka_security


def new_order(user_id: str = "ctest-user") -> dict:
    """An order exactly as order-ms would publish it."""
    return {"user_id": user_id, "order_id": str(uuid.uuid4()), "coffee_name": "jslee", "coffee_price": 2000,
            "coffee_qty": 6, "ordered_at": "2026-11-28T15:04:05.123456Z"}


class OrderProducer:
    """An acks=all producer for `new_orders`; every send waits for the broker and returns where the record went."""

    def __init__(self, kafka_servers: str):
        self._producer = KafkaProducer(bootstrap_servers=kafka_servers.split(","), acks="all", linger_ms=5,
                                       **kafka_security())

    def send_orders(self, orders: list[dict], partition: int | None = None) -> list:
        """Publish each order as an OrderCreated event; RecordMetadata (partition, offset) per order."""
        futures = [self._send(order_created.build(order), partition) for order in orders]
        self._producer.flush()
        return [future.get(timeout=10) for future in futures]

    def send_message(self, message: Message, partition: int | None = None):
        future = self._send(message, partition)
        self._producer.flush()
        return future.get(timeout=10)

    def send_raw(self, key: bytes, value: bytes, headers: list[tuple[str, bytes]], partition: int | None = None,
                 topic: str = order_created.TOPIC):
        future = self._producer.send(topic, key=key, value=value, headers=headers, partition=partition)
        self._producer.flush()
        return future.get(timeout=10)

    def _send(self, message: Message, partition: int | None):
        # The same bytes production sends: the contract's one serialisation.
        record = message.record()
        return self._producer.send(record.topic, key=record.key, value=record.value, headers=record.headers,
                                   partition=partition)

    def close(self) -> None:
        self._producer.close(timeout=5)


class TopicReader:
    """Reads one topic from its first offset without joining a group, remembering every record seen."""

    def __init__(self, kafka_servers: str, topic: str):
        self._consumer = KafkaConsumer(bootstrap_servers=kafka_servers.split(","), group_id=None,
                                       enable_auto_commit=False, auto_offset_reset="earliest", **kafka_security())
        partitions = [TopicPartition(topic, p) for p in sorted(self._consumer.partitions_for_topic(topic))]
        self._consumer.assign(partitions)
        self._consumer.seek_to_beginning(*partitions)
        self.records: list[ConsumerRecord] = []

    def wait_for(self, match: Callable[[ConsumerRecord], bool], what: str, count: int = 1,
                 timeout: float = 20.0) -> list[ConsumerRecord]:
        """The records matching `match` once there are at least `count` of them."""
        deadline = time.monotonic() + timeout
        while True:
            found = [record for record in self.records if match(record)]
            if len(found) >= count:
                return found
            if time.monotonic() > deadline:
                raise AssertionError(f"timed out after {timeout:.0f}s waiting for {what}; found {len(found)}")
            for batch in self._consumer.poll(timeout_ms=200).values():
                self.records.extend(batch)

    def close(self) -> None:
        self._consumer.close(autocommit=False)


def committed_offsets(kafka_servers: str, group: str, topic: str = order_created.TOPIC) -> dict[int, int | None]:
    """The group's committed offset per partition, read without joining the group."""
    consumer = KafkaConsumer(bootstrap_servers=kafka_servers.split(","), group_id=group, enable_auto_commit=False,
                             **kafka_security())
    try:
        return {p: consumer.committed(TopicPartition(topic, p)) for p in sorted(consumer.partitions_for_topic(topic))}
    finally:
        consumer.close(autocommit=False)
