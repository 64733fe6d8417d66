"""Delivery statuses and the moves staff may make between them."""
from __future__ import annotations

from enum import StrEnum


class DeliveryStatus(StrEnum):
    CONFIRMED = "CONFIRMED"
    IN_DELIVERY = "IN_DELIVERY"
    COMPLETED = "COMPLETED"
    CANCELED = "CANCELED"


STATUS_NAMES = tuple(status.value for status in DeliveryStatus)

_NEXT_STATUSES = {
    DeliveryStatus.CONFIRMED: (DeliveryStatus.IN_DELIVERY, DeliveryStatus.COMPLETED, DeliveryStatus.CANCELED),
    DeliveryStatus.IN_DELIVERY: (DeliveryStatus.COMPLETED, DeliveryStatus.CANCELED),
    DeliveryStatus.COMPLETED: (),
    DeliveryStatus.CANCELED: (),
}


def next_statuses(current: str) -> tuple[DeliveryStatus, ...]:
    """The statuses a delivery may move to from `current` (empty once it is final)."""
    return _NEXT_STATUSES[DeliveryStatus(current)]


def move_allowed(current: str, wanted: str) -> bool:
    """Setting the current status again is allowed: it is a no-op, so retries are safe."""
    return wanted == current or DeliveryStatus(wanted) in next_statuses(current)
