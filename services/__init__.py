"""Coffee Order services: order-ms, delivery-ms, the consumer and the outbox relays."""
