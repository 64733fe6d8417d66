"""order-ms's `delivery_status` consumer: keeps each order's delivery and cancel outcome in the read model, and
sends what it cannot use to `delivery_status.dlq` (`python -m services.order_ms.status_consumer`, its own container
from the order image)."""
from __future__ import annotations

from services.contracts import delivery_status_changed, order_cancel_refused
from services.contracts.envelope import InvalidEvent, TypedEvent, parse_by_event_type
from services.order_ms import read_model
from services.order_ms.settings import OrderSettings
from services.platform.consumer import BatchConsumer, Subscription
from services.platform.timefmt import parse_iso_utc

# Both contracts of delivery_status; a record without an event_type header is a DeliveryStatusChanged, as before.
_parse_either = parse_by_event_type({delivery_status_changed.EVENT_TYPE: delivery_status_changed.parse,
                                     order_cancel_refused.EVENT_TYPE: order_cancel_refused.parse},
                                    untyped=delivery_status_changed.EVENT_TYPE)
# The times the read model stores, by event type.
TIMES = {delivery_status_changed.EVENT_TYPE: ("updated_at",), order_cancel_refused.EVENT_TYPE: ("refused_at",)}


def parse_status_event(raw_value: bytes | None, headers: list | None = None) -> TypedEvent:
    """A delivery_status record as its contract's event, or InvalidEvent. A time the contract's pattern lets through
    but no calendar has (month 13) is refused here, so it is dead-lettered rather than retried forever."""
    event = _parse_either(raw_value, headers)
    for name in TIMES[event.event_type]:
        try:
            parse_iso_utc(event.value[name])
        except ValueError:
            raise InvalidEvent(f"{name} {event.value[name]!r} is not a real time") from None
    return event


def delivery_status_consumer(settings: OrderSettings, client_id: str = "order-status-consumer") -> BatchConsumer:
    subscription = Subscription(topic=delivery_status_changed.TOPIC, group=settings.status_consumer_group,
                                dead_letter_topic=delivery_status_changed.DEAD_LETTER_TOPIC, parse=parse_status_event,
                                invalid=(InvalidEvent,), write=read_model.apply_status_events)
    return BatchConsumer(settings, subscription, client_id, stall_seconds=settings.consumer_stall_seconds)
