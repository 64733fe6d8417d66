"""`OrderCancelRequested` v1 on `new_orders`: a customer asked to cancel an order. Key order_id, like the order's
`OrderCreated`, so on its partition it always comes after the order's creation and can never overtake it.

The value is the order as `OrderCreated` carries it plus `requested_at`: delivery-ms can cancel an order whose
creation event it never received (it then records the delivery as CANCELED at once). delivery-ms answers on
`delivery_status`: a `DeliveryStatusChanged` to CANCELED, or an `OrderCancelRefused` with the reason."""
from __future__ import annotations

from dataclasses import replace

from services.contracts import order_created
from services.contracts.envelope import Message, check_envelope, decode_object
from services.contracts.identifiers import TIMESTAMP

TOPIC = order_created.TOPIC
DEAD_LETTER_TOPIC = order_created.DEAD_LETTER_TOPIC
EVENT_TYPE = "OrderCancelRequested"
SCHEMA_VERSION = 1

REQUESTED_AT = replace(TIMESTAMP, description="When order-ms accepted the customer's cancel request.",
                       example="2026-11-28T15:06:00.000000Z")

FIELDS = {**order_created.FIELDS, "requested_at": REQUESTED_AT}


def build(order: dict, requested_at: str) -> Message:
    """The event for a cancel request of `order` (a dict with at least OrderCreated's fields)."""
    value = {name: order[name] for name in order_created.FIELDS} | {"requested_at": requested_at}
    return Message(topic=TOPIC, key=order["order_id"], value=value, event_type=EVENT_TYPE,
                   schema_version=SCHEMA_VERSION)


def parse(raw_value: bytes | None, headers: list[tuple[str, bytes | None]] | None = None) -> dict:
    check_envelope(headers, EVENT_TYPE, SCHEMA_VERSION)
    return decode_object(raw_value, FIELDS)
