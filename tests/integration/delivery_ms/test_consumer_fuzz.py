"""Property-based: whatever a `new_orders` record holds (its bytes, headers incl. null values and either event type,
size, nesting, field values), the consumer's parse-and-store path turns it into exactly one delivery (an order, or
a cancel of an order never seen) or a dead letter with its reason, against the real MariaDB, and never lets it
stop the valid orders beside it."""
from __future__ import annotations

import json
import uuid
from dataclasses import replace

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from kafka import TopicPartition
from kafka.consumer.fetcher import ConsumerRecord

from services.delivery_ms.consumer import new_orders_consumer
from services.delivery_ms.settings import load_settings
from services.platform.dead_letters import DEAD_LETTER_MAX_BYTES, record_size
from tests.support.databases import ThrowawayDatabase

TOPIC = "new_orders"
EXAMPLES = 150


def valid_order() -> dict:
    return {"user_id": "USER0001", "order_id": str(uuid.uuid4()), "coffee_name": "jslee", "coffee_price": 2000,
            "coffee_qty": 6, "ordered_at": "2026-11-28T15:04:05.123456Z"}


# Any text, lone surrogates included (what a JSON "\ud800" escape decodes to).
any_text = st.text(st.characters(codec=None, categories=None), max_size=80)
json_scalars = st.one_of(st.none(), st.booleans(), st.integers(), st.integers(min_value=10**20),
                         st.floats(allow_nan=True, allow_infinity=True), any_text)
json_values = st.recursive(json_scalars, lambda inner: st.one_of(
    st.lists(inner, max_size=4), st.dictionaries(any_text, inner, max_size=4)), max_leaves=12)
headers = st.lists(st.one_of(
    st.tuples(st.text(max_size=20), st.one_of(st.none(), st.binary(max_size=40))),
    st.tuples(st.just("event_type"), st.sampled_from([b"OrderCreated", b"OrderCancelRequested", b"OrderShipped"]))),
    max_size=4)


@st.composite
def near_valid_values(draw) -> bytes:
    """A valid order (or cancel request) with one field changed, dropped or added, or wrapped or nested oddly."""
    order = valid_order()
    if draw(st.booleans()):
        order["requested_at"] = "2026-11-28T15:06:00.000000Z"
    change = draw(st.sampled_from(["replace", "drop", "add", "deep", "array"]))
    field = draw(st.sampled_from(sorted(order)))
    if change == "replace":
        order[field] = draw(json_values)
    elif change == "drop":
        del order[field]
    elif change == "add":
        order[draw(any_text)] = draw(json_values)
    elif change == "deep":
        # An extra field nested deeper than any parser should follow (shallower ones are simply ignored).
        depth = draw(st.integers(min_value=500, max_value=5000))
        return json.dumps(order).encode()[:-1] + b', "x": ' + b"[" * depth + b"]" * depth + b"}"
    else:
        return json.dumps([order]).encode()
    return json.dumps(order, ensure_ascii=draw(st.booleans())).encode("utf-8", "surrogatepass")


# Records near the size limit, whose dead-letter copy (plus its error header) would not fit as received.
near_limit_values = st.integers(min_value=DEAD_LETTER_MAX_BYTES - 100, max_value=DEAD_LETTER_MAX_BYTES + 5000).map(
    lambda size: b"{" + b"x" * size)
record_values = st.one_of(st.binary(max_size=200), near_valid_values(), st.none(), near_limit_values)


def consumer_record(offset: int, key, value, record_headers) -> ConsumerRecord:
    return ConsumerRecord(TOPIC, 0, -1, offset, 0, 0, key, value, record_headers, None, 0, 0, 0)


@pytest.fixture(scope="module")
def consumer(stack):
    database = ThrowawayDatabase(stack, "delivery_ms").create()
    env = database.app_env()
    settings = replace(load_settings(), db_host=env["DB_HOST"], db_port=int(env["DB_PORT"]), db_name=env["DB_NAME"],
                       db_user=env["DB_USER"], db_password=env["DB_PASSWORD"])
    worker = new_orders_consumer(settings, client_id="fuzz")
    yield worker, database
    worker.close()
    database.drop()


@settings(max_examples=EXAMPLES, deadline=None, suppress_health_check=[HealthCheck.too_slow,
                                                                      HealthCheck.function_scoped_fixture,
                                                                      HealthCheck.data_too_large])
@given(poison=st.lists(st.tuples(st.one_of(st.none(), st.binary(max_size=60)), record_values, headers),
                       min_size=1, max_size=4))
def test_every_record_becomes_one_delivery_or_a_dead_letter_with_its_reason(consumer, poison):
    worker, database = consumer
    good = [valid_order() for _ in range(2)]
    records = [consumer_record(0, b"good-1", json.dumps(good[0]).encode(), [])]
    records += [
        consumer_record(i + 1, key, value, record_headers) for i, (key, value, record_headers) in enumerate(poison)
    ]
    records.append(consumer_record(len(records), b"good-2", json.dumps(good[1]).encode(), [("event_type", None)]))

    sorted_batch = worker.sort({TopicPartition(TOPIC, 0): records})
    worker.write(sorted_batch)

    accepted = {id(record): event.value for record, event in sorted_batch.accepted}
    dead = {id(letter.record): letter for letter in sorted_batch.dead_letters}
    assert set(accepted).isdisjoint(dead) and len(accepted) + len(dead) == len(records)
    assert id(records[0]) in accepted and id(records[-1]) in accepted, "valid orders beside poison must get through"
    with database.connect() as conn:
        cursor = conn.cursor()
        for order in accepted.values():
            cursor.execute("SELECT COUNT(*), MIN(order_json) FROM delivery_status WHERE order_id = ?",
                           (order["order_id"],))
            count, order_json = cursor.fetchone()
            assert count == 1 and json.loads(order_json)["order_id"] == order["order_id"]
    for letter in dead.values():
        assert letter.error.strip()
        copy = letter.dead_letter_record()
        assert copy.topic == "new_orders.dlq"
        assert record_size(copy.key, copy.value, copy.headers) <= DEAD_LETTER_MAX_BYTES
        assert dict(copy.headers)["error"].decode() == letter.error[:1000]
