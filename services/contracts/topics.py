"""Every published topic and its default partition count (the local stack and the chart create them)."""
from services.contracts import account_tokens_revoked, delivery_status_changed, order_created

# new_orders and delivery_status are keyed by order_id: partitions bound the consumers of a group.
TOPIC_PARTITIONS = {
    order_created.TOPIC: 3,
    order_created.DEAD_LETTER_TOPIC: 1,
    delivery_status_changed.TOPIC: 3,
    delivery_status_changed.DEAD_LETTER_TOPIC: 1,
    # Keyed by user_id; delivery-ms's consumer reads it in the group that reads new_orders.
    account_tokens_revoked.TOPIC: 3,
    account_tokens_revoked.DEAD_LETTER_TOPIC: 1,
}
# Topic settings other than the broker's defaults, applied when a topic is created.
TOPIC_CONFIGS = {account_tokens_revoked.TOPIC: account_tokens_revoked.TOPIC_CONFIG}
