"""`DeliveryStatusChanged` v1 on `delivery_status`: key order_id (one order's changes stay in order on one
partition), value the change with the status before and after.

delivery-ms publishes one when it creates a delivery (`previous_status` null, `version` 1) and one for every move
after that (`version` one higher each time). A reader keeps the highest version it has applied per delivery and
ignores anything not higher: a late, replayed or re-published event never moves a delivery backwards.
Unusable records are dead-lettered to `delivery_status.dlq` as received, plus an `error` header."""
from __future__ import annotations

from dataclasses import replace
from enum import StrEnum

from services.contracts.envelope import Message, check_envelope, decode_object
from services.contracts.identifiers import ORDER_ID, TIMESTAMP, UUID
from services.platform.fields import Field

TOPIC = "delivery_status"
DEAD_LETTER_TOPIC = "delivery_status.dlq"
EVENT_TYPE = "DeliveryStatusChanged"
# Still 1: `version` was added and `previous_status` may now be null (a new delivery); no field changed meaning.
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
PREVIOUS_STATUS = replace(STATUS, required=False, example="CONFIRMED",
                          description="The status before this change; null when the delivery was just created "
                                      "(and in a re-published state whose change predates the change log).")
UPDATED_AT = replace(TIMESTAMP, example="2026-11-28T15:09:41.000321Z")
VERSION = Field(int, minimum=1, maximum=2**31 - 1, rule="an integer from 1 to 2147483647", example=2,
                description="1 when the delivery is created, one higher with every change: apply only a higher one.")

FIELDS = {
    "delivery_id": DELIVERY_ID,
    "order_id": ORDER_ID,
    "status": STATUS,
    "previous_status": PREVIOUS_STATUS,
    "updated_at": UPDATED_AT,
    "version": VERSION,
}


def build(change: dict) -> Message:
    value = {name: change[name] for name in FIELDS}
    return Message(topic=TOPIC, key=change["order_id"], value=value, event_type=EVENT_TYPE,
                   schema_version=SCHEMA_VERSION)


def parse(raw_value: bytes | None, headers: list[tuple[str, bytes | None]] | None = None) -> dict:
    check_envelope(headers, EVENT_TYPE, SCHEMA_VERSION)
    change = decode_object(raw_value, FIELDS)
    change.setdefault("previous_status", None)
    return change
