"""The moves staff may make between delivery statuses (the statuses themselves are in the event contract)."""
from __future__ import annotations

from services.contracts.delivery_status_changed import STATUS_NAMES, DeliveryStatus

__all__ = ["DeliveryStatus", "STATUS_NAMES", "next_statuses", "move_allowed"]

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
