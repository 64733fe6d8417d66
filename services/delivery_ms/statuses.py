"""The moves staff may make between delivery statuses (the statuses themselves are in the event contract)."""
from __future__ import annotations

from services.contracts.delivery_status_changed import STATUS_NAMES, DeliveryStatus

__all__ = ["DeliveryStatus", "STATUS_NAMES", "MoveNotAllowed", "next_statuses", "move_allowed", "check_move"]

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


class MoveNotAllowed(Exception):
    """The delivery cannot go from its current status to the wanted one."""

    def __init__(self, current: str, wanted: str):
        super().__init__(f"{current} -> {wanted}")
        self.current = current
        self.wanted = wanted
        self.allowed = next_statuses(current)


def check_move(current: str, wanted: str) -> None:
    """Raises MoveNotAllowed unless a delivery in `current` may be set to `wanted`."""
    if not move_allowed(current, wanted):
        raise MoveNotAllowed(current, wanted)
