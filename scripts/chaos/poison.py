"""Poison for `new_orders`: records no consumer can turn into a delivery, of every kind a broken or hostile
producer may send, each with a unique key so that its copy in `new_orders.dlq` can be found.

They are produced with confluent-kafka (librdkafka), not kafka-python: other producers can send what kafka-python
refuses to (header values that are null, records over its 1 MiB request limit), and the consumer must survive it."""
from __future__ import annotations

import json
import os
import time
import uuid
from dataclasses import dataclass

from confluent_kafka import Producer

from scripts.stack.kafka_access import confluent_login
from services.contracts import order_created

GOOD_HEADERS = [("event_type", b"OrderCreated"), ("schema_version", b"1")]
# kafka-python's default max_request_size and a real Kafka broker's message.max.bytes are both about 1 MiB:
# these values are just under it, so the dead-letter copy (plus its error header) lands right at the limit.
NEAR_LIMIT_SIZES = (1_000_000, 1_048_000, 1_048_400)
DEEP = 5000


@dataclass(frozen=True)
class PoisonRecord:
    kind: str
    key: bytes
    value: bytes | None
    headers: list[tuple[str, bytes | None]]
    # The order_id inside, for poison that looks like an order: it must never become a delivery.
    order_id: str | None = None


def _order(**changes) -> dict:
    order = {"user_id": "poison", "order_id": str(uuid.uuid4()), "coffee_name": "poison", "coffee_price": 1,
             "coffee_qty": 1, "ordered_at": "2026-11-28T15:04:05.123456Z"}
    order.update(changes)
    return {name: value for name, value in order.items() if value is not ...}


# Valid JSON objects that break the contract one field at a time (`...` removes the field).
BAD_FIELDS = [
    {"order_id": "not-a-uuid"}, {"order_id": None}, {"order_id": ...}, {"coffee_qty": True}, {"coffee_qty": 0},
    {"coffee_qty": 101}, {"coffee_price": -1}, {"coffee_price": 10 ** 30}, {"coffee_price": "2000"},
    {"coffee_price": 1.5}, {"coffee_name": ""}, {"coffee_name": "x" * 51}, {"user_id": "bad user!"},
    {"user_id": "u" * 51}, {"ordered_at": "2026-02-30T10:00:00.000000Z"}, {"ordered_at": "yesterday"},
    {"ordered_at": ...}, {"user_id": ["a"]},
]
NOT_OBJECTS = [b'"order"', b"42", b"null", b"[]", b"true", b"1e999", b"{", b"{}}", b'{"a":NaN}']
INVALID_UTF8 = [b'{"order_id":"\xff\xfe"}', b"\xc3\x28", b"\xc0\xaf\xc0\xaf", b'{"coffee_name":"\xed\xa0\x80"}']
DEEP_NESTING = [b"[" * DEEP, b'{"a":' * DEEP, b"[" * DEEP + b"]" * DEEP, b'{"a":' * DEEP + b"1" + b"}" * DEEP]


def _kinds(index: int, key: bytes) -> PoisonRecord:
    """The `index`-th ordinary poison record (the near-limit ones are made separately)."""
    kind = index % 10
    turn = index // 10
    if kind == 0:
        return PoisonRecord("random bytes", key, os.urandom(1 + turn % 2000), GOOD_HEADERS)
    if kind == 1:
        return PoisonRecord("deep nesting", key, DEEP_NESTING[turn % len(DEEP_NESTING)], GOOD_HEADERS)
    if kind == 2:
        return PoisonRecord("invalid UTF-8", key, INVALID_UTF8[turn % len(INVALID_UTF8)], GOOD_HEADERS)
    if kind == 3:
        order = _order(**BAD_FIELDS[turn % len(BAD_FIELDS)])
        order_id = order.get("order_id") if isinstance(order.get("order_id"), str) else None
        return PoisonRecord("bad fields", key, json.dumps(order).encode(), GOOD_HEADERS, order_id)
    if kind == 4:
        # A lone surrogate is valid JSON text but no valid string: it must not reach the database.
        order = _order()
        value = json.dumps(order).replace('"coffee_name": "poison"', '"coffee_name": "\\ud800"').encode()
        return PoisonRecord("lone surrogate", key, value, GOOD_HEADERS, order["order_id"])
    if kind == 5:
        return PoisonRecord("not an object", key, NOT_OBJECTS[turn % len(NOT_OBJECTS)], GOOD_HEADERS)
    if kind == 6:
        # Null header values, as the Kafka protocol allows, on a body that is no order.
        headers = [("event_type", None), ("schema_version", None), ("event_id", None)]
        return PoisonRecord("null headers", key, b"{}", headers)
    if kind == 7:
        order = _order()
        headers = [[("event_type", b"OrderCancelled"), ("schema_version", b"1")],
                   [("event_type", b"OrderCreated"), ("schema_version", b"2")],
                   [("event_type", b"\xff\xfe"), ("schema_version", b"1")]][turn % 3]
        return PoisonRecord("another contract", key, json.dumps(order).encode(), headers, order["order_id"])
    if kind == 8:
        return PoisonRecord("empty value", key, [b"", None][turn % 2], GOOD_HEADERS)
    # Many headers, a key that is not UTF-8: the dead-letter copy must keep them as received.
    return PoisonRecord("odd key and headers", b"\xff\xfe" + key, b"not json",
                        GOOD_HEADERS + [(f"h{i}", os.urandom(64)) for i in range(100)])


def poison_records(run_id: str, count: int, near_limit: int) -> list[PoisonRecord]:
    """`count` poison records, `near_limit` of them with values just under 1 MiB, spread through the others."""
    keys = [f"poison-{run_id}-{i:05d}".encode() for i in range(count)]
    huge_at = {round((i + 0.5) * count / near_limit) for i in range(near_limit)} if near_limit else set()
    records = []
    for index, key in enumerate(keys):
        if index in huge_at:
            size = NEAR_LIMIT_SIZES[len([i for i in huge_at if i < index]) % len(NEAR_LIMIT_SIZES)]
            records.append(PoisonRecord("near 1 MiB", key, b'{"pad":"' + b"a" * (size - 10) + b'"}', GOOD_HEADERS))
        else:
            records.append(_kinds(index, key))
    return records


class PoisonProducer:
    """Sends poison to `new_orders` with acks=all, paced, and remembers which records the broker refused."""

    def __init__(self, kafka_servers: str, login: dict[str, str]):
        self._producer = Producer({"bootstrap.servers": kafka_servers, "acks": "all", "linger.ms": 5,
                                   "enable.idempotence": False, "message.max.bytes": 8 * 1024 * 1024,
                                   **confluent_login(login)})
        self.refused: dict[bytes, str] = {}

    def _delivered(self, error, message) -> None:
        if error is not None:
            self.refused[message.key()] = str(error)

    def send_paced(self, records: list[PoisonRecord], seconds: float) -> None:
        """Spreads `records` evenly over `seconds` (interleaved with the orders placed meanwhile)."""
        start = time.monotonic()
        for index, record in enumerate(records):
            # Pacing: the records' schedule, not a wait for the system under test.
            time.sleep(max(0.0, start + index * seconds / len(records) - time.monotonic()))
            self._producer.produce(order_created.TOPIC, key=record.key, value=record.value, headers=record.headers,
                                   on_delivery=self._delivered)
            self._producer.poll(0)
        left = self._producer.flush(30)
        if left:
            raise TimeoutError(f"{left} poison records were not acknowledged within 30 s")

    def close(self) -> None:
        self._producer.close()
