"""The delivery outbox relay process: publishes `delivery_outbox` rows to `delivery_status` (`python -m services.delivery_ms.relay`)."""
from __future__ import annotations

from services.common.logs import configure_logging
from services.common.metrics import serve_metrics
from services.common.outbox import OutboxRelay
from services.common.settings import get_settings


def main() -> None:
    settings = get_settings()
    configure_logging("delivery-relay", settings.log_level)
    serve_metrics(settings.metrics_port)
    OutboxRelay(settings, "delivery_outbox", client_id="delivery-relay").run()


if __name__ == "__main__":
    main()
