"""delivery-ms's `new_orders` consumer: every order becomes exactly one CONFIRMED delivery, and what is no order
goes to `new_orders.dlq` (`python -m services.delivery_ms.consumer`, its own container from the delivery image)."""
from __future__ import annotations

from services.contracts import order_created
from services.contracts.envelope import InvalidEvent
from services.delivery_ms import store
from services.delivery_ms.settings import DeliverySettings
from services.platform.consumer import BatchConsumer, Subscription


def new_orders_consumer(settings: DeliverySettings, client_id: str = "delivery-consumer") -> BatchConsumer:
    subscription = Subscription(topic=order_created.TOPIC, group=settings.consumer_group,
                                dead_letter_topic=order_created.DEAD_LETTER_TOPIC,
                                parse=order_created.parse, invalid=(InvalidEvent,), write=store.insert_deliveries)
    return BatchConsumer(settings, subscription, client_id, stall_seconds=settings.consumer_stall_seconds)
