"""Runs the consumer process: `python -m services.consumer` (metrics on METRICS_PORT, exits 0 on SIGTERM)."""
from __future__ import annotations

from services.common.logs import configure_logging
from services.common.metrics import serve_metrics
from services.common.settings import get_settings
from services.consumer.worker import DeliveryConsumer


def main() -> None:
    settings = get_settings()
    configure_logging("consumer", settings.log_level)
    serve_metrics(settings.metrics_port)
    DeliveryConsumer(settings).run()


if __name__ == "__main__":
    main()
