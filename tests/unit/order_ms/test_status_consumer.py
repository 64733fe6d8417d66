"""Unit tests of order-ms's `delivery_status` subscription: both event types told apart by their `event_type`
header, what becomes a dead letter with which reason, and the offsets to commit."""
import json
import uuid

from kafka import TopicPartition
from kafka.consumer.fetcher import ConsumerRecord

from services.contracts import delivery_status_changed, order_cancel_refused
from services.contracts.envelope import TypedEvent
from services.order_ms.read_model import UnknownOrder
from services.order_ms.settings import load_settings
from services.order_ms.status_consumer import delivery_status_consumer, parse_status_event
from services.platform.consumer import UnusableItem

TOPIC = delivery_status_changed.TOPIC


def change(**overrides):
    return {"delivery_id": str(uuid.uuid4()), "order_id": str(uuid.uuid4()), "status": "IN_DELIVERY",
            "previous_status": "CONFIRMED", "updated_at": "2026-11-28T15:09:41.000321Z", "version": 2, **overrides}


def refusal(**overrides):
    return {"delivery_id": str(uuid.uuid4()), "order_id": str(uuid.uuid4()), "status": "IN_DELIVERY", "version": 2,
            "reason": "The delivery is already IN_DELIVERY; only a CONFIRMED delivery can be canceled.",
            "refused_at": "2026-11-28T15:06:00.250000Z", **overrides}


def record(offset, value, headers=None, partition=0, key=b"k"):
    raw = json.dumps(value).encode() if isinstance(value, dict) else value
    return ConsumerRecord(TOPIC, partition, -1, offset, 0, 0, key, raw, headers or [], None, 0, 0, 0)


def published(message, offset=0):
    """The record exactly as the delivery relay publishes the message."""
    wire = message.record()
    return record(offset, wire.value, wire.headers)


def sort_batch(batch):
    return delivery_status_consumer(load_settings()).sort(batch)


def test_the_consumer_names_its_topic_group_and_dead_letter_topic():
    subscription = delivery_status_consumer(load_settings()).subscription
    assert (subscription.topic, subscription.group, subscription.dead_letter_topic) == (
        "delivery_status", "order-ms-status", "delivery_status.dlq")


def test_its_group_is_its_own_setting_not_delivery_ms_s(monkeypatch):
    monkeypatch.setenv("CONSUMER_GROUP", "delivery-consumer")
    monkeypatch.setenv("STATUS_CONSUMER_GROUP", "order-ms-status-blue")
    assert delivery_status_consumer(load_settings()).subscription.group == "order-ms-status-blue"


def test_each_event_type_is_parsed_by_its_own_contract():
    moved, refused = change(), refusal()
    sorted_batch = sort_batch({TopicPartition(TOPIC, 0): [
        published(delivery_status_changed.build(moved), 0), published(order_cancel_refused.build(refused), 1)]})
    assert sorted_batch.dead_letters == []
    assert sorted_batch.items == [TypedEvent("DeliveryStatusChanged", moved), TypedEvent("OrderCancelRefused", refused)]


def test_a_record_without_headers_is_a_delivery_status_change_as_before():
    moved = change(previous_status=None, status="CONFIRMED", version=1)
    assert parse_status_event(json.dumps(moved).encode(), None) == TypedEvent("DeliveryStatusChanged", moved)


def test_a_creation_event_has_a_null_previous_status():
    moved = change(status="CONFIRMED", version=1)
    del moved["previous_status"]
    assert parse_status_event(json.dumps(moved).encode(), []).value["previous_status"] is None


def test_unusable_records_become_dead_letters_with_the_reason():
    refusal_headers = [("event_type", b"OrderCancelRefused"), ("schema_version", b"1")]
    bad = [
        record(1, b"not json", key=b"k1"),
        record(2, change(version=0), key=b"k2"),
        record(3, change(status="LOST"), key=b"k3"),
        record(4, change(), [("event_type", b"DeliveryExploded")], key=b"k4"),
        record(5, change(), [("event_type", b"DeliveryStatusChanged"), ("schema_version", b"9")], key=b"k5"),
        record(6, change(), refusal_headers, key=b"k6"),
        record(7, refusal(reason=""), refusal_headers, key=b"k7"),
        record(8, None, key=b"k8"),
        record(9, change(updated_at="2026-13-45T25:61:00.000000Z"), key=b"k9"),
        record(10, refusal(refused_at="2026-02-30T10:00:00.000000Z"), refusal_headers, key=b"k10"),
    ]
    good = change()
    sorted_batch = sort_batch({TopicPartition(TOPIC, 0): [*bad, record(11, good)]})
    assert sorted_batch.items == [TypedEvent("DeliveryStatusChanged", good)]
    assert [letter.record.key for letter in sorted_batch.dead_letters] == [f"k{n}".encode() for n in range(1, 11)]
    assert all(letter.topic == "delivery_status.dlq" for letter in sorted_batch.dead_letters)
    reasons = [letter.error for letter in sorted_batch.dead_letters]
    assert "not JSON" in reasons[0]
    assert "version" in reasons[1]
    assert "status" in reasons[2]
    assert "'DeliveryExploded' is not one of DeliveryStatusChanged, OrderCancelRefused" in reasons[3]
    assert "schema_version" in reasons[4]
    assert "reason" in reasons[5] and "refused_at" in reasons[5], "a change sent as a refusal misses its fields"
    assert "reason" in reasons[6]
    assert "no value" in reasons[7]
    assert reasons[8] == "updated_at '2026-13-45T25:61:00.000000Z' is not a real time"
    assert reasons[9] == "refused_at '2026-02-30T10:00:00.000000Z' is not a real time"
    assert {tp.partition: meta.offset for tp, meta in sorted_batch.offsets.items()} == {0: 12}


def test_an_unknown_order_is_a_dead_letter_reason_of_its_own():
    unknown = UnknownOrder("5f0c4c7e-2b1d-4c1e-9a35-2f6a8f1f2b3c")
    assert isinstance(unknown, UnusableItem)
    assert str(unknown) == "unknown order: order-ms has no order 5f0c4c7e-2b1d-4c1e-9a35-2f6a8f1f2b3c"
    subscription = delivery_status_consumer(load_settings()).subscription
    assert any(issubclass(UnknownOrder, refused) for refused in subscription.refused), "batch retried item by item"

