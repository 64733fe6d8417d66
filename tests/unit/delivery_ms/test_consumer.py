"""Unit tests of delivery-ms's `new_orders` subscription: how a poll batch sorts into events to write (orders and
cancel requests, each by its event_type header), dead letters with their reasons, and offsets to commit."""
import json
import uuid

from kafka import TopicPartition
from kafka.consumer.fetcher import ConsumerRecord

from services.contracts import order_cancel_requested, order_created
from services.contracts.envelope import TypedEvent
from services.delivery_ms.consumer import new_orders_consumer
from services.delivery_ms.settings import load_settings

TOPIC = order_created.TOPIC


def order(**overrides):
    return {"user_id": "USER0001", "order_id": str(uuid.uuid4()), "coffee_name": "jslee", "coffee_price": 2000,
            "coffee_qty": 6, "ordered_at": "2026-11-28T15:04:05.123456Z", **overrides}


def record(partition, offset, value, key=b"k", headers=None):
    raw = json.dumps(value).encode() if isinstance(value, dict) else value
    return ConsumerRecord(TOPIC, partition, -1, offset, 0, 0, key, raw, headers or [], None, 0, 0, 0)


def sort_batch(batch):
    return new_orders_consumer(load_settings()).sort(batch)


def test_the_consumer_names_its_topic_group_and_dead_letter_topic():
    subscription = new_orders_consumer(load_settings()).subscription
    assert (subscription.topic, subscription.group, subscription.dead_letter_topic) == (
        "new_orders", "delivery-consumer", "new_orders.dlq")


def test_orders_from_every_partition_are_kept_in_order():
    first, second, third = order(), order(), order()
    batch = {
        TopicPartition(TOPIC, 0): [record(0, 7, first), record(0, 8, second)],
        TopicPartition(TOPIC, 2): [record(2, 3, third)],
    }
    sorted_batch = sort_batch(batch)
    assert sorted_batch.items == created([first, second, third])
    assert sorted_batch.dead_letters == []


def created(orders):
    return [TypedEvent("OrderCreated", order) for order in orders]


def test_cancel_requests_are_told_from_orders_by_their_header_and_keep_their_place():
    first, canceled = order(), order()
    cancel = order_cancel_requested.build(canceled, "2026-11-28T15:06:00.000000Z").record()
    batch = {TopicPartition(TOPIC, 1): [record(1, 1, first, headers=[("event_type", b"OrderCreated")]),
                                        record(1, 2, canceled),
                                        record(1, 3, cancel.value, headers=cancel.headers)]}
    sorted_batch = sort_batch(batch)
    assert sorted_batch.items == [*created([first, canceled]),
                                  TypedEvent("OrderCancelRequested",
                                             {**canceled, "requested_at": "2026-11-28T15:06:00.000000Z"})]


def test_an_event_type_the_consumer_does_not_read_is_dead_lettered_naming_it():
    batch = {TopicPartition(TOPIC, 0): [record(0, 1, order(), key=b"odd", headers=[("event_type", b"OrderShipped")])]}
    (letter,) = sort_batch(batch).dead_letters
    assert letter.record.key == b"odd" and "'OrderShipped' is not one of OrderCreated" in letter.error


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
    assert sorted_batch.items == created([good])
    reasons = [letter.error for letter in sorted_batch.dead_letters]
    assert [letter.record.key for letter in sorted_batch.dead_letters] == [b"k1", b"k2", b"k3", b"k4", b"k5"]
    assert "not JSON" in reasons[0]
    assert "coffee_qty" in reasons[1]
    assert "user_id" in reasons[2]
    assert "order_id" in reasons[3]
    assert "no value" in reasons[4]
