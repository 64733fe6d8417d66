"""The order relay process: publishes `order_outbox` to `new_orders`, and beside it the reconciler that publishes
overdue orders again (`python -m services.order_ms.relay`)."""
from services.order_ms.reconciler import OverdueOrderReconciler
from services.order_ms.settings import get_settings
from services.order_ms.store import ORDER_OUTBOX
from services.platform.outbox import OutboxRelay
from services.platform.worker import run_worker

if __name__ == "__main__":
    run_worker("order-relay", get_settings(), lambda settings: OutboxRelay(settings, ORDER_OUTBOX, "order-relay"),
               OverdueOrderReconciler)
