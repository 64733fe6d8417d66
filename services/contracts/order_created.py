"""`OrderCreated` v1 on `new_orders`: key order_id, value the order exactly as order-ms's API shows it.

Unusable records are dead-lettered to `new_orders.dlq` as received, plus an `error` header."""
from __future__ import annotations

from datetime import datetime

from services.contracts.envelope import InvalidEvent, Message, check_envelope, decode_object
from services.platform.fields import Field

TOPIC = "new_orders"
DEAD_LETTER_TOPIC = "new_orders.dlq"
EVENT_TYPE = "OrderCreated"
SCHEMA_VERSION = 1

UUID_PATTERN = r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}"
# [0-9] rather than \d: \d also matches other scripts' digits.
TIMESTAMP_PATTERN = r"[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}\.[0-9]{6}Z"
TIMESTAMP_FORMAT = "%Y-%m-%dT%H:%M:%S.%fZ"

USER_ID = Field(str, pattern=r"[A-Za-z0-9_-]{1,50}", rule="1-50 letters, digits, '_' or '-'",
                description="The customer who ordered.", example="USER0001")
ORDER_ID = Field(str, pattern=UUID_PATTERN, rule="a lowercase UUID with dashes",
                 description="The order's id, made by order-ms.", example="5f0c4c7e-2b1d-4c1e-9a35-2f6a8f1f2b3c")
COFFEE_NAME = Field(str, min_length=1, max_length=50, rule="a string of 1-50 characters", example="jslee")
COFFEE_PRICE = Field(int, minimum=0, maximum=1_000_000, rule="an integer from 0 to 1000000", example=2000)
COFFEE_QTY = Field(int, minimum=1, maximum=100, rule="an integer from 1 to 100", example=6)
ORDERED_AT = Field(str, pattern=TIMESTAMP_PATTERN, rule="an ISO-8601 UTC time with microseconds",
                   description="When order-ms accepted the order.", example="2026-11-28T15:04:05.123456Z")

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
        datetime.strptime(order["ordered_at"], TIMESTAMP_FORMAT)
    except ValueError:
        raise InvalidEvent("ordered_at is not a real date and time") from None
    return order
