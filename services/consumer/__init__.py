"""The `new_orders` consumer: turns every order into exactly one delivery (`python -m services.consumer`)."""
