"""delivery-ms's consumer reads `account_versions` as a second subscription of its group: each topic's records go
to their own parse, write and dead-letter topic, and one commit covers both."""
import json
from dataclasses import replace

from kafka import TopicPartition
from kafka.consumer.fetcher import ConsumerRecord

from services.contracts import account_tokens_revoked, order_created
from services.contracts.envelope import TypedEvent
from services.delivery_ms.consumer import new_orders_consumer
from services.delivery_ms.settings import load_settings

REVOCATION = {"user_id": "Alice-1", "token_version": 3, "reason": "LOGOUT", "revoked_at": "2026-11-28T15:04:05.123456Z"}
ORDER = {"user_id": "USER0001", "order_id": "5f0c4c7e-2b1d-4c1e-9a35-2f6a8f1f2b3c", "coffee_name": "jslee",
         "coffee_price": 2000, "coffee_qty": 6, "ordered_at": "2026-11-28T15:04:05.123456Z"}


def record(topic, partition, offset, value):
    raw = json.dumps(value).encode() if isinstance(value, dict) else value
    return ConsumerRecord(topic, partition, -1, offset, 0, 0, b"k", raw, [], None, 0, 0, 0)


def test_one_group_reads_both_topics_with_their_own_dead_letter_topics():
    consumer = new_orders_consumer(load_settings())
    assert [(s.topic, s.group, s.dead_letter_topic) for s in consumer.subscriptions] == [
        ("new_orders", "delivery-consumer", "new_orders.dlq"),
        ("account_versions", "delivery-consumer", "account_versions.dlq")]


def test_each_topics_records_are_parsed_by_their_contract_and_dead_lettered_to_their_topic():
    versions, orders = TopicPartition(account_tokens_revoked.TOPIC, 1), TopicPartition(order_created.TOPIC, 0)
    batch = {versions: [record(versions.topic, 1, 4, REVOCATION), record(versions.topic, 1, 5, ORDER)],
             orders: [record(orders.topic, 0, 9, ORDER), record(orders.topic, 0, 10, REVOCATION)]}
    sorted_batch = new_orders_consumer(load_settings()).sort(batch)
    assert sorted_batch.items == [REVOCATION, TypedEvent(order_created.EVENT_TYPE, ORDER)]
    assert [(letter.record.offset, letter.topic) for letter in sorted_batch.dead_letters] == [
        (5, "account_versions.dlq"), (10, "new_orders.dlq")]
    assert {tp.topic: meta.offset for tp, meta in sorted_batch.offsets.items()} == {
        "account_versions": 6, "new_orders": 11}


def test_each_subscription_writes_its_own_items_in_its_own_call():
    consumer = new_orders_consumer(load_settings())
    written = {}

    def writer(topic):
        def write(_pool, items):
            written[topic] = items
            return len(items)
        return write
    consumer.subscriptions = tuple(replace(s, write=writer(s.topic)) for s in consumer.subscriptions)
    versions, orders = TopicPartition(account_tokens_revoked.TOPIC, 0), TopicPartition(order_created.TOPIC, 0)
    sorted_batch = consumer.sort({versions: [record(versions.topic, 0, 1, REVOCATION)],
                                  orders: [record(orders.topic, 0, 1, ORDER)]})
    assert consumer.write(sorted_batch) == (2, 0)
    assert written == {"account_versions": [REVOCATION], "new_orders": [TypedEvent(order_created.EVENT_TYPE, ORDER)]}
