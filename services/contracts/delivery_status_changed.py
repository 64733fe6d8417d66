"""`DeliveryStatusChanged` v1 on `delivery_status`: key order_id (one order's changes stay in order on one
partition), value the change with the status before and after."""
from __future__ import annotations

from dataclasses import replace
from enum import StrEnum

from services.contracts.envelope import Message, check_envelope, decode_object
from services.contracts.identifiers import ORDER_ID, TIMESTAMP, UUID
from services.platform.fields import Field

TOPIC = "delivery_status"
EVENT_TYPE = "DeliveryStatusChanged"
SCHEMA_VERSION = 1


class DeliveryStatus(StrEnum):
    """Every status a delivery can have; delivery-ms decides which moves are allowed."""

    CONFIRMED = "CONFIRMED"
    IN_DELIVERY = "IN_DELIVERY"
    COMPLETED = "COMPLETED"
    CANCELED = "CANCELED"


STATUS_NAMES = tuple(status.value for status in DeliveryStatus)

DELIVERY_ID = replace(UUID, description="The delivery's id, made by delivery-ms.",
                      example="0b6f1e8e-6a4e-4c61-8a57-3d1f2a9c7e10")
STATUS = Field(str, choices=STATUS_NAMES, rule=f"one of {', '.join(STATUS_NAMES)}", example="IN_DELIVERY")
UPDATED_AT = replace(TIMESTAMP, example="2026-11-28T15:09:41.000321Z")

FIELDS = {
    "delivery_id": DELIVERY_ID,
    "order_id": ORDER_ID,
    "status": STATUS,
    "previous_status": STATUS,
    "updated_at": UPDATED_AT,
}


def build(change: dict) -> Message:
    value = {name: change[name] for name in FIELDS}
    return Message(topic=TOPIC, key=change["order_id"], value=value, event_type=EVENT_TYPE,
                   schema_version=SCHEMA_VERSION)


def parse(raw_value: bytes | None, headers: list[tuple[str, bytes | None]] | None = None) -> dict:
    check_envelope(headers, EVENT_TYPE, SCHEMA_VERSION)
    return decode_object(raw_value, FIELDS)
