"""Watching a Kafka topic from the moment a case starts, to see the event its action should publish."""
from __future__ import annotations

import json
import os
import time

from kafka import KafkaConsumer, TopicPartition

from tests.acceptance.uat.checks import WAIT_SECONDS

POLL_TIMEOUT_MS = 200


def kafka_security() -> dict:
    """How to log in to Kafka, from the same variables the services read (the in-cluster Job uses SCRAM)."""
    protocol = os.environ.get("KAFKA_SECURITY_PROTOCOL", "PLAINTEXT")
    options = {"security_protocol": protocol}
    if protocol.startswith("SASL"):
        options.update(sasl_mechanism=os.environ.get("KAFKA_SASL_MECHANISM", "SCRAM-SHA-512"),
                       sasl_plain_username=os.environ["KAFKA_SASL_USERNAME"],
                       sasl_plain_password=os.environ["KAFKA_SASL_PASSWORD"])
    return options


class TopicWatch:
    """Reads every partition of one topic from the offsets it had when the watch began.

    No consumer group is joined (partitions are assigned), so the watch neither waits for a rebalance
    nor moves the offsets of the services' own groups."""

    def __init__(self, bootstrap_servers: str, topic: str):
        self.topic = topic
        self.consumer = KafkaConsumer(
            bootstrap_servers=bootstrap_servers.split(","), group_id=None, enable_auto_commit=False,
            client_id="coffee-uat", request_timeout_ms=15000, **kafka_security(),
        )
        self.seen: list = []
        partitions = self._partitions()
        self.consumer.assign(partitions)
        self.consumer.seek_to_end(*partitions)
        for partition in partitions:
            # position() resolves the lazy seek now, before the case's action can publish anything.
            self.consumer.position(partition)

    def _partitions(self) -> list[TopicPartition]:
        deadline = time.monotonic() + WAIT_SECONDS
        while True:
            ids = self.consumer.partitions_for_topic(self.topic)
            if ids:
                return [TopicPartition(self.topic, partition) for partition in sorted(ids)]
            if time.monotonic() >= deadline:
                raise AssertionError(f"topic {self.topic!r} is not known to the broker")
            self.consumer.topics()  # asks the broker for fresh metadata

    def wait_for(self, key: str, count: int = 1, timeout: float = WAIT_SECONDS) -> list:
        """The first `count` records with this key (in partition order), or an AssertionError."""
        deadline = time.monotonic() + timeout
        while True:
            matching = [record for record in self.seen if record.key == key.encode()]
            if len(matching) >= count:
                return matching
            if time.monotonic() >= deadline:
                raise AssertionError(
                    f"{count} event(s) with key {key} expected on {self.topic} within {timeout:g} s,"
                    f" saw {len(matching)}"
                )
            for records in self.consumer.poll(timeout_ms=POLL_TIMEOUT_MS).values():
                self.seen.extend(records)

    def close(self) -> None:
        self.consumer.close()


def value_of(record) -> dict:
    return json.loads(record.value)


def headers_of(record) -> dict[str, str]:
    return {name: (value or b"").decode() for name, value in record.headers or []}
