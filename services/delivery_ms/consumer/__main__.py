"""Runs the consumer process: `python -m services.delivery_ms.consumer` (metrics on METRICS_PORT, exits 0 on
SIGTERM)."""

from services.delivery_ms.consumer import new_orders_consumer
from services.delivery_ms.settings import get_settings
from services.platform.worker import run_worker

if __name__ == "__main__":
    run_worker("consumer", get_settings(), new_orders_consumer)
