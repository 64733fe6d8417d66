"""The delivery relay process: publishes `delivery_outbox` to `delivery_status`
(`python -m services.delivery_ms.relay`)."""

from services.delivery_ms.settings import get_settings
from services.delivery_ms.store import DELIVERY_OUTBOX
from services.platform.outbox import OutboxRelay
from services.platform.worker import run_worker

if __name__ == "__main__":
    run_worker("delivery-relay", get_settings(),
               lambda settings: OutboxRelay(settings, DELIVERY_OUTBOX, "delivery-relay"))
