"""delivery-ms's `new_orders` consumer: every order becomes exactly one delivery, a customer's cancel request is
carried out or refused, and what is neither goes to `new_orders.dlq` (`python -m services.delivery_ms.consumer`,
its own container from the delivery image). What each event does: services/delivery_ms/lifecycle.py."""
from __future__ import annotations

from services.contracts import order_cancel_requested, order_created
from services.contracts.envelope import InvalidEvent, parse_by_event_type
from services.delivery_ms import store
from services.delivery_ms.settings import DeliverySettings
from services.platform.consumer import BatchConsumer, Subscription

# A record without an event_type header is an OrderCreated, as every record was before cancels existed.
parse_new_orders_event = parse_by_event_type(
    {order_created.EVENT_TYPE: order_created.parse, order_cancel_requested.EVENT_TYPE: order_cancel_requested.parse},
    untyped=order_created.EVENT_TYPE)


def new_orders_consumer(settings: DeliverySettings, client_id: str = "delivery-consumer") -> BatchConsumer:
    # The consumer writes delivery events too: it wakes the delivery relay after each commit, as the API does.
    store.DELIVERY_OUTBOX.wake_relay_at(settings.relay_wakeup_address)
    subscription = Subscription(topic=order_created.TOPIC, group=settings.consumer_group,
                                dead_letter_topic=order_created.DEAD_LETTER_TOPIC,
                                parse=parse_new_orders_event, invalid=(InvalidEvent,), write=store.apply_order_events)
    return BatchConsumer(settings, subscription, client_id, stall_seconds=settings.consumer_stall_seconds)
