"""Unit tests for how the consumer sorts a poll batch: orders to write, dead letters, offsets to commit."""
import json
import uuid

from kafka import TopicPartition
from kafka.consumer.fetcher import ConsumerRecord

from services.contracts import order_created
from services.contracts.envelope import HEADER_ERROR
from services.delivery_ms.consumer.batch import skip_note, sort_batch
from services.platform.consumer import SkippedOffsets

TOPIC = order_created.TOPIC


def order(**overrides):
    return {"user_id": "USER0001", "order_id": str(uuid.uuid4()), "coffee_name": "jslee", "coffee_price": 2000,
            "coffee_qty": 6, "ordered_at": "2026-11-28T15:04:05.123456Z", **overrides}


def record(partition, offset, value, key=b"k", headers=None):
    raw = json.dumps(value).encode() if isinstance(value, dict) else value
    return ConsumerRecord(TOPIC, partition, -1, offset, 0, 0, key, raw, headers or [], None, 0, 0, 0)


def test_orders_from_every_partition_are_kept_in_order():
    first, second, third = order(), order(), order()
    batch = {
        TopicPartition(TOPIC, 0): [record(0, 7, first), record(0, 8, second)],
        TopicPartition(TOPIC, 2): [record(2, 3, third)],
    }
    sorted_batch = sort_batch(batch)
    assert sorted_batch.orders == [first, second, third]
    assert sorted_batch.dead_letters == []


def test_offsets_to_commit_are_one_past_the_last_record_of_each_partition():
    batch = {
        TopicPartition(TOPIC, 0): [record(0, 7, order()), record(0, 8, b"poison")],
        TopicPartition(TOPIC, 1): [record(1, 41, order())],
    }
    offsets = sort_batch(batch).offsets
    assert {tp.partition: meta.offset for tp, meta in offsets.items()} == {0: 9, 1: 42}


def test_unusable_messages_become_dead_letters_with_the_reason():
    missing = order()
    del missing["coffee_qty"]
    bad = [
        record(0, 1, b"not json", key=b"k1"),
        record(0, 2, missing, key=b"k2"),
        record(0, 3, order(user_id="x" * 51), key=b"k3"),
        record(0, 4, order(order_id=str(uuid.uuid4()).upper()), key=b"k4"),
        record(0, 5, None, key=b"k5"),
    ]
    good = order()
    sorted_batch = sort_batch({TopicPartition(TOPIC, 0): [*bad, record(0, 6, good)]})
    assert sorted_batch.orders == [good]
    reasons = [letter.error for letter in sorted_batch.dead_letters]
    assert [letter.record.key for letter in sorted_batch.dead_letters] == [b"k1", b"k2", b"k3", b"k4", b"k5"]
    assert "not JSON" in reasons[0]
    assert "coffee_qty" in reasons[1]
    assert "user_id" in reasons[2]
    assert "order_id" in reasons[3]
    assert "no value" in reasons[4]


def test_a_dead_letter_keeps_the_original_headers_and_adds_one_error_header():
    original = [("event_id", b"e-1"), ("event_type", b"OrderCreated"), ("error", b"from an earlier hop")]
    letter = sort_batch({TopicPartition(TOPIC, 0): [record(0, 1, b"{", headers=original)]}).dead_letters[0]
    dead = letter.dead_letter_record()
    assert dead.topic == "new_orders.dlq" and dead.key == b"k" and dead.value == b"{"
    assert dead.headers[:2] == original[:2]
    assert [name for name, _ in dead.headers].count(HEADER_ERROR) == 1
    assert dict(dead.headers)[HEADER_ERROR].decode() == letter.error


def test_the_skip_note_names_the_partition_the_offsets_and_the_reason():
    note = skip_note(SkippedOffsets(TopicPartition("new_orders", 2), 40, 45, "CorruptRecordError: crc"))
    assert note.topic == "new_orders.dlq" and note.key is None and note.value == b""
    assert dict(note.headers) == {
        "error": b"unreadable record batch at new_orders[2] offsets 40-44: CorruptRecordError: crc",
        "skipped_topic": b"new_orders", "skipped_partition": b"2", "skipped_first_offset": b"40",
        "skipped_last_offset": b"44"}
