"""The order outbox relay process: publishes `order_outbox` rows to `new_orders` (`python -m services.order_ms.relay`)."""
from __future__ import annotations

from services.common.logs import configure_logging
from services.common.metrics import serve_metrics
from services.common.outbox import OutboxRelay
from services.common.settings import get_settings


def main() -> None:
    settings = get_settings()
    configure_logging("order-relay", settings.log_level)
    serve_metrics(settings.metrics_port)
    OutboxRelay(settings, "order_outbox", client_id="order-relay").run()


if __name__ == "__main__":
    main()
