"""The message contracts in one place: topic names, keys, value fields, headers and their versions."""
from __future__ import annotations

import json
import uuid
from dataclasses import dataclass

TOPIC_NEW_ORDERS = "new_orders"
TOPIC_NEW_ORDERS_DLQ = "new_orders.dlq"
TOPIC_DELIVERY_STATUS = "delivery_status"
ALL_TOPICS = (TOPIC_NEW_ORDERS, TOPIC_NEW_ORDERS_DLQ, TOPIC_DELIVERY_STATUS)

HEADER_EVENT_ID = "event_id"
HEADER_EVENT_TYPE = "event_type"
HEADER_SCHEMA_VERSION = "schema_version"
HEADER_ERROR = "error"

ORDER_CREATED = "OrderCreated"
ORDER_CREATED_VERSION = 1
ORDER_FIELDS = ("user_id", "order_id", "coffee_name", "coffee_price", "coffee_qty", "ordered_at")

DELIVERY_STATUS_CHANGED = "DeliveryStatusChanged"
DELIVERY_STATUS_CHANGED_VERSION = 1
DELIVERY_STATUS_FIELDS = ("delivery_id", "order_id", "status", "previous_status", "updated_at")


class InvalidEvent(ValueError):
    """A message that does not follow its contract; it goes to the dead-letter topic."""


@dataclass(frozen=True)
class Message:
    """One message ready for the broker: what the outbox stores and the relay publishes."""

    event_id: str
    topic: str
    key: str
    value: dict
    headers: dict[str, str]

    def kafka_headers(self) -> list[tuple[str, bytes]]:
        return [(name, value.encode()) for name, value in self.headers.items()]

    def value_bytes(self) -> bytes:
        return json.dumps(self.value, separators=(",", ":")).encode()


def _message(topic: str, key: str, event_type: str, version: int, value: dict) -> Message:
    event_id = str(uuid.uuid4())
    headers = {HEADER_EVENT_ID: event_id, HEADER_EVENT_TYPE: event_type, HEADER_SCHEMA_VERSION: str(version)}
    return Message(event_id=event_id, topic=topic, key=key, value=value, headers=headers)


def order_created(order: dict) -> Message:
    """`new_orders`, key order_id, value exactly the order as the API shows it."""
    value = {field: order[field] for field in ORDER_FIELDS}
    return _message(TOPIC_NEW_ORDERS, order["order_id"], ORDER_CREATED, ORDER_CREATED_VERSION, value)


def delivery_status_changed(change: dict) -> Message:
    """`delivery_status`, key order_id, so one order's changes stay in order on one partition."""
    value = {field: change[field] for field in DELIVERY_STATUS_FIELDS}
    return _message(TOPIC_DELIVERY_STATUS, change["order_id"], DELIVERY_STATUS_CHANGED,
                    DELIVERY_STATUS_CHANGED_VERSION, value)


def parse_order_created(raw_value: bytes | None) -> dict:
    """The order carried by a `new_orders` message; InvalidEvent says why it cannot be used."""
    if raw_value is None:
        raise InvalidEvent("message has no value")
    try:
        value = json.loads(raw_value)
    except (ValueError, UnicodeDecodeError) as exc:
        raise InvalidEvent(f"value is not JSON: {exc}") from None
    if not isinstance(value, dict):
        raise InvalidEvent("value is not a JSON object")
    missing = [field for field in ORDER_FIELDS if field not in value]
    if missing:
        raise InvalidEvent(f"missing fields: {', '.join(missing)}")
    try:
        uuid.UUID(str(value["order_id"]))
    except ValueError:
        raise InvalidEvent("order_id is not a UUID") from None
    return {field: value[field] for field in ORDER_FIELDS}


def headers_dict(kafka_headers: list[tuple[str, bytes]] | None) -> dict[str, str]:
    return {name: (value or b"").decode("utf-8", "replace") for name, value in (kafka_headers or [])}
