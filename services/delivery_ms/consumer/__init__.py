"""delivery-ms's consumer: every order of `new_orders` becomes exactly one CONFIRMED delivery, and what is no order
goes to `new_orders.dlq`; every account's token version of `account_versions` is kept for revocation (what is none
goes to `account_versions.dlq`). `python -m services.delivery_ms.consumer`, its own container from the delivery
image: one process and one group for both topics."""
from __future__ import annotations

from services.contracts import account_tokens_revoked, order_created
from services.contracts.envelope import InvalidEvent
from services.delivery_ms import store
from services.delivery_ms.settings import DeliverySettings
from services.platform.consumer import BatchConsumer, Subscription


def new_orders_consumer(settings: DeliverySettings, client_id: str = "delivery-consumer") -> BatchConsumer:
    subscription = Subscription(topic=order_created.TOPIC, group=settings.consumer_group,
                                dead_letter_topic=order_created.DEAD_LETTER_TOPIC,
                                parse=order_created.parse, invalid=(InvalidEvent,), write=store.insert_deliveries)
    return BatchConsumer(settings, [subscription, account_versions_subscription(settings)], client_id,
                         stall_seconds=settings.consumer_stall_seconds)


def account_versions_subscription(settings: DeliverySettings) -> Subscription:
    return Subscription(topic=account_tokens_revoked.TOPIC, group=settings.consumer_group,
                        dead_letter_topic=account_tokens_revoked.DEAD_LETTER_TOPIC, parse=account_tokens_revoked.parse,
                        invalid=(InvalidEvent,), write=store.record_token_versions)
