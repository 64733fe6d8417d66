"""The order outbox relay process: publishes `order_outbox` rows to `new_orders` (`python -m services.order_ms.relay`)."""
from services.common.outbox import run_relay_process

if __name__ == "__main__":
    run_relay_process("order-relay", "order_outbox")
