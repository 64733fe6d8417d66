"""Runs the status consumer process: `python -m services.order_ms.status_consumer` (metrics on METRICS_PORT, exits
0 on SIGTERM)."""

from services.order_ms.settings import get_settings
from services.order_ms.status_consumer import delivery_status_consumer
from services.platform.worker import run_worker

if __name__ == "__main__":
    run_worker("order-status-consumer", get_settings(), delivery_status_consumer)
