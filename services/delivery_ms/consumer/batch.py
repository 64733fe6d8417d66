"""Sorting one poll batch of `new_orders`: the orders to write, the dead letters, and the offsets to commit."""
from __future__ import annotations

from dataclasses import dataclass, field

from kafka import TopicPartition
from kafka.structs import OffsetAndMetadata

from services.contracts import order_created
from services.contracts.envelope import HEADER_ERROR, InvalidEvent
from services.platform.records import Record


@dataclass(frozen=True)
class DeadLetter:
    """A record the consumer cannot use, and why; it goes to `new_orders.dlq` as received plus an error header."""

    record: object  # a kafka ConsumerRecord
    error: str

    def dead_letter_record(self) -> Record:
        source = self.record
        kept = [(name, value) for name, value in (source.headers or []) if name != HEADER_ERROR]
        return Record(
            topic=order_created.DEAD_LETTER_TOPIC,
            key=source.key,
            # A record with neither key nor value cannot be produced as is; an empty value keeps it.
            value=source.value if source.value is not None or source.key else b"",
            headers=[*kept, (HEADER_ERROR, self.error.encode())],
        )


@dataclass
class SortedBatch:
    orders: list[dict] = field(default_factory=list)
    dead_letters: list[DeadLetter] = field(default_factory=list)
    offsets: dict[TopicPartition, OffsetAndMetadata] = field(default_factory=dict)


def sort_batch(batch: dict[TopicPartition, list]) -> SortedBatch:
    """Every partition of the batch, each in offset order."""
    result = SortedBatch()
    for partition, records in batch.items():
        for record in records:
            try:
                result.orders.append(order_created.parse(record.value, record.headers))
            except InvalidEvent as exc:
                result.dead_letters.append(DeadLetter(record, str(exc)))
        if records:
            result.offsets[partition] = OffsetAndMetadata(records[-1].offset + 1, "", -1)
    return result
