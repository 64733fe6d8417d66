"""A running tally of one topic, read from its first offset without joining a group: how many records each key
has, and for a dead-letter topic the error each key was dead-lettered with."""
from __future__ import annotations

import time
from collections import Counter

from kafka import KafkaConsumer, TopicPartition

from scripts.stack.kafka_access import login_options
from services.contracts.envelope import HEADER_ERROR, header_text
from services.platform.dead_letters import HEADER_SKIPPED_PARTITION as SKIPPED_PARTITION
from services.platform.undecodable import SkippedOffsets, raised_while_decoding, step_over_undecodable

# Records near 1 MiB (the poison flood's largest) must fit one fetch.
MAX_FETCH_BYTES = 8 * 1024 * 1024
FETCH_WAIT_MS = 100
# A poll long enough for a whole fetch round trip.
POLL_MS = 3 * FETCH_WAIT_MS


class TopicTally:
    def __init__(self, kafka_servers: str, topic: str, login: dict[str, str]):
        self.topic = topic
        self._consumer = KafkaConsumer(
            bootstrap_servers=kafka_servers.split(","),
            group_id=None,
            **login_options(login),
            enable_auto_commit=False,
            auto_offset_reset="earliest",
            max_partition_fetch_bytes=MAX_FETCH_BYTES,
            fetch_max_bytes=MAX_FETCH_BYTES * 4,
            fetch_max_wait_ms=FETCH_WAIT_MS,
        )
        self._partitions = [TopicPartition(topic, p) for p in sorted(self._consumer.partitions_for_topic(topic))]
        self._consumer.assign(self._partitions)
        self._consumer.seek_to_beginning(*self._partitions)
        self.counts: Counter[bytes] = Counter()
        self.errors: dict[bytes, str] = {}
        self._ends: dict[TopicPartition, int] = {}
        # A dead-letter topic's skip notes (offsets whose batch could not be decoded): their headers, as text.
        self.skip_notes: list[dict[str, str]] = []
        self.unreadable: list[SkippedOffsets] = []  # batches of this topic the tally could not decode either

    def catch_up(self, timeout: float = 60.0) -> bool:
        """Reads until every partition's position reaches the end offset it had when the call began (ListOffsets,
        end_offsets()); False if `timeout` passed first."""
        self._ends = self._consumer.end_offsets(self._partitions)
        deadline = time.monotonic() + timeout
        while not all(self._consumer.position(partition) >= end for partition, end in self._ends.items()):
            if time.monotonic() > deadline:
                return False
            try:
                batches = self._consumer.poll(timeout_ms=POLL_MS)
            except Exception as exc:  # noqa: BLE001 - whatever a batch raises while it is decoded
                if not raised_while_decoding(exc):
                    raise
                # A corrupt batch (the record-batches scenario makes one): its records have no key to count.
                self.unreadable.append(step_over_undecodable(self._consumer, exc, POLL_MS))
                continue
            for records in batches.values():
                for record in records:
                    if header_text(record.headers, SKIPPED_PARTITION) is not None:
                        self.skip_notes.append({name: header_text(record.headers, name) for name, _ in record.headers})
                        continue
                    self.counts[record.key] += 1
                    if record.key not in self.errors:
                        self.errors[record.key] = header_text(record.headers, HEADER_ERROR) or ""
        return True

    def ends(self) -> dict[int, int]:
        """Each partition's end offset as of the last catch_up()."""
        return {partition.partition: end for partition, end in self._ends.items()}

    def close(self) -> None:
        self._consumer.close(autocommit=False)


def group_lag(kafka_servers: str, login: dict[str, str], group: str, topic: str,
              ends: dict[int, int]) -> dict[int, int]:
    """Records of each partition, up to `ends`, that `group` has not committed yet (read without joining it)."""
    committed = committed_offsets(kafka_servers, login, group, topic, list(ends))
    return {partition: end - committed[partition] for partition, end in ends.items()}


def committed_offsets(kafka_servers: str, login: dict[str, str], group: str, topic: str,
                      partitions: list[int]) -> dict[int, int]:
    consumer = KafkaConsumer(bootstrap_servers=kafka_servers.split(","), group_id=group, enable_auto_commit=False,
                             **login_options(login))
    try:
        return {partition: consumer.committed(TopicPartition(topic, partition)) or 0 for partition in partitions}
    finally:
        consumer.close(autocommit=False)

