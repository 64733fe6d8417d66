"""delivery-ms's `new_orders` consumer: turns every order into exactly one delivery
(`python -m services.delivery_ms.consumer`, its own container from the delivery image)."""
