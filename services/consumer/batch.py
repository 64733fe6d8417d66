"""Sorting one poll batch of `new_orders`: the orders to write, the dead letters, and the offsets to commit."""
from __future__ import annotations

import uuid
from dataclasses import dataclass, field

from kafka import TopicPartition
from kafka.structs import OffsetAndMetadata

from services.common import events
from services.common.validation import USER_ID_PATTERN, USER_ID_RULE


@dataclass(frozen=True)
class DeadLetter:
    """A record the consumer cannot use, and why; it goes to `new_orders.dlq` as received plus an error header."""

    record: object  # a kafka ConsumerRecord
    error: str

    def kafka_headers(self) -> list[tuple[str, bytes]]:
        kept = [(name, value) for name, value in (self.record.headers or []) if name != events.HEADER_ERROR]
        return [*kept, (events.HEADER_ERROR, self.error.encode())]


@dataclass
class SortedBatch:
    orders: list[dict] = field(default_factory=list)
    dead_letters: list[DeadLetter] = field(default_factory=list)
    offsets: dict[TopicPartition, OffsetAndMetadata] = field(default_factory=dict)


def read_order(raw_value: bytes | None) -> dict:
    """The order in a `new_orders` value, checked so that it also fits the delivery_status columns."""
    order = events.parse_order_created(raw_value)
    if not isinstance(order["user_id"], str) or not USER_ID_PATTERN.match(order["user_id"]):
        raise events.InvalidEvent(f"user_id must be {USER_ID_RULE}")
    # The canonical form only: the same order must always map to the same unique order_id.
    order_id = order["order_id"]
    if not isinstance(order_id, str) or order_id != str(uuid.UUID(order_id)):
        raise events.InvalidEvent("order_id must be a lowercase UUID with dashes")
    return order


def sort_batch(batch: dict[TopicPartition, list]) -> SortedBatch:
    """Every partition of the batch, each in offset order."""
    result = SortedBatch()
    for partition, records in batch.items():
        for record in records:
            try:
                result.orders.append(read_order(record.value))
            except events.InvalidEvent as exc:
                result.dead_letters.append(DeadLetter(record, str(exc)))
        if records:
            result.offsets[partition] = OffsetAndMetadata(records[-1].offset + 1, "", -1)
    return result
