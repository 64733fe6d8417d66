"""`OrderCreated` v1 on `new_orders`: key order_id, value the order exactly as order-ms's API shows it.

Unusable records are dead-lettered to `new_orders.dlq` as received, plus an `error` header."""
from __future__ import annotations

from dataclasses import replace

from services.contracts.envelope import InvalidEvent, Message, check_envelope, decode_object
from services.contracts.identifiers import ORDER_ID, TIMESTAMP, USER_ID
from services.platform.fields import Field
from services.platform.timefmt import parse_iso_utc

TOPIC = "new_orders"
DEAD_LETTER_TOPIC = "new_orders.dlq"
EVENT_TYPE = "OrderCreated"
SCHEMA_VERSION = 1

COFFEE_NAME = Field(str, min_length=1, max_length=50, rule="a string of 1-50 characters", example="jslee")
COFFEE_PRICE = Field(int, minimum=0, maximum=1_000_000, rule="an integer from 0 to 1000000", example=2000)
COFFEE_QTY = Field(int, minimum=1, maximum=100, rule="an integer from 1 to 100", example=6)
ORDERED_AT = replace(TIMESTAMP, description="When order-ms accepted the order.", example="2026-11-28T15:04:05.123456Z")

# The value's fields, in the order they are serialised.
FIELDS = {
    "user_id": USER_ID,
    "order_id": ORDER_ID,
    "coffee_name": COFFEE_NAME,
    "coffee_price": COFFEE_PRICE,
    "coffee_qty": COFFEE_QTY,
    "ordered_at": ORDERED_AT,
}


def build(order: dict) -> Message:
    """The event for a new order (a dict with at least FIELDS)."""
    value = {name: order[name] for name in FIELDS}
    return Message(topic=TOPIC, key=order["order_id"], value=value, event_type=EVENT_TYPE,
                   schema_version=SCHEMA_VERSION)


def parse(raw_value: bytes | None, headers: list[tuple[str, bytes | None]] | None = None) -> dict:
    """The order in a `new_orders` record, checked against the contract; InvalidEvent says why not."""
    check_envelope(headers, EVENT_TYPE, SCHEMA_VERSION)
    order = decode_object(raw_value, FIELDS)
    try:
        parse_iso_utc(order["ordered_at"])
    except ValueError:
        raise InvalidEvent("ordered_at is not a real date and time") from None
    return order
