"""`OrderCancelRefused` v1 on `delivery_status`: delivery-ms refused a customer's cancel request because staff had
already moved the delivery on. Key order_id (after the change that made the cancel too late, on one partition).

A cancel that succeeds is no event of its own: it is the delivery's `DeliveryStatusChanged` to CANCELED."""
from __future__ import annotations

from dataclasses import replace

from services.contracts.delivery_status_changed import DELIVERY_ID, STATUS, VERSION
from services.contracts.envelope import Message, check_envelope, decode_object
from services.contracts.identifiers import ORDER_ID, TIMESTAMP
from services.platform.fields import Field

TOPIC = "delivery_status"
EVENT_TYPE = "OrderCancelRefused"
SCHEMA_VERSION = 1

REASON = Field(str, min_length=1, max_length=200, rule="a string of 1-200 characters",
               description="Why, in words a customer can read.",
               example="The delivery is already IN_DELIVERY; only a CONFIRMED delivery can be canceled.")
REFUSED_AT = replace(TIMESTAMP, description="When delivery-ms refused.", example="2026-11-28T15:06:00.250000Z")

FIELDS = {
    "delivery_id": DELIVERY_ID,
    "order_id": ORDER_ID,
    "status": replace(STATUS, description="The delivery's status when the request arrived."),
    "version": replace(VERSION, description="The delivery's version when the request arrived."),
    "reason": REASON,
    "refused_at": REFUSED_AT,
}


def build(refusal: dict) -> Message:
    value = {name: refusal[name] for name in FIELDS}
    return Message(topic=TOPIC, key=refusal["order_id"], value=value, event_type=EVENT_TYPE,
                   schema_version=SCHEMA_VERSION)


def parse(raw_value: bytes | None, headers: list[tuple[str, bytes | None]] | None = None) -> dict:
    check_envelope(headers, EVENT_TYPE, SCHEMA_VERSION)
    return decode_object(raw_value, FIELDS)
